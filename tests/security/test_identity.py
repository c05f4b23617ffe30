"""Adversarial cases on identity: a proof is used once, an identity has one account, only the
bot's own conversation is open before verification, the badge tells the truth, and the
directory does not tell an unverified account who is on Confrère.

Each case names its rule (`@pytest.mark.rule`) and failed on the code before issue #9's fix
(reasons in the docstrings)."""

from __future__ import annotations

import asyncio
import base64

import aiohttp
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from nio import RoomCreateError, RoomCreateResponse, RoomLeaveError, RoomSendError
from sqlalchemy import update

from bridge.accounts.models import Account
from confrere_cps import protocol
from bridge.identity.cps import TrustStore
from bridge.identity.cps_challenge import issue_code
from tests.cps import pki
from tests.e2e.harness import wait
from tests.e2e.test_documents import (  # noqa: F401 - `onfido` is a fixture
    RECTO,
    SELFIE,
    joined_admin,
    onfido,
    send_all,
)
from tests.e2e.test_verification import display_name, state_of
from tests.security.identity_flows import (
    accounts_with,
    account_by_email,
    fresh_rpps,
    give_cookie,
    mailed_code,
    psc_cookie,
    psc_login,
    submit_psc_form,
)
from tests.signup.client import SignupClient, unique_email

pytestmark = pytest.mark.e2e


@pytest.fixture
async def browsers(stack):
    made: list[SignupClient] = []

    def make() -> SignupClient:
        client = SignupClient(stack.settings.service.url)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


async def linked_account(stack, national_id: str, prefix: str = "holder"):
    """A verified practitioner already linked to `national_id`."""
    client = await stack.practitioner(prefix, verified=True)
    async with stack.service.database.session() as session, session.begin():
        await session.execute(update(Account).where(Account.user_id == client.user_id)
                              .values(national_id=national_id))
    return client


# -- hole 7: the PSC signup proof ---------------------------------------------------------

@pytest.mark.rule("psc_proof_single_use")
async def test_copied_psc_cookie_after_use_gives_no_second_account(stack, browsers):
    """Before: the cookie carried the proven identity itself; any browser holding a copy got
    a second verified account with the same national id, without a PSC login."""
    rpps = fresh_rpps()
    victim, attacker = browsers(), browsers()
    status, _ = await psc_login(victim, "8" + rpps, "Claire", "Vidal")
    assert status == 303
    stolen = psc_cookie(victim)
    assert stolen and rpps not in stolen and "Vidal" not in stolen, "only a sealed id travels"
    email = unique_email("vidal")
    await submit_psc_form(victim, email)
    page = await victim.submit_code(await mailed_code(stack, email))
    assert page.url.endswith("/signup/bienvenue"), page.text

    give_cookie(attacker, stolen)
    form = await attacker.get("/signup")
    assert rpps not in form.text and "Vidal" not in form.text, "a spent proof shows nothing"
    page = await submit_psc_form(attacker, unique_email("mallory"))
    assert page.status == 400, "without a proof the form needs names: nothing is proven"
    assert [a.email for a in await accounts_with(stack, "8" + rpps)] == [email]


@pytest.mark.rule("psc_proof_single_use")
async def test_copied_psc_cookie_used_in_parallel_creates_one_account(stack, browsers):
    """Both browsers fill the form before either enters its code: the proof is spent by the
    first account's creation; the second is refused and nothing is created for it."""
    rpps = fresh_rpps()
    victim, attacker = browsers(), browsers()
    await psc_login(victim, "8" + rpps, "Louis", "Garnier")
    give_cookie(attacker, psc_cookie(victim))
    first, second = unique_email("garnier"), unique_email("mallory")
    await submit_psc_form(victim, first)
    assert rpps in (await attacker.get("/signup")).text, "not spent yet: the form shows it"
    await submit_psc_form(attacker, second)
    page = await victim.submit_code(await mailed_code(stack, first))
    assert page.url.endswith("/signup/bienvenue")
    page = await attacker.submit_code(await mailed_code(stack, second))
    assert page.status == 409 and "déjà servi" in page.text and "already used" in page.text
    assert await account_by_email(stack, second) is None
    holders = await accounts_with(stack, "8" + rpps)
    assert len(holders) == 1 and holders[0].email == first


@pytest.mark.rule("national_id_one_account")
async def test_psc_signup_for_an_identity_that_has_an_account_is_refused(stack, browsers):
    """Before: a second PSC signup of the same person created a second verified account."""
    rpps = fresh_rpps()
    holder = await linked_account(stack, "8" + rpps)
    browser = browsers()
    status, page = await psc_login(browser, "8" + rpps, "Paul", "Morel")
    assert status == 409 and "déjà lié à un autre compte" in page and "already linked" in page
    assert holder.user_id not in page, "the holder is named to the administrators only"
    assert psc_cookie(browser) is None
    [conflict] = [c for c in await stack.service.verification.conflicts()
                  if c.evidence.get("national_id") == "8" + rpps]
    assert conflict.evidence["holder"] == holder.user_id


@pytest.mark.rule("national_id_one_account")
async def test_second_psc_verification_of_a_linked_identity_is_refused_and_shown(stack):
    """Before: `verify` linked any account to any national id, even one already linked."""
    from tests.e2e import psc_flow

    rpps = fresh_rpps()
    holder = await linked_account(stack, "8" + rpps)
    other = await stack.practitioner("twin", verified=False, first_name="Nina",
                                     last_name="Roche", declared=rpps)
    dm = await stack.onboarding_dm(other)
    admin, admin_room = await joined_admin(stack)
    link = psc_flow.link_in((await other.ask(dm, stack.bot_id, "!verifier")).body)
    mark, admin_mark = len(other.messages), len(admin.messages)
    status, page, _ = await psc_flow.follow(link, "custom", {
        "national_id": "8" + rpps, "given_name": "Nina", "family_name": "Roche"})
    assert status == 409 and "déjà lié" in page and "already linked" in page
    assert await state_of(stack, other.user_id) == "unverified"
    told = await other.next_message_from(stack.bot_id, dm, mark)
    assert "refusée" in told.body and "already linked" in told.body
    alert = await admin.next_message_from(stack.bot_id, admin_room, admin_mark)
    assert "8" + rpps in alert.body and holder.user_id in alert.body
    listing = await admin.ask(admin_room, stack.bot_id, "!admin verifications")
    assert "8" + rpps in listing.body and holder.user_id in listing.body


@pytest.fixture
def trusted(stack, tmp_path):
    endpoints = stack.service.services.cps
    configured = endpoints.trust
    endpoints.trust = TrustStore.from_files(pki.write_trust_files(tmp_path / "igc"))
    yield
    endpoints.trust = configured


async def cps_answer(stack, user_id: str, card) -> tuple[dict, tuple[int, dict]]:
    """The card's round trip without a reader: code → challenge → signed answer."""
    code = await issue_code(stack.service.database, user_id, 5)
    base = stack.settings.service.url
    async with aiohttp.ClientSession() as http:
        async with http.post(base + protocol.CHALLENGE_PATH, json={"code": code}) as response:
            challenge = await response.json()
        signature = card.key.sign(protocol.signed_message(user_id, challenge["challenge"]),
                                  padding.PKCS1v15(), hashes.SHA256())
        body = {"user_id": user_id, "challenge": challenge["challenge"],
                "certificate": base64.b64encode(card.der).decode(),
                "signature": base64.b64encode(signature).decode()}
        async with http.post(base + protocol.RESPONSE_PATH, json=body) as response:
            return body, (response.status, await response.json())


async def post_json(stack, path: str, body: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(stack.settings.service.url + path, json=body) as response:
            return response.status, await response.json()


@pytest.mark.rule("national_id_one_account")
async def test_second_cps_verification_of_a_linked_identity_is_refused(stack, trusted):
    """Before: a CPS card linked a second account to the card holder's national id."""
    rpps = fresh_rpps()
    await linked_account(stack, "8" + rpps)
    other = await stack.practitioner("cpstwin", verified=False, first_name="Ines",
                                     last_name="Perrin", declared=rpps)
    _, (status, answer) = await cps_answer(stack, other.user_id,
                                           pki.card("8" + rpps, "PERRIN", "INES"))
    assert status == 409 and answer["error"] == "national_id_taken"
    assert "déjà lié" in answer["message_fr"] and "already linked" in answer["message_en"]
    assert await state_of(stack, other.user_id) == "unverified"


@pytest.mark.rule("cps_challenge_single_use")
async def test_a_cps_answer_cannot_be_replayed(stack, trusted):
    rpps = fresh_rpps()
    client = await stack.practitioner("cpsreplay", verified=False, first_name="Ines",
                                      last_name="Perrin", declared=rpps)
    body, (status, _) = await cps_answer(stack, client.user_id,
                                         pki.card("8" + rpps, "PERRIN", "INES"))
    assert status == 200
    status, answer = await post_json(stack, protocol.RESPONSE_PATH, body)
    assert status == 410 and answer["error"] == "invalid_challenge"


@pytest.mark.rule("national_id_one_account")
async def test_administrator_cannot_approve_a_second_account_for_one_identity(stack):
    admin, admin_room = await joined_admin(stack)
    listed = "10000100007"  # Camille Bernard in the directory sample
    await stack.free_national_id("8" + listed)
    first = await stack.practitioner("listed", verified=False, first_name="Camille",
                                     last_name="Bernard", declared=listed)
    second = await stack.practitioner("listed2", verified=False, first_name="Camille",
                                      last_name="Bernard", declared=listed)
    done = await admin.ask(admin_room, stack.bot_id, f"!admin approuver {first.user_id}")
    assert "approuvée" in done.body and "810000100007" in done.body
    mark = len(admin.messages)
    await admin.send_text(admin_room, f"!admin approuver {second.user_id}")
    await admin.wait_for(lambda: any(
        "Approbation impossible" in e.body and first.user_id in e.body
        for room, e in admin.messages[mark:] if room == admin_room), 20, "refused, said why")
    assert await state_of(stack, second.user_id) == "unverified"


@pytest.mark.rule("national_id_one_account")
async def test_the_database_refuses_two_accounts_with_one_identity(stack):
    """The unique index holds even if the service's own check were bypassed or raced."""
    from sqlalchemy.exc import IntegrityError

    from bridge.verification.service import NationalIdTaken

    rpps = fresh_rpps()
    a = await stack.practitioner("race1", verified=False)
    b = await stack.practitioner("race2", verified=False)
    verification = stack.service.verification
    results = await asyncio.gather(
        verification.verify(a.user_id, "manual", "test", national_id="8" + rpps),
        verification.verify(b.user_id, "manual", "test", national_id="8" + rpps),
        return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Decision", "NationalIdTaken"]
    assert any(isinstance(r, NationalIdTaken) for r in results)
    assert len(await accounts_with(stack, "8" + rpps)) == 1
    with pytest.raises(IntegrityError):
        async with stack.service.database.session() as session, session.begin():
            loser = b if isinstance(results[1], NationalIdTaken) else a
            await session.execute(update(Account).where(Account.user_id == loser.user_id)
                                  .values(national_id="8" + rpps))


# -- hole 8: only the bot's own conversation is onboarding ---------------------------------

async def module_view(stack, user_id: str) -> dict:
    secret = stack.settings.secrets.module_secret
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.settings.service.url}/_confrere/internal/v1/users/{user_id}",
                            headers={"Authorization": f"Bearer {secret}"}) as response:
            return await response.json()


async def bot_in(client, room_id: str, stack) -> bool:
    room = client.client.rooms.get(room_id)
    return room is not None and stack.bot_id in room.users and \
        stack.bot_id not in room.invited_users


@pytest.mark.rule("onboarding_room_is_the_bots")
async def test_group_room_with_is_direct_does_not_survive_revocation(stack):
    """Before: inviting the bot with `is_direct` to a group room recorded it as the inviter's
    onboarding room, where they could still send after `!admin revoquer`."""
    alice = await stack.practitioner("groupdm", verified=True)
    colleague = await stack.practitioner("colleague", verified=True)
    created = await alice.client.room_create(
        is_direct=True, invite=[stack.bot_id, colleague.user_id],
        initial_state=[{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
    assert isinstance(created, RoomCreateResponse), created
    await colleague.client.join(created.room_id)
    await alice.wait_for(lambda: created.room_id in alice.client.rooms
                         and stack.bot_id in alice.client.rooms[created.room_id].users, 20,
                         "the bot joined (verified inviter)")
    assert (await module_view(stack, alice.user_id))["onboarding_rooms"] == []

    await stack.service.verification.revoke(alice.user_id, "test", "carte retirée")
    await asyncio.sleep(1.5)  # the module's cache (1 s in tests; invalidated anyway)
    sent = await alice.client.room_send(created.room_id, "m.room.message",
                                        {"msgtype": "m.text", "body": "toujours là ?"},
                                        ignore_unverified_devices=True)
    assert isinstance(sent, RoomSendError), "a revoked practitioner no longer sends there"
    assert (await module_view(stack, alice.user_id))["onboarding_rooms"] == []


@pytest.mark.rule("onboarding_room_is_the_bots")
async def test_revoked_practitioner_still_talks_to_the_bot_in_their_own_conversation(stack):
    alice = await stack.practitioner("revokedtalk", verified=True, first_name="Alice",
                                     last_name="Martin")
    await stack.service.verification.revoke(alice.user_id, "test", "carte retirée")
    dm = await stack.onboarding_dm(alice)
    assert (await module_view(stack, alice.user_id))["onboarding_rooms"] == [dm]
    answer = await alice.ask(dm, stack.bot_id, "!verifier statut")
    assert "révoquée" in answer.body


@pytest.mark.rule("onboarding_room_is_the_bots")
async def test_unverified_dm_to_the_bot_is_declined_and_their_own_one_offered(stack):
    """Before: the bot joined any DM an unverified user opened and made it an onboarding room
    (any number of them, each with whatever members the user invited later)."""
    newcomer = await stack.practitioner("ownroom", verified=False)
    dm = await stack.onboarding_dm(newcomer)
    mark = len(newcomer.messages)
    created = await newcomer.client.room_create(
        is_direct=True, invite=[stack.bot_id],
        initial_state=[{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
    if isinstance(created, RoomCreateError):
        return  # refused by the homeserver already: the bot never sees it
    told = await newcomer.next_message_from(stack.bot_id, dm, mark, timeout=30)
    assert "je ne parle qu'ici" in told.body and "I only talk here" in told.body
    assert not await bot_in(newcomer, created.room_id, stack)
    assert (await module_view(stack, newcomer.user_id))["onboarding_rooms"] == [dm]


@pytest.mark.rule("onboarding_room_is_the_bots")
async def test_unverified_without_a_conversation_gets_one_when_inviting_the_bot(stack):
    newcomer = await stack.practitioner("noroom", verified=False, first_name="Hugo",
                                        last_name="Blanc")
    created = await newcomer.client.room_create(
        is_direct=True, invite=[stack.bot_id],
        initial_state=[{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
    if isinstance(created, RoomCreateError):
        return
    own = await newcomer.accept_invite_from(stack.bot_id, 40)
    assert own != created.room_id
    welcome = await newcomer.next_message_from(stack.bot_id, own, 0, 40)
    assert "Bonjour Hugo" in welcome.body
    assert (await module_view(stack, newcomer.user_id))["onboarding_rooms"] == [own]


# -- the badge ----------------------------------------------------------------------------

@pytest.mark.rule("badge_from_directory")
async def test_administrator_approval_gives_the_directory_badge(stack):
    """Before: an administrator's approval left the typed names ("Camille Bernard")."""
    listed = "10000100007"
    await stack.free_national_id("8" + listed)
    camille = await stack.practitioner("badge", verified=False, first_name="Camille",
                                       last_name="Bernard", declared=listed)
    admin, admin_room = await joined_admin(stack)
    await admin.ask(admin_room, stack.bot_id, f"!admin approuver {camille.user_id}")

    async def badged() -> bool:
        return (await display_name(stack, camille)).startswith("Dr Camille BERNARD — ")
    assert await wait(badged, timeout=15), await display_name(stack, camille)


@pytest.mark.rule("badge_removed_on_revocation")
async def test_revocation_removes_the_badge(stack):
    """Before: a revoked practitioner kept "Dr … — Spécialité, Ville" as display name."""
    alice = await stack.practitioner("unbadge", verified=False, first_name="Alice",
                                     last_name="Martin")
    await stack.service.verification.verify(alice.user_id, "manual", "test")
    await stack.service.verification.revoke(alice.user_id, "test", "carte retirée")

    async def marked() -> bool:
        return await display_name(stack, alice) == "Alice MARTIN (non vérifié · unverified)"
    assert await wait(marked, timeout=15), await display_name(stack, alice)


@pytest.mark.rule("onfido_clear_needs_directory")
async def test_onfido_clear_without_a_directory_match_goes_to_review(stack, onfido):
    """Before: Onfido's "clear" verified anyone, health professional or not."""
    stranger = await stack.practitioner("onfidonone", verified=False, first_name="Victor",
                                        last_name="Lenoir", declared=fresh_rpps())
    dm = await stack.onboarding_dm(stranger)
    admin, admin_room = await joined_admin(stack)
    await stranger.ask(dm, stack.bot_id, "!verifier passeport")
    await stranger.ask(dm, stack.bot_id, "ok")  # issuing country: France
    await send_all(stranger, stack, dm, [("page.jpg", RECTO), ("selfie.png", SELFIE)])
    await admin.wait_for(lambda: any(
        "pas de correspondance dans l'annuaire" in event.body and stranger.user_id in event.body
        for room, event in admin.messages if room == admin_room), 30, "review asked")
    assert await state_of(stack, stranger.user_id) == "pending"


# -- the directory told to an unverified account ------------------------------------------

@pytest.mark.rule("directory_membership_verified_only")
async def test_unverified_search_and_favourites_do_not_reveal_members(stack):
    """Before: `!annuaire` marked "✓ sur Confrère" for anyone asking."""
    await stack.free_national_id("810000575141")
    await linked_account(stack, "810000575141", "faure")
    newcomer = await stack.practitioner("curious", verified=False)
    dm = await stack.onboarding_dm(newcomer)
    found = await newcomer.ask(dm, stack.bot_id, "!annuaire faure")
    assert "FAURE" in found.body
    assert "✓" not in found.body and "pas encore sur" not in found.body
    await newcomer.ask(dm, stack.bot_id, "!favori 1")
    favourites = await newcomer.ask(dm, stack.bot_id, "!favoris")
    assert "FAURE" in favourites.body
    assert "✓" not in favourites.body and "pas encore sur" not in favourites.body
    assert "@" not in found.body + favourites.body


@pytest.mark.rule("directory_membership_verified_only")
async def test_third_party_lookup_never_names_an_account(stack):
    """Before: the look-up answered the member's Matrix id to any asker (Synapse does not say
    who asks)."""
    await stack.free_national_id("810000575141")
    faure = await linked_account(stack, "810000575141", "faure")
    curious = await stack.practitioner("lookup", verified=False)
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{stack.settings.synapse.url}/_matrix/client/v3/thirdparty/user/"
            "fr.confrere.annuaire", params={"search": "faure"},
            headers={"Authorization": f"Bearer {curious.client.access_token}"}) as response:
            users = await response.json()
    assert response.status == 200 and users
    assert all(faure.user_id != u["userid"] for u in users)
    assert all(u["userid"].startswith("@" + stack.settings.appservice.ghost_prefix)
               for u in users)
    assert all("on_confrere" not in u["fields"] for u in users)


@pytest.mark.rule("onboarding_room_is_the_bots")
async def test_who_left_their_conversation_is_invited_back_to_it(stack):
    newcomer = await stack.practitioner("leaver", verified=False)
    dm = await stack.onboarding_dm(newcomer)
    left = await newcomer.client.room_leave(dm)
    assert not isinstance(left, RoomLeaveError), left
    created = await newcomer.client.room_create(
        is_direct=True, invite=[stack.bot_id],
        initial_state=[{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
    if isinstance(created, RoomCreateError):
        return
    await newcomer.wait_for(lambda: dm in newcomer.client.invited_rooms, 30,
                            "invited back to the conversation the bot opened")
    assert (await module_view(stack, newcomer.user_id))["onboarding_rooms"] == [dm]
