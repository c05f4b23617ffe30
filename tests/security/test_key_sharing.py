"""The bot shares room keys only with devices their owner cross-signed (Element's "exclude
insecure devices"), pins each owner's master key on first use, and stops sharing when it
changes until an administrator re-trusts it (`!confiance`). Real Synapse, real nio clients
made cross-signing capable by `cross_signed_client.py`."""

from __future__ import annotations

import asyncio

import pytest
from nio import MegolmEvent
from nio.exceptions import EncryptionError

from bridge.matrix.device_trust import REFUSE, SHARE_CROSS_SIGNED, SHARE_LEGACY, OwnerKeys, decide
from tests.e2e.matrix_client import TestClient
from tests.e2e.test_verification import admin_client
from tests.security.cross_signed_client import publish_identity, sign_device

pytestmark = pytest.mark.e2e


def _undecryptable_events(client: TestClient) -> list[tuple[str, MegolmEvent]]:
    seen: list[tuple[str, MegolmEvent]] = []

    async def on_megolm(room, event):
        seen.append((room.room_id, event))
    client.client.add_event_callback(on_megolm, MegolmEvent)
    return seen


async def _second_device(stack, user_id: str, password: str, name: str) -> TestClient:
    client = TestClient(stack.settings.synapse.url, user_id,
                        stack.data_dir / "clients" / f"{user_id.strip('@')}-{name}")
    await client.login(password)
    stack.clients.append(client)
    return client


async def _bot_message_without_key(client: TestClient, seen, room_id: str, bot: str,
                                   timeout: float = 20) -> MegolmEvent:
    """The bot's next message arrives on `client`, and stays undecryptable."""
    await client.wait_for(lambda: any(r == room_id and e.sender == bot for r, e in seen),
                          timeout, "the bot's encrypted message did not arrive")
    event = [e for r, e in seen if r == room_id and e.sender == bot][-1]
    await asyncio.sleep(2)  # time for a (wrongly) shared key to arrive too
    with pytest.raises(EncryptionError):
        client.client.decrypt_event(event)
    return event


@pytest.mark.rule("keys.cross-signed-only")
async def test_only_the_cross_signed_device_gets_the_bots_room_keys(stack, tmp_path):
    user_id, password = await stack.register("xsign")
    await stack.add_account(user_id, state="verified")
    signed = await _second_device(stack, user_id, password, "signed")
    keys = await publish_identity(signed, password, tmp_path / "keys1.json")
    await sign_device(signed, keys, signed.client.device_id)
    unsigned = await _second_device(stack, user_id, password, "unsigned")
    seen_unsigned = _undecryptable_events(unsigned)
    room_id = await signed.open_dm(stack.bot_id)
    await unsigned.wait_for(lambda: room_id in unsigned.client.invited_rooms
                            or room_id in unsigned.client.rooms, 20, "room seen by device 2")
    answer = await signed.ask(room_id, stack.bot_id, "!aide")
    assert answer.decrypted and "!aide" in answer.body
    await _bot_message_without_key(unsigned, seen_unsigned, room_id, stack.bot_id)
    assert not [e for r, e in unsigned.messages if e.sender == stack.bot_id]
    assert stack.service.bot.trust.pins.get(user_id) == keys.public("master"), "pinned (TOFU)"


@pytest.mark.rule("keys.master-key-pinned")
async def test_a_changed_master_key_stops_key_sharing_until_an_administrator_retrusts(
        stack, tmp_path):
    user_id, password = await stack.register("rekey")
    await stack.add_account(user_id, state="verified")
    device = await _second_device(stack, user_id, password, "phone")
    first = await publish_identity(device, password, tmp_path / "keys1.json")
    await sign_device(device, first, device.client.device_id)
    room_id = await device.open_dm(stack.bot_id)
    assert (await device.ask(room_id, stack.bot_id, "!aide")).decrypted

    # The master key is replaced (what a thief holding the password could do) and the same
    # device is signed by the new key: the bot must stop sharing with it.
    second = await publish_identity(device, password, tmp_path / "keys2.json")
    await sign_device(device, second, device.client.device_id)
    seen = _undecryptable_events(device)
    admin = await admin_client(stack)
    admin_room = await stack.service.verification.get_value("admin_room_id")
    await admin.wait_for(lambda: admin_room in admin.client.invited_rooms
                         or admin_room in admin.client.rooms, 20, "admin invited")
    await admin.client.join(admin_room)
    await admin.wait_for(lambda: admin_room in admin.client.rooms, 20, "admin joined")
    mark = len(admin.messages)
    for _ in range(40):  # the bot learns of the change through its sync (device_lists)
        await device.send_text(room_id, "!aide")
        try:
            await _bot_message_without_key(device, seen, room_id, stack.bot_id, timeout=5)
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("the bot kept sharing keys after the master key changed")
    notice = await admin.next_message_from(stack.bot_id, admin_room, mark)
    assert user_id in notice.body and "!confiance" in notice.body

    refused = await admin.ask(admin_room, stack.bot_id, "!confiance")
    assert "Usage" in refused.body
    done = await admin.ask(admin_room, stack.bot_id, f"!confiance {user_id}")
    assert "approuvée" in done.body
    assert stack.service.bot.trust.pins.get(user_id) == second.public("master")
    again = await device.ask(room_id, stack.bot_id, "!aide")
    assert again.decrypted and "!aide" in again.body


@pytest.mark.rule("keys.master-key-pinned")
async def test_only_administrators_in_their_room_may_retrust(stack):
    someone = await stack.practitioner("mallory", verified=True)
    room_id = await someone.open_dm(stack.bot_id)
    answer = await someone.ask(room_id, stack.bot_id, f"!confiance {someone.user_id}")
    assert "réservée aux administrateurs" in answer.body


@pytest.mark.rule("keys.legacy-owner")
async def test_devices_of_owners_without_cross_signing_still_get_keys(stack):
    """The documented decision: no cross-signing at all → keys shared (nio, old clients)."""
    legacy = await stack.practitioner("legacy", verified=True)
    room_id = await legacy.open_dm(stack.bot_id)
    assert (await legacy.ask(room_id, stack.bot_id, "!aide")).decrypted
    assert stack.service.bot.trust.pins.get(legacy.user_id) is None


@pytest.mark.rule("keys.cross-signed-only")
def test_decision_table():
    signed = OwnerKeys(master="M", signed={"D1": "ed1"}, devices={"D1", "D2"})
    assert decide("D1", "ed1", signed, "M") == SHARE_CROSS_SIGNED
    assert decide("D1", "other-key", signed, "M") == REFUSE, "keys must match the signed ones"
    assert decide("D2", "ed2", signed, "M") == REFUSE
    assert decide("D1", "ed1", signed, "OLD") == REFUSE, "master key changed"
    assert decide("D1", "ed1", OwnerKeys(), None) == SHARE_LEGACY
    assert decide("D1", "ed1", OwnerKeys(), "M") == REFUSE, "cross-signing removed after pinning"
