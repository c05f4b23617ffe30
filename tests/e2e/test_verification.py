"""Identity verification end to end: Pro Santé Connect (simulated), refusal, administrator
review, revocation — each seen by the practitioner in their encrypted DM with the bot."""

from __future__ import annotations

import json

import aiohttp
import pytest
from nio import RoomCreateError, RoomCreateResponse
from sqlalchemy import select

from bridge.verification.models import AuditEntry
from tests.e2e import psc_flow
from tests.e2e.harness import wait
from tests.e2e.matrix_client import TestClient

pytestmark = pytest.mark.e2e

CAMILLE = dict(first_name="Camille", last_name="Bernard", declared="10001045367")


async def onboarding(stack, prefix: str, **account):
    if account.get("declared"):
        await stack.free_national_id("8" + account["declared"])
    client = await stack.practitioner(prefix, verified=False, **account)
    room_id = await stack.onboarding_dm(client)
    return client, room_id


async def state_of(stack, user_id: str) -> str:
    account = await stack.service.verification.account(user_id)
    return account.verification_state


async def display_name(stack, client) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{stack.settings.synapse.url}/_matrix/client/v3/profile/{client.user_id}/displayname",
            headers={"Authorization": f"Bearer {client.client.access_token}"},
        ) as response:
            return (await response.json()).get("displayname", "")


async def test_pro_sante_connect_verifies_then_colleagues_can_talk(stack):
    camille, dm = await onboarding(stack, "camille", **CAMILLE)
    colleague = await stack.practitioner("colleague", verified=True)
    refused_at = len(camille.messages)
    before = await camille.client.room_create(invite=[colleague.user_id])
    assert isinstance(before, RoomCreateError)
    # the bot explains the refusal in the conversation (#16 item 7b) before anything else
    notice = await camille.next_message_from(stack.bot_id, dm, refused_at, 30)
    assert "n'a pas abouti" in notice.body and "!verifier" in notice.body

    answer = await camille.ask(dm, stack.bot_id, "!verifier")
    assert "Pro Santé Connect" in answer.body and answer.decrypted
    link = psc_flow.link_in(answer.body)
    mark = len(camille.messages)
    status, page, callback = await psc_flow.follow(link, identity=0)
    assert status == 200 and "Identité vérifiée" in page
    assert await state_of(stack, camille.user_id) == "verified"
    told = await camille.next_message_from(stack.bot_id, dm, mark)
    assert "vérifiée" in told.body
    assert await display_name(stack, camille) == "Camille BERNARD"
    account = await stack.service.verification.account(camille.user_id)
    assert account.national_id == "810001045367"

    after = await camille.client.room_create(invite=[colleague.user_id])
    assert isinstance(after, RoomCreateResponse), after
    # the link and the callback are single use
    assert (await psc_flow.get(link))[0] == 410
    assert (await psc_flow.get(callback))[0] == 400


async def test_userinfo_as_signed_jwt_and_hs256_tokens_are_accepted(stack):
    simulator = stack.service.services.psc_simulator
    simulator.userinfo_as_jwt, simulator.signing = True, "HS256"
    try:
        camille, dm = await onboarding(stack, "camille", **CAMILLE)
        link = psc_flow.link_in((await camille.ask(dm, stack.bot_id, "!verify")).body)
        status, page, _ = await psc_flow.follow(link, identity=0)
    finally:
        simulator.userinfo_as_jwt, simulator.signing = False, "RS256"
    assert status == 200, page
    assert await state_of(stack, camille.user_id) == "verified"


@pytest.mark.parametrize("tamper", ["expired", "wrong_aud", "wrong_iss", "wrong_nonce",
                                    "wrong_acr", "alg_none", "bad_signature"])
async def test_forged_id_tokens_are_refused(stack, tamper):
    simulator = stack.service.services.psc_simulator
    camille, dm = await onboarding(stack, "camille", **CAMILLE)
    link = psc_flow.link_in((await camille.ask(dm, stack.bot_id, "!verifier")).body)
    simulator.tamper = tamper
    try:
        status, page, _ = await psc_flow.follow(link, identity=0)
    finally:
        simulator.tamper = None
    assert status == 400 and "Jeton d'identité refusé" in page
    assert await state_of(stack, camille.user_id) == "unverified"


async def test_foreign_or_replayed_state_and_bad_links_are_refused(stack):
    base = stack.settings.service.url
    status, page = await psc_flow.get(f"{base}/verification/psc/callback?code=x&state=forged")
    assert status == 400 and "Session inconnue" in page
    status, page = await psc_flow.get(f"{base}/verification/psc?t=not-a-link")
    assert status == 410
    status, page = await psc_flow.get(f"{base}/verification/psc")
    assert status == 410


async def test_mismatch_is_refused_then_an_administrator_approves(stack):
    # declared as Camille Bernard, but proves to be Isabelle Donnat-Gady
    camille, dm = await onboarding(stack, "camille", first_name="Camille", last_name="Bernard")
    link = psc_flow.link_in((await camille.ask(dm, stack.bot_id, "!verifier")).body)
    mark = len(camille.messages)
    status, page, _ = await psc_flow.follow(link, identity=1)
    assert status == 403 and "!verifier manuel" in page and "ne correspondent pas" in page
    assert await state_of(stack, camille.user_id) == "refused"
    refused = await camille.next_message_from(stack.bot_id, dm, mark)
    assert "refusée" in refused.body and "!verifier manuel" in refused.body

    pending = await camille.ask(dm, stack.bot_id, "!verifier manuel")
    assert "24 heures" in pending.body
    assert await state_of(stack, camille.user_id) == "pending"

    admin = await admin_client(stack)
    admin_room = await stack.service.verification.get_value("admin_room_id")
    await admin.wait_for(lambda: admin_room in admin.client.invited_rooms
                         or admin_room in admin.client.rooms, 20, "admin invited")
    await admin.client.join(admin_room)
    await admin.wait_for(lambda: admin_room in admin.client.rooms, 20, "admin joined")
    listing = await admin.ask(admin_room, stack.bot_id, "!admin verifications")
    assert camille.user_id in listing.body and "Camille Bernard" in listing.body
    mark = len(camille.messages)
    done = await admin.ask(admin_room, stack.bot_id, f"!admin approuver {camille.user_id}")
    assert "approuvée" in done.body
    assert await state_of(stack, camille.user_id) == "verified"
    told = await camille.next_message_from(stack.bot_id, dm, mark)
    assert "vérifiée" in told.body

    # revocation: told, and confined again
    mark = len(camille.messages)
    revoked = await admin.ask(admin_room, stack.bot_id,
                              f"!admin revoquer {camille.user_id} carte professionnelle retirée")
    assert "révoquée" in revoked.body
    told = await camille.next_message_from(stack.bot_id, dm, mark)
    assert "révoquée" in told.body and "carte professionnelle retirée" in told.body
    again = await camille.client.room_create(name="Cas")
    assert isinstance(again, RoomCreateError)

    async with stack.service.database.session() as session:
        actions = (await session.execute(select(AuditEntry.action).where(
            AuditEntry.user_id == camille.user_id).order_by(AuditEntry.id))).scalars().all()
    assert actions == ["refused", "requested", "verified", "revoked"]


async def test_admin_commands_are_refused_to_others_and_outside_the_admin_room(stack):
    someone, dm = await onboarding(stack, "mallory", **CAMILLE)
    answer = await someone.ask(dm, stack.bot_id, f"!admin approuver {someone.user_id}")
    assert "réservée aux administrateurs" in answer.body
    assert await state_of(stack, someone.user_id) == "unverified"


async def admin_client(stack) -> TestClient:
    credentials = json.loads((stack.data_dir / "admin.json").read_text())
    client = TestClient(stack.settings.synapse.url, credentials["user_id"],
                        stack.data_dir / "clients" / f"admin-{len(stack.clients)}")
    await client.login(credentials["password"])
    stack.clients.append(client)
    return client
