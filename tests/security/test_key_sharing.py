"""The bot shares room keys only with devices their owner cross-signed (Element's "exclude
insecure devices"), pins each owner's master key on first use, and stops sharing when it
changes until an administrator re-trusts it (`!confiance`). Real Synapse, real nio clients
made cross-signing capable by `cross_signed_client.py`."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from nio import MegolmEvent
from nio.exceptions import EncryptionError

from signedjson.key import encode_verify_key_base64, generate_signing_key, get_verify_key
from signedjson.sign import sign_json

from bridge.matrix.cross_signing import CrossSigningKeys
from bridge.matrix.device_trust import (
    REFUSE,
    SHARE_CROSS_SIGNED,
    SHARE_LEGACY,
    OwnerKeys,
    decide,
    owner_keys,
)
from tests.e2e.matrix_client import TestClient
from tests.e2e.test_verification import admin_client
from tests.security.canaries import plant
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


def _query_for(user_id: str, keys: CrossSigningKeys, devices: dict[str, dict]) -> dict:
    body = keys.upload_body(user_id)
    return {"device_keys": {user_id: devices},
            "master_keys": {user_id: body["master_key"]},
            "self_signing_keys": {user_id: body["self_signing_key"]}}


def _device(user_id: str, device_id: str) -> tuple[dict, object]:
    """A device-keys object self-signed by its own ed25519 key, as a client uploads it."""
    key = generate_signing_key(device_id)
    public = encode_verify_key_base64(get_verify_key(key))
    obj = {"user_id": user_id, "device_id": device_id,
           "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
           "keys": {f"ed25519:{device_id}": public, f"curve25519:{device_id}": "x"}}
    return sign_json(obj, user_id, key), public


@pytest.mark.rule("keys.cross-signed-only")
def test_signature_chain_is_checked_link_by_link(tmp_path):
    user = "@u:x"
    keys = CrossSigningKeys.load_or_create(tmp_path / "k.json")
    other = CrossSigningKeys.load_or_create(tmp_path / "other.json")
    good, good_pub = _device(user, "GOOD")
    good = sign_json(good, user, keys.signing_key("self_signing"))
    unsigned, _ = _device(user, "UNSIGNED")
    foreign, _ = _device(user, "FOREIGN")  # signed by someone else's self-signing key
    foreign = sign_json(foreign, user, other.signing_key("self_signing"))
    tampered, _ = _device(user, "TAMPERED")
    tampered = sign_json(tampered, user, keys.signing_key("self_signing"))
    tampered["keys"]["curve25519:TAMPERED"] = "swapped"  # signed, then changed
    owner = owner_keys(user, _query_for(user, keys, {
        "GOOD": good, "UNSIGNED": unsigned, "FOREIGN": foreign, "TAMPERED": tampered}))
    assert owner.master == keys.public("master")
    assert owner.signed == {"GOOD": good_pub}
    assert owner.devices == {"GOOD", "UNSIGNED", "FOREIGN", "TAMPERED"}

    # a self-signing key not signed by the master key vouches for nothing
    query = _query_for(user, keys, {"GOOD": good})
    query["self_signing_keys"][user] = other.upload_body(user)["self_signing_key"]
    assert owner_keys(user, query).signed == {}
    # a master key object claimed for another user is not this user's identity
    query = _query_for(user, keys, {"GOOD": good})
    query["master_keys"][user]["user_id"] = "@mallory:x"
    assert owner_keys(user, query).master == "invalid"


@pytest.mark.rule("keys.cross-signed-only")
async def test_a_device_added_to_the_bots_own_account_gets_no_room_key(stack):
    """A stolen appservice token can log a new device in as the bot: the bot cross-signed
    only its own device, so the intruder's device must never receive a room key."""
    url, bot_id = stack.settings.synapse.url, stack.bot_id
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/_matrix/client/v3/login",
            headers={"Authorization": f"Bearer {stack.settings.secrets.as_token}"},
            json={"type": "m.login.application_service",
                  "identifier": {"type": "m.id.user", "user": bot_id[1:].split(":")[0]}},
        ) as response:
            login = await response.json()
    rogue = TestClient(url, bot_id, stack.data_dir / "clients" / "rogue-bot-device")
    rogue.client.restore_login(login["user_id"], login["device_id"],
                               plant(login["access_token"], "access token"))
    stack.clients.append(rogue)
    try:
        await rogue.client.sync(timeout=0, full_state=True)
        await rogue.client.keys_upload()
        seen = _undecryptable_events(rogue)
        rogue._task = asyncio.create_task(rogue._sync_loop())
        bot = stack.service.bot.client
        await rogue.wait_for(lambda: login["device_id"] in {
            d.id for d in bot.device_store.active_user_devices(bot_id)}, 30,
            "the bot never learnt of the new device")
        alice = await stack.practitioner("alice", verified=True)
        room_id = await alice.open_dm(bot_id)
        assert (await alice.ask(room_id, bot_id, "!aide")).decrypted
        await _bot_message_without_key(rogue, seen, room_id, bot_id)
    finally:
        await rogue.client.logout()
