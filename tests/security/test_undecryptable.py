"""The bot's notice about undecryptable messages: once per (sender, Megolm session), and in a
group at most one per room per interval — never one per event (spam in a busy room)."""

from __future__ import annotations

import json
import uuid

import aiohttp
import pytest
from nio.crypto import OutboundGroupSession

from bridge.matrix.bot import UNDECRYPTABLE_FR
from bridge.matrix.undecryptable import UndecryptableNotices


async def send_without_key(client, room_id: str, session: OutboundGroupSession) -> None:
    """A real Megolm event whose session key the bot never received."""
    ciphertext = session.encrypt(json.dumps({
        "type": "m.room.message", "room_id": room_id,
        "content": {"msgtype": "m.text", "body": "jamais lisible"}}))
    content = {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": ciphertext,
               "sender_key": client.client.olm.account.identity_keys["curve25519"],
               "session_id": session.id, "device_id": client.client.device_id}
    async with aiohttp.ClientSession() as http:
        async with http.put(
            f"{client.client.homeserver}/_matrix/client/v3/rooms/{room_id}/send/"
            f"m.room.encrypted/{uuid.uuid4().hex}", json=content,
            headers={"Authorization": f"Bearer {client.client.access_token}"},
        ) as response:
            assert response.status == 200, await response.text()


def _notices(client, room_id: str, bot: str) -> int:
    return sum(1 for r, e in client.messages
               if r == room_id and e.sender == bot and e.body == UNDECRYPTABLE_FR)


@pytest.mark.e2e
@pytest.mark.rule("bot.undecryptable-once-per-session")
async def test_one_notice_per_sender_and_session(stack):
    alice = await stack.practitioner("alice", verified=True)
    room_id = await alice.open_dm(stack.bot_id)
    lost = OutboundGroupSession()
    lost.mark_as_shared()  # (it is not: that is the point)
    for _ in range(4):
        await send_without_key(alice, room_id, lost)
    await alice.wait_for(lambda: _notices(alice, room_id, stack.bot_id) >= 1, 20,
                         "no notice for the undecryptable messages")
    # a normal exchange after them proves the bot has processed all four
    assert (await alice.ask(room_id, stack.bot_id, "!aide")).decrypted
    assert _notices(alice, room_id, stack.bot_id) == 1
    other = OutboundGroupSession()
    other.mark_as_shared()
    await send_without_key(alice, room_id, other)
    await alice.wait_for(lambda: _notices(alice, room_id, stack.bot_id) == 2, 20,
                         "a second lost session deserves its own notice")


@pytest.mark.rule("bot.undecryptable-throttled-in-groups")
def test_groups_get_at_most_one_notice_per_interval():
    now = [1000.0]
    notices = UndecryptableNotices(group_interval=300, clock=lambda: now[0])
    group = "!group:x"
    assert notices.should_notify(group, "@a:x", "S1", direct=False)
    assert not notices.should_notify(group, "@a:x", "S1", direct=False), "same session"
    assert not notices.should_notify(group, "@b:x", "S2", direct=False), "throttled room"
    assert notices.should_notify("!other:x", "@b:x", "S2", direct=False), "per room"
    now[0] += 301
    assert notices.should_notify(group, "@b:x", "S2", direct=False)
    assert not notices.should_notify(group, "@a:x", "S1", direct=False), "never twice"
    assert notices.should_notify("!dm:x", "@a:x", "S1", direct=True)
    assert notices.should_notify("!dm:x", "@a:x", "S3", direct=True), "DMs are not throttled"
