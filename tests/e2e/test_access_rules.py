"""The homeserver enforces who may do what, for every client: verified practitioners talk,
unverified ones only reach the bot, and the module fails closed when the service is away."""

from __future__ import annotations

import aiohttp
import pytest
from nio import (
    JoinError,
    RoomCreateError,
    RoomCreateResponse,
    RoomInviteError,
    RoomInviteResponse,
)

pytestmark = pytest.mark.e2e

ENCRYPTED = [{"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]


def reason(response) -> str:
    return getattr(response, "message", "") or ""


async def _raw(stack, client, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.request(
            method, f"{stack.settings.synapse.url}/_matrix/client/v3{path}", json=body,
            headers={"Authorization": f"Bearer {client.client.access_token}"},
        ) as response:
            return response.status, await response.json()


async def test_verified_practitioners_create_invite_join_and_talk(stack):
    alice = await stack.practitioner("alice", verified=True)
    bob = await stack.practitioner("bob", verified=True)
    created = await alice.client.room_create(name="Staff", invite=[bob.user_id])
    assert isinstance(created, RoomCreateResponse), created
    joined = await bob.client.join(created.room_id)
    assert not isinstance(joined, JoinError), joined
    await alice.wait_for(lambda: bob.user_id in alice.client.rooms[created.room_id].users, 15,
                         "bob joined")
    mark = len(bob.messages)
    await alice.send_text(created.room_id, "Bonjour confrère")
    message = await bob.next_message_from(alice.user_id, created.room_id, mark)
    assert message.body == "Bonjour confrère" and message.decrypted


async def test_rooms_are_always_encrypted(stack):
    alice = await stack.practitioner("alice", verified=True)
    created = await alice.client.room_create(name="Sans chiffrement demandé")
    assert isinstance(created, RoomCreateResponse)
    status, state = await _raw(stack, alice, "GET",
                               f"/rooms/{created.room_id}/state/m.room.encryption")
    assert status == 200 and state["algorithm"] == "m.megolm.v1.aes-sha2"
    refused = await alice.client.room_create(initial_state=[
        {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "none"}}])
    assert isinstance(refused, RoomCreateError) and "chiffr" in reason(refused)


async def test_plaintext_messages_are_refused(stack):
    alice = await stack.practitioner("alice", verified=True)
    created = await alice.client.room_create(name="Équipe")
    status, body = await _raw(stack, alice, "PUT",
                              f"/rooms/{created.room_id}/send/m.room.message/t1",
                              {"msgtype": "m.text", "body": "en clair"})
    assert status == 403 and body["fr.confrere.reason"]["code"] == "unencrypted_message"


async def test_unverified_user_is_confined_to_the_bot(stack):
    verified = await stack.practitioner("vera", verified=True)
    unverified = await stack.practitioner("ugo", verified=False)
    # creating a room with a colleague, or an empty one, is refused
    with_colleague = await unverified.client.room_create(invite=[verified.user_id])
    assert isinstance(with_colleague, RoomCreateError)
    assert "vérifiée" in reason(with_colleague) and "verified" in reason(with_colleague)
    alone = await unverified.client.room_create(name="Seul")
    assert isinstance(alone, RoomCreateError)
    # the verified colleague cannot invite them
    room = await verified.client.room_create(name="Cas")
    invite = await verified.client.room_invite(room.room_id, unverified.user_id)
    assert isinstance(invite, RoomInviteError)
    status, body = await _raw(stack, verified, "POST", f"/rooms/{room.room_id}/invite",
                              {"user_id": unverified.user_id})
    assert status == 403 and body["fr.confrere.reason"]["code"] == "invitee_not_verified"
    # joining by room id is refused even if the room would let them in
    status, body = await _raw(stack, unverified, "POST", f"/join/{room.room_id}", {})
    assert status == 403 and body["fr.confrere.reason"]["code"] == "not_verified"
    # but the onboarding conversation with the bot works
    dm = await stack.onboarding_dm(unverified)
    answer = await unverified.ask(dm, stack.bot_id, "!aide")
    assert answer.decrypted and "!verifier" in answer.body


async def test_unverified_user_cannot_send_into_a_room_they_were_in(stack):
    """A revoked practitioner keeps their room memberships but can no longer send."""
    alice = await stack.practitioner("alice", verified=True)
    bob = await stack.practitioner("bob", verified=True)
    room = await alice.client.room_create(name="Cas", invite=[bob.user_id])
    await bob.client.join(room.room_id)
    await stack.service.verification.revoke(bob.user_id, "@admin:localhost", "test")
    status, body = await _raw(stack, bob, "PUT",
                              f"/rooms/{room.room_id}/send/m.room.encrypted/t1",
                              {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "x",
                               "sender_key": "x", "session_id": "x", "device_id": "x"})
    assert status == 403 and body["fr.confrere.reason"]["code"] == "not_verified"
    invite = await bob.client.room_invite(room.room_id, alice.user_id)
    assert isinstance(invite, RoomInviteError)


async def test_display_name_cannot_be_changed_by_users(stack):
    alice = await stack.practitioner("alice", verified=True)
    status, _ = await _raw(stack, alice, "PUT", f"/profile/{alice.user_id}/displayname",
                           {"displayname": "Dr Usurpateur"})
    assert status in (400, 403)
    room = await alice.client.room_create(name="Cas")
    await _raw(stack, alice, "PUT", f"/rooms/{room.room_id}/state/m.room.member/{alice.user_id}",
               {"membership": "join", "displayname": "Pr Imposteur"})
    status, member = await _raw(stack, alice, "GET",
                                f"/rooms/{room.room_id}/state/m.room.member/{alice.user_id}")
    assert member.get("displayname") != "Pr Imposteur"


async def test_verified_may_invite_ghosts(stack):
    alice = await stack.practitioner("alice", verified=True)
    room = await alice.client.room_create(name="Cas")
    prefix, server = stack.settings.appservice.ghost_prefix, stack.settings.server_name
    ghost = f"@{prefix}810000575141:{server}"  # Dr FAURE, in the directory sample
    invite = await alice.client.room_invite(room.room_id, ghost)
    assert isinstance(invite, RoomInviteResponse), invite
    unknown = await alice.client.room_invite(room.room_id, f"@{prefix}819999999999:{server}")
    assert isinstance(unknown, RoomInviteError), "a ghost must stand for a directory entry"


async def test_service_unreachable_denies_with_clear_reason(stack):
    heidi = await stack.practitioner("heidi", verified=True)
    await stack.service.stop()
    try:
        response = await heidi.client.room_create(name="Équipe")
    finally:
        await stack.restart_service()
    assert isinstance(response, RoomCreateError), response
    assert response.status_code == "M_FORBIDDEN"
    assert "injoignable" in response.message and "unreachable" in response.message
    again = await heidi.client.room_create(name="Équipe")
    assert isinstance(again, RoomCreateResponse), again
