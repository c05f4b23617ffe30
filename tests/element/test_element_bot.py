"""The bot as Element sees it: a verified practitioner on matrix-js-sdk with "exclude insecure
devices" on (Element's OnlySignedDevicesIsolationMode) opens an encrypted DM with the bot.
Room keys then flow only to and from devices their owner cross-signed, so the bot's answers
decrypting here prove its device is cross-signed (bridge/matrix/cross_signing.py), and its
answers to commands prove it decrypted what Element sent.
"""

from __future__ import annotations

import time

import pytest

from tests.element.conftest import raw_messages, record_timing
from tests.element.jsclient import needs_node

pytestmark = [pytest.mark.e2e, needs_node]


async def open_bot_dm(stack, client) -> str:
    """The DM as Element creates it: is_direct, trusted_private_chat, encrypted from the start."""
    room_id = await client.create_room(is_direct=True, invite=[stack.bot_id])
    await client.wait_member(room_id, stack.bot_id, timeout=30)
    return room_id


async def ask_bot(stack, client, room_id: str, text: str, scenario: str) -> dict:
    mark = len(client.events)
    started = time.monotonic()
    await client.send(room_id, {"msgtype": "m.text", "body": text})
    answer = await client.wait_event(
        lambda e: e["room_id"] == room_id and e["sender"] == stack.bot_id
        and e["type"] in ("m.room.message", "m.room.encrypted"),
        timeout=30, after=mark, what=f"bot answer to {text!r}")
    record_timing(stack, scenario, started)
    return answer


@pytest.mark.parametrize("isolation", ["only_signed", "all"])
async def test_bot_dm_both_ways(stack, element, isolation):
    """`only_signed` is Element's "exclude insecure devices" (default since April 2026);
    `all` is the former default."""
    vera = await element("vera", isolation=isolation)
    assert (await vera.call("user_has_cross_signing", user_id=stack.bot_id))["has_keys"]
    room_id = await open_bot_dm(stack, vera)
    answer = await ask_bot(stack, vera, room_id, "!aide", f"bot ({isolation}): !aide → answer")
    assert answer["decryption_failure"] is None, answer
    assert answer["encrypted"] and answer["type"] == "m.room.message"
    assert "commandes disponibles" in answer["content"]["body"]
    # no red shield: Element sees a device its owner cross-signed
    assert answer["shield"] == {"colour": "NONE", "reason": None}, answer["shield"]
    status = await vera.call("device_status", user_id=stack.bot_id,
                             device_id=stack.service.bot.device_id)
    assert status["signed_by_owner"], status

    # the bot decrypted Element's messages: it answers each for what it says
    hello = await ask_bot(stack, vera, room_id, "bonjour", f"bot ({isolation}): text → answer")
    assert hello["decryption_failure"] is None
    assert "!aide" in hello["content"]["body"] and "déchiffrer" not in hello["content"]["body"]

    wire = await raw_messages(stack, vera, room_id)
    sent = [e for e in wire.values() if e["sender"] in (vera.user_id, stack.bot_id)
            and "state_key" not in e]
    assert sent and all(e["type"] == "m.room.encrypted" for e in sent), \
        [(e["sender"], e["type"]) for e in sent]
