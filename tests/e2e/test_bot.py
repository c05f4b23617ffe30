"""A practitioner talks to the bot in an encrypted DM, across a restart of the service."""

from __future__ import annotations

import aiohttp
from signedjson.key import decode_verify_key_bytes
from signedjson.sign import verify_signed_json
from sqlalchemy import select
from unpaddedbase64 import decode_base64

from bridge.storage.models import AppserviceEvent
from tests.e2e.harness import wait

pytestmark = __import__("pytest").mark.e2e


async def test_help_in_encrypted_dm(stack):
    alice = await stack.practitioner("alice", verified=True)
    room_id = await alice.open_dm(stack.bot_id)
    answer = await alice.ask(room_id, stack.bot_id, "!aide")
    assert answer.decrypted, "the answer must arrive end-to-end encrypted"
    assert "!aide / !help" in answer.body
    assert "commandes disponibles" in answer.body
    english = await alice.ask(room_id, stack.bot_id, "!help")
    assert english.body == answer.body


async def test_unknown_command_and_plain_text_get_helpful_answers(stack):
    bob = await stack.practitioner("bob", verified=True)
    room_id = await bob.open_dm(stack.bot_id)
    unknown = await bob.ask(room_id, stack.bot_id, "!aiide")
    assert "Commande inconnue" in unknown.body and "!aide" in unknown.body
    assert "Vouliez-vous dire !aide" in unknown.body
    hello = await bob.ask(room_id, stack.bot_id, "bonjour")
    assert "!aide" in hello.body and hello.decrypted


async def test_bot_device_is_cross_signed(stack):
    """Element only talks to devices their owner cross-signed: check the chain of signatures."""
    carol = await stack.client("carol")
    bot, device_id = stack.bot_id, stack.service.bot.device_id
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{stack.settings.synapse.url}/_matrix/client/v3/keys/query",
            json={"device_keys": {bot: []}},
            headers={"Authorization": f"Bearer {carol.client.access_token}"},
        ) as response:
            keys = await response.json()
    master = keys["master_keys"][bot]
    self_signing = keys["self_signing_keys"][bot]
    device = keys["device_keys"][bot][device_id]
    (master_id, master_b64), = master["keys"].items()
    (ssk_id, ssk_b64), = self_signing["keys"].items()
    verify_signed_json(self_signing, bot, decode_verify_key_bytes(master_id, decode_base64(master_b64)))
    verify_signed_json(device, bot, decode_verify_key_bytes(ssk_id, decode_base64(ssk_b64)))


async def test_restart_keeps_device_and_still_decrypts(stack):
    dave = await stack.practitioner("dave", verified=True)
    room_id = await dave.open_dm(stack.bot_id)
    before = await dave.ask(room_id, stack.bot_id, "!aide")
    device_before = stack.service.bot.device_id
    await stack.restart_service()
    assert stack.service.bot.device_id == device_before, "a restart must not create a device"
    after = await dave.ask(room_id, stack.bot_id, "!help", timeout=30)
    assert after.decrypted and after.body == before.body


async def test_bot_declines_non_direct_invites(stack):
    erin = await stack.practitioner("erin", verified=True)
    response = await erin.client.room_create(
        invite=[stack.bot_id],
        initial_state=[{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
    )
    room_id = response.room_id

    async def bot_left() -> bool:
        async with aiohttp.ClientSession() as http:
            async with http.get(
                f"{stack.settings.synapse.url}/_matrix/client/v3/rooms/{room_id}/members",
                headers={"Authorization": f"Bearer {erin.client.access_token}"},
            ) as resp:
                members = (await resp.json())["chunk"]
        return any(m["state_key"] == stack.bot_id and m["content"]["membership"] == "leave"
                   for m in members)

    assert await wait(bot_left, timeout=15), "the bot must decline a non-direct invite"


async def test_synapse_pushes_transactions_that_are_persisted(stack):
    """Events of the bot's rooms reach the service through appservice transactions."""
    frank = await stack.practitioner("frank", verified=True)
    room_id = await frank.open_dm(stack.bot_id)

    async def stored() -> bool:
        async with stack.service.database.session() as session:
            rows = (await session.execute(select(AppserviceEvent))).scalars().all()
        return any(row.content.get("room_id") == room_id and row.handled_at for row in rows)

    assert await wait(stored, timeout=15)
