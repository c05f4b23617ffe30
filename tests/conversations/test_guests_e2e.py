"""Guests become members, end to end on the real Synapse: a verified practitioner invites a
guest stand-in, the person signs up and is verified, the promotion joins them to the room and
the stand-in leaves; e-mail guests likewise; the invitation e-mail at most daily."""

from __future__ import annotations

import urllib.parse
import uuid

import pytest
from nio import RoomCreateResponse
from sqlalchemy import select

from bridge.guests.invitations import MailContext, Outcome, directory_guest, email_guest, \
    ensure_registered, name_stand_in, record_invitation
from bridge.guests.models import GuestInvitation
from bridge.guests.tokens import SIGNUP_PARAM, open_signup_token
from bridge.mail.models import OutboxMail
from tests.conversations.wiring import GuestWiring
from tests.e2e.harness import wait

pytestmark = pytest.mark.e2e

ENCRYPTED = [{"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]


def mail_context(stack) -> MailContext:
    return MailContext(stack.settings.service.url, stack.settings.secrets.web_secret)


async def invite(stack, inviter, guest, room_id: str) -> tuple[str, Outcome]:
    settings = stack.settings
    async with stack.service.database.session() as session, session.begin():
        return await record_invitation(
            session, guest, room_id, inviter.user_id, "Dr Alice TEST", mail_context(stack),
            ghost_prefix=settings.appservice.ghost_prefix, server_name=settings.server_name)


async def members(stack, client, room_id: str) -> dict[str, str]:
    from tests.conversations.helpers import raw

    status, body = await raw(stack, client.client.access_token, "GET",
                             f"/rooms/{room_id}/members")
    assert status == 200, body
    return {e["state_key"]: e["content"]["membership"] for e in body["chunk"]}


async def test_directory_guest_becomes_member_once_verified(stack):
    national_id = "810000100007"
    practitioner = await stack.service.directory.get(national_id)
    alice = await stack.practitioner("alice", verified=True)
    async with GuestWiring(stack) as worker:
        room_id = None
        stand_in, outcome = await invite(stack, alice, directory_guest(
            practitioner, email=f"camille.{uuid.uuid4().hex[:6]}@example.org"), "pending")
        await ensure_registered(stack.service.context.http, stack.settings.synapse.url,
                                stack.settings.secrets.as_token, stand_in)
        await name_stand_in(stack.service.context.http, stack.settings.synapse.url,
                            stack.service.context.admin_token, stand_in,
                            directory_guest(practitioner))
        created = await alice.client.room_create(name="Avis", invite=[stand_in],
                                                 initial_state=ENCRYPTED)
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id
        async with stack.service.database.session() as session, session.begin():
            row = (await session.execute(select(GuestInvitation).where(
                GuestInvitation.room_id == "pending", GuestInvitation.stand_in == stand_in)
            )).scalar_one()
            row.room_id = room_id
        assert outcome is Outcome.MAILED
        assert (await members(stack, alice, room_id))[stand_in] == "invite"
        from tests.conversations.helpers import raw

        status, profile = await raw(stack, alice.client.access_token, "GET",
                                    f"/profile/{stand_in}")
        assert status == 200 and profile["displayname"] == "Camille BERNARD (invité)"

        guest = await stack.practitioner("camille", verified=False, first_name="Camille",
                                         last_name="Bernard")
        await stack.free_national_id(national_id)
        await stack.service.verification.verify(guest.user_id, "psc", "test",
                                                national_id=national_id)

        async def promoted() -> bool:
            now = await members(stack, alice, room_id)
            return now.get(guest.user_id) == "join" and now.get(stand_in) == "leave"

        assert await wait(promoted, 30), await members(stack, alice, room_id)
        await guest.wait_for(lambda: room_id in guest.client.rooms, 20, "guest sees the room")
        # the room's members see it: alice's client has the person, not the stand-in
        await alice.wait_for(lambda: guest.user_id in alice.client.rooms[room_id].users
                             and stand_in not in alice.client.rooms[room_id].users, 20,
                             "alice sees the hand-over")

        async def recorded() -> bool:
            async with stack.service.database.session() as session:
                done = (await session.execute(select(GuestInvitation).where(
                    GuestInvitation.room_id == room_id))).scalar_one()
            return done.member == guest.user_id and done.done_at is not None

        assert await wait(recorded, 10)
        assert await wait(lambda: _true(worker.finished), 10)


async def test_email_guest_invited_mailed_once_a_day_and_promoted(stack):
    alice = await stack.practitioner("alice", verified=True)
    guest = await stack.practitioner("dominique", verified=False)
    address = f"{guest.user_id[1:].split(':')[0]}@example.org"  # the account's e-mail
    async with GuestWiring(stack):
        rooms = []
        outcomes = []
        for name in ("Un", "Deux"):
            stand_in, outcome = await invite(stack, alice, email_guest(
                address.upper(), "Dominique", "Petit"), f"pending-{name}")
            outcomes.append(outcome)
            await ensure_registered(stack.service.context.http, stack.settings.synapse.url,
                                    stack.settings.secrets.as_token, stand_in)
            created = await alice.client.room_create(name=name, invite=[stand_in],
                                                     initial_state=ENCRYPTED)
            assert isinstance(created, RoomCreateResponse), created
            async with stack.service.database.session() as session, session.begin():
                row = (await session.execute(select(GuestInvitation).where(
                    GuestInvitation.room_id == f"pending-{name}"))).scalar_one()
                row.room_id = created.room_id
            rooms.append(created.room_id)
        assert outcomes == [Outcome.MAILED, Outcome.ALREADY_MAILED_TODAY]
        async with stack.service.database.session() as session:
            queued = list((await session.execute(select(OutboxMail).where(
                OutboxMail.recipient == address.lower()))).scalars())
        assert len(queued) == 1 and "Dr Alice TEST" in queued[0].subject
        caught = await stack.service.mail.catcher.wait_for(address.lower())
        assert len(caught) == 1
        link = next(word for word in caught[0].text.split() if "/signup?" in word)
        token = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)[SIGNUP_PARAM][0]
        prefill = open_signup_token(stack.settings.secrets.web_secret, token)
        assert prefill.email == address.lower() and prefill.last_name == "Petit"

        await stack.service.verification.verify(guest.user_id, "manual", "test")

        async def promoted() -> bool:
            for room_id in rooms:
                now = await members(stack, alice, room_id)
                if now.get(guest.user_id) != "join" or now.get(stand_in) != "leave":
                    return False
            return True

        assert await wait(promoted, 30), [await members(stack, alice, r) for r in rooms]



async def _true(value) -> bool:
    return bool(value)


async def test_invitation_of_a_directory_ghost_from_any_client_is_recorded(stack):
    """Element's invite dialog (no bot): the service's appservice hook records it, names the
    stand-in and queues the e-mail."""
    from tests.conversations.helpers import raw

    national_id = "810000100015" if await stack.service.directory.get("810000100015") \
        else "810000100007"
    alice = await stack.practitioner("alice", verified=True)
    stand_in = f"@{stack.settings.appservice.ghost_prefix}{national_id}:" \
               f"{stack.settings.server_name}"
    created = await alice.client.room_create(invite=[stand_in], initial_state=ENCRYPTED)
    assert isinstance(created, RoomCreateResponse), created

    async def recorded() -> bool:
        async with stack.service.database.session() as session:
            return (await session.execute(select(GuestInvitation).where(
                GuestInvitation.room_id == created.room_id))).scalar_one_or_none() is not None

    assert await wait(recorded, 20)
    async with stack.service.database.session() as session:
        row = (await session.execute(select(GuestInvitation).where(
            GuestInvitation.room_id == created.room_id))).scalar_one()
    assert row.inviter == alice.user_id and row.guest_key == national_id

    async def named() -> bool:
        status, profile = await raw(stack, alice.client.access_token, "GET",
                                    f"/profile/{stand_in}")
        return status == 200 and profile.get("displayname", "").endswith("(invité)")

    assert await wait(named, 20), "the stand-in is named 'Prénom NOM (invité)'"
