"""Adversarial cases on the conversation surfaces of issue #15: the user directory and
profiles, the case id state, space links, retention, guest stand-ins, the unsubscribe route and
the signup pre-fill token. Each case names the rule (refusal code or rule id) it checks."""

from __future__ import annotations

import time
import uuid

import aiohttp
import pytest
from nio import RoomCreateResponse

from bridge.cases.ids import new_case_id
from bridge.cases.rooms import RoomBuildError, create_case_room, create_room
from bridge.guests.invitations import UNSUBSCRIBE_PATH, MailContext, email_guest, \
    record_invitation
from bridge.guests.models import GuestContact
from bridge.guests.standins import email_stand_in
from bridge.guests.tokens import (
    SignupPrefill,
    make_signup_token,
    make_unsubscribe_token,
    open_signup_token,
    open_unsubscribe_token,
)
from tests.conversations.helpers import code, raw, set_badge
from tests.conversations.wiring import GuestWiring
from tests.e2e.harness import wait
from tests.security.room_actors import megolm_content

DAY = 24 * 3600 * 1000
ENCRYPTED = [{"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
GHOST_NID = "810000100007"


def ghost_of(stack, national_id: str = GHOST_NID) -> str:
    return f"@{stack.settings.appservice.ghost_prefix}{national_id}:{stack.settings.server_name}"


async def as_ghost(stack, ghost: str, method: str, path: str, body: dict | None = None):
    sep = "&" if "?" in path else "?"
    return await raw(stack, stack.settings.secrets.as_token, method,
                     f"{path}{sep}user_id={ghost}", body)


async def case_room(stack, alice, invite=()) -> str:
    room = await create_case_room(alice.client, kind="case", case_id=new_case_id(),
                                  invite=list(invite))
    return room.room_id


# -- user directory and profiles -----------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.rule("user_directory_verified_only")
async def test_unverified_or_pending_searchers_find_no_one(stack):
    city = f"Ville{uuid.uuid4().hex[:6]}"
    alice = await stack.practitioner("alice", verified=True)
    bob = await stack.practitioner("bob", verified=True)
    await set_badge(stack, bob.user_id, f"Dr Bob MARTIN — Cardiologie, {city}")

    async def hits(client) -> list[str]:
        status, body = await raw(stack, client.client.access_token, "POST",
                                 "/user_directory/search", {"search_term": city, "limit": 50})
        assert status == 200
        return [hit["user_id"] for hit in body["results"]]

    assert await wait(lambda: _contains(hits(alice), bob.user_id), 15)
    for state in ("unverified", "pending", "refused", "revoked"):
        other = await stack.practitioner(f"x{state}", verified=False)
        await _set_state(stack, other.user_id, state)
        assert await hits(other) == [], state


@pytest.mark.e2e
@pytest.mark.rule("user_directory_verified_only")
async def test_unverified_accounts_never_listed(stack):
    city = f"Ville{uuid.uuid4().hex[:6]}"
    alice = await stack.practitioner("alice", verified=True)
    carol = await stack.practitioner("carol", verified=False)
    await set_badge(stack, carol.user_id, f"Dr Carol FAUX — Cardiologie, {city}")
    # even sharing a room with the searcher (Synapse lists room-mates first)
    created = await alice.client.room_create(invite=[stack.bot_id], initial_state=ENCRYPTED)
    assert isinstance(created, RoomCreateResponse)
    status, body = await raw(stack, alice.client.access_token, "POST", "/user_directory/search",
                             {"search_term": city, "limit": 50})
    assert status == 200 and carol.user_id not in [h["user_id"] for h in body["results"]]


@pytest.mark.e2e
@pytest.mark.rule("profile_hidden")
async def test_profile_of_a_verified_colleague_hidden_from_unverified(stack):
    bob = await stack.practitioner("bob", verified=True)
    carol = await stack.practitioner("carol", verified=False)
    for path in (f"/profile/{bob.user_id}", f"/profile/{bob.user_id}/displayname",
                 f"/profile/{bob.user_id}/avatar_url", f"/profile/{ghost_of(stack)}"):
        status, body = await raw(stack, carol.client.access_token, "GET", path)
        assert status == 403 and code(body) == "profile_hidden", (path, body)


# -- the case id state ---------------------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.rule("case_state_refused")
async def test_case_state_carries_nothing_but_an_opaque_id(stack):
    alice = await stack.practitioner("alice", verified=True)
    room_id = await case_room(stack, alice)
    for content in ({"case_id": "Jean DUPONT 1961"}, {"case_id": "C-ABCDEFGH", "nom": "Dupont"},
                    {"patient": "Dupont"}):
        status, body = await raw(stack, alice.client.access_token, "PUT",
                                 f"/rooms/{room_id}/state/fr.confrere.case", content)
        assert status == 403 and code(body) == "case_state_refused", content
    status, body = await raw(stack, alice.client.access_token, "PUT",
                             f"/rooms/{room_id}/state/fr.confrere.case/other",
                             {"case_id": "C-ABCDEFGH"})
    assert status == 403 and code(body) == "case_state_refused"


@pytest.mark.e2e
@pytest.mark.rule("case_state_refused")
async def test_case_state_refused_outside_case_rooms(stack):
    alice = await stack.practitioner("alice", verified=True)
    created = await alice.client.room_create(initial_state=ENCRYPTED)
    status, body = await raw(stack, alice.client.access_token, "PUT",
                             f"/rooms/{created.room_id}/state/fr.confrere.case",
                             {"case_id": "C-ABCDEFGH"})
    assert status == 403 and code(body) == "case_state_refused"
    with pytest.raises(RoomBuildError):  # nor smuggled in at creation
        await create_room(alice.client, {"initial_state": [
            {"type": "fr.confrere.case", "state_key": "",
             "content": {"case_id": "C-ABCDEFGH", "nom": "Dupont"}}],
            "creation_content": {"type": "fr.confrere.case"}})
    # the bot is held to the same rule
    status, body = await raw(stack, stack.settings.secrets.as_token, "PUT",
                             f"/rooms/{created.room_id}/state/fr.confrere.case",
                             {"case_id": "C-ABCDEFGH"})
    assert status == 403


@pytest.mark.e2e
@pytest.mark.rule("not_verified")
async def test_unverified_account_never_sees_nor_joins_a_case(stack):
    alice = await stack.practitioner("alice", verified=True)
    carol = await stack.practitioner("carol", verified=False)
    room_id = await case_room(stack, alice)
    status, body = await raw(stack, alice.client.access_token, "POST",
                             f"/rooms/{room_id}/invite", {"user_id": carol.user_id})
    assert status == 403 and code(body) == "invitee_not_verified"
    # even invited by the bot (the one who may invite anyone), the join is refused
    bot = stack.service.bot.client
    room = await create_case_room(bot, kind="case", case_id=new_case_id(),
                                  invite=[carol.user_id], administrator=alice.user_id)
    status, body = await raw(stack, carol.client.access_token, "POST",
                             f"/rooms/{room.room_id}/join", {})
    assert status == 403 and code(body) == "not_verified"
    for path in (f"/rooms/{room.room_id}/state", f"/rooms/{room.room_id}/messages?dir=b"):
        status, _ = await raw(stack, carol.client.access_token, "GET", path)
        assert status == 403


# -- spaces ------------------------------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.rule("space_link_refused")
async def test_space_links_carry_no_clear_text(stack):
    alice = await stack.practitioner("alice", verified=True)
    space = await alice.client.room_create(space=True, initial_state=ENCRYPTED)
    assert isinstance(space, RoomCreateResponse), space
    other = await alice.client.room_create(initial_state=ENCRYPTED)
    for key, content in ((other.room_id, {"via": ["localhost"], "name": "Jean Dupont"}),
                         (other.room_id, {"via": ["localhost"], "order": "Dupont Jean né 1961 " * 3}),
                         ("Jean Dupont", {"via": ["localhost"]})):
        status, body = await raw(stack, alice.client.access_token, "PUT",
                                 f"/rooms/{space.room_id}/state/m.space.child/{key}", content)
        assert status == 403 and code(body) == "space_link_refused", content
    status, body = await raw(stack, alice.client.access_token, "PUT",
                             f"/rooms/{space.room_id}/state/m.space.child/{other.room_id}",
                             {"via": ["localhost"]})
    assert status == 200, body


# -- retention ---------------------------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.rule("retention_out_of_bounds")
async def test_retention_only_within_bounds(stack):
    alice = await stack.practitioner("alice", verified=True)
    room_id = await case_room(stack, alice)
    for content in ({"max_lifetime": 1000}, {"max_lifetime": 3650 * DAY},
                    {"max_lifetime": 365 * DAY, "note": "x"}):
        status, body = await raw(stack, alice.client.access_token, "PUT",
                                 f"/rooms/{room_id}/state/m.room.retention", content)
        assert status == 403 and code(body) == "retention_out_of_bounds", content


@pytest.mark.e2e
@pytest.mark.rule("retention_admin_only")
async def test_retention_only_by_the_room_administrator(stack):
    alice = await stack.practitioner("alice", verified=True)
    bob = await stack.practitioner("bob", verified=True)
    created = await alice.client.room_create(
        invite=[bob.user_id], initial_state=ENCRYPTED,
        power_level_override={"users": {bob.user_id: 99}})
    assert isinstance(created, RoomCreateResponse), created
    await bob.client.join(created.room_id)
    status, body = await raw(stack, bob.client.access_token, "PUT",
                             f"/rooms/{created.room_id}/state/m.room.retention",
                             {"max_lifetime": 365 * DAY})
    assert status == 403 and code(body) == "retention_admin_only", body
    status, body = await raw(stack, alice.client.access_token, "PUT",
                             f"/rooms/{created.room_id}/state/m.room.retention",
                             {"max_lifetime": 365 * DAY})
    assert status == 200, body


# -- guest stand-ins -----------------------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.rule("ghost_action")
async def test_a_guest_stand_in_never_sends_nor_invites(stack):
    alice = await stack.practitioner("alice", verified=True)
    bob = await stack.practitioner("bob", verified=True)
    ghost = ghost_of(stack)
    from bridge.guests.invitations import ensure_registered

    await ensure_registered(stack.service.context.http, stack.settings.synapse.url,
                            stack.settings.secrets.as_token, ghost)
    room_id = await case_room(stack, alice, invite=[ghost])
    status, body = await as_ghost(stack, ghost, "POST", f"/rooms/{room_id}/join", {})
    assert status == 200, body
    status, body = await as_ghost(stack, ghost, "PUT",
                                  f"/rooms/{room_id}/send/m.room.encrypted/{uuid.uuid4().hex}",
                                  megolm_content())
    assert status == 403 and code(body) == "ghost_action", body
    for event_type, content in (("m.room.name", {"name": "x"}),
                                ("fr.confrere.case", {"case_id": "C-ABCDEFGH"})):
        status, body = await as_ghost(stack, ghost, "PUT",
                                      f"/rooms/{room_id}/state/{event_type}", content)
        assert status == 403, (event_type, body)
    # no promotion open: inviting anyone, even a verified colleague, is refused
    status, body = await as_ghost(stack, ghost, "POST", f"/rooms/{room_id}/invite",
                                  {"user_id": bob.user_id})
    assert status == 403 and code(body) == "ghost_action", body


@pytest.mark.e2e
@pytest.mark.rule("unknown_ghost")
async def test_made_up_email_stand_in_cannot_be_invited(stack):
    alice = await stack.practitioner("alice", verified=True)
    async with GuestWiring(stack):
        stand_in = email_stand_in(stack.settings.appservice.ghost_prefix,
                                  stack.settings.server_name)
        created = await alice.client.room_create(invite=[stand_in], initial_state=ENCRYPTED)
        assert not isinstance(created, RoomCreateResponse)
        assert "unknown_ghost" in str(getattr(created, "message", "")) or \
            "annuaire" in str(getattr(created, "message", "")), created


@pytest.mark.e2e
@pytest.mark.rule("ghost_action")
async def test_stand_in_hands_over_only_to_the_promoted_account(stack):
    """While a promotion is open, the stand-in may invite its person's account — nobody else."""
    alice = await stack.practitioner("alice", verified=True)
    mallory = await stack.practitioner("mallory", verified=True)
    person = await stack.practitioner("person", verified=True)
    address = f"{uuid.uuid4().hex[:8]}@example.org"
    worker = GuestWiring(stack).worker
    working = worker.run_once

    async def idle() -> bool:  # keep the job open: the test acts by hand
        return False

    worker.run_once = idle
    try:
        async with stack.service.database.session() as session, session.begin():
            stand_in, _ = await record_invitation(
                session, email_guest(address, "Pat", "Person"), "!nowhere:localhost",
                alice.user_id, "Dr Alice", MailContext(stack.settings.service.url,
                                                      stack.settings.secrets.web_secret),
                ghost_prefix=stack.settings.appservice.ghost_prefix,
                server_name=stack.settings.server_name)
        from bridge.guests.invitations import ensure_registered
        from bridge.guests.promotion import promote_guest

        await ensure_registered(stack.service.context.http, stack.settings.synapse.url,
                                stack.settings.secrets.as_token, stand_in)
        created = await alice.client.room_create(invite=[stand_in], initial_state=ENCRYPTED)
        assert isinstance(created, RoomCreateResponse), created
        status, _ = await as_ghost(stack, stand_in, "POST", f"/rooms/{created.room_id}/join", {})
        assert status == 200
        await promote_guest(stack.service.database, person.user_id, email=address)
        status, body = await as_ghost(stack, stand_in, "POST", f"/rooms/{created.room_id}/invite",
                                      {"user_id": mallory.user_id})
        assert status == 403 and code(body) == "ghost_action", body
        status, body = await as_ghost(stack, stand_in, "POST", f"/rooms/{created.room_id}/invite",
                                      {"user_id": person.user_id})
        assert status == 200, body
    finally:
        worker.run_once = working


# -- the unsubscribe route and the signup pre-fill token -----------------------------------

@pytest.mark.e2e
@pytest.mark.rule("unsubscribe_token")
async def test_unsubscribe_needs_a_genuine_token_and_a_post(stack):
    from aiohttp import web

    from bridge.web.guest_mail import guest_mail_routes

    secret = stack.settings.secrets.web_secret
    key = f"{uuid.uuid4().hex[:8]}@example.org"
    async with stack.service.database.session() as session, session.begin():
        session.add(GuestContact(guest_key=key, stand_in=f"@x{uuid.uuid4().hex}:localhost",
                                 first_name="A", last_name="B", email=key))
    app = web.Application()
    app.add_routes(guest_mail_routes(stack.service.database, secret))
    runner = web.AppRunner(app)
    await runner.setup()
    from tests.e2e.harness import free_port

    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}{UNSUBSCRIBE_PATH}"
    good = make_unsubscribe_token(secret, key)
    forged = make_unsubscribe_token("not-the-secret", key)
    signup_as_stop = make_signup_token(secret, SignupPrefill("A", "B", email=key))
    try:
        async with aiohttp.ClientSession() as http:
            for token in (forged, good[:-2] + "AA", signup_as_stop, ""):
                async with http.post(base, data={"t": token}) as answer:
                    assert answer.status == 400
            async with http.get(base, params={"t": good}) as answer:
                assert answer.status == 200  # a link preview changes nothing
            assert await _opted_out(stack, key) is False
            async with http.post(base, data={"t": good}) as answer:
                assert answer.status == 200
            assert await _opted_out(stack, key) is True
    finally:
        await runner.cleanup()


@pytest.mark.rule("signup_prefill_token")
def test_signup_prefill_token_is_signed_bound_and_expires():
    secret = "s" * 32
    token = make_signup_token(secret, SignupPrefill("Camille", "Bernard", "810000100007"))
    assert open_signup_token(secret, token).national_id == "810000100007"
    body, mac = token.split(".")
    import base64
    import json

    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["nid"] = "810000999999"
    tampered = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    assert open_signup_token(secret, f"{tampered}.{mac}") is None
    assert open_signup_token("other" * 8, token) is None
    assert open_signup_token(secret, token, now=time.time() + 31 * 24 * 3600) is None
    assert open_signup_token(secret, make_unsubscribe_token(secret, "810000100007")) is None
    assert open_unsubscribe_token(secret, token) is None
    for junk in ("", ".", "a.b", "x" * 5000, "é.é"):
        assert open_signup_token(secret, junk) is None


# -- helpers -------------------------------------------------------------------------------

async def _contains(coro, value) -> bool:
    return value in await coro


async def _set_state(stack, user_id: str, state: str) -> None:
    from sqlalchemy import update

    from bridge.accounts.models import Account

    async with stack.service.database.session() as session, session.begin():
        await session.execute(update(Account).where(Account.user_id == user_id)
                              .values(verification_state=state))


async def _opted_out(stack, key: str) -> bool:
    async with stack.service.database.session() as session:
        return (await session.get(GuestContact, key)).opted_out_at is not None
