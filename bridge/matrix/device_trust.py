"""Which devices the bot shares room keys with: Element's "exclude insecure devices" mode.

A room key given to a device lets it read what the bot says in that room, so the bot decides
device by device, before every message it sends:
- an owner who has cross-signing: only the devices their self-signing key signed (that key
  itself signed by their master key) get the key;
- the owner's master key is pinned on first sight (trust on first use), durably, in
  `<bot data>/trusted_master_keys.json`; if it later changes (or disappears) none of the
  owner's devices gets a key until an administrator re-pins it (`!confiance @user`, after
  checking with the practitioner that they did reset their keys) — a stolen password is
  enough to replace a master key, so a change is not taken on trust;
- an owner who never had cross-signing (matrix-nio clients, old clients): their devices get
  the key, as before. Refusing them would cut off every client without cross-signing while
  the homeserver already decides who may be in the room; the risk (a stolen access token of
  such an account can add a device that receives keys) is written in the threat model.

nio only knows "verified", "ignored" and "blacklisted" devices; the decision is written into
its store before each send (verified: cross-signed; ignored: legacy owner; blacklisted:
refused), and the send asks nio to refuse any device still undecided. When a device loses
trust (or a newly trusted one has not got the current key), the room's outbound session is
dropped so the next message uses a fresh key.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp
from nio import AsyncClient
from nio.exceptions import LocalProtocolError, OlmUnverifiedDeviceError
from signedjson.key import decode_verify_key_bytes
from signedjson.sign import SignatureVerifyException, verify_signed_json
from unpaddedbase64 import decode_base64

from bridge.storage.private_files import write_private_json

log = logging.getLogger(__name__)

SHARE_CROSS_SIGNED = "cross-signed"
SHARE_LEGACY = "no cross-signing"
REFUSE = "refused"


@dataclass
class OwnerKeys:
    """What the server says about one user's keys, with every signature checked."""

    master: str | None = None                               # public master key, base64
    signed: dict[str, str] = field(default_factory=dict)    # device id → its ed25519 key
    devices: set[str] = field(default_factory=set)          # every device id listed
    fetched_at: float = field(default_factory=time.monotonic)


def _only_key(key_object: dict, user_id: str, usage: str) -> tuple[str, str] | None:
    keys = key_object.get("keys") or {}
    if key_object.get("user_id") != user_id or usage not in (key_object.get("usage") or []):
        return None
    if len(keys) != 1:
        return None
    (key_id, public), = keys.items()
    return (key_id, public) if key_id.startswith("ed25519:") else None


def _signed_by(obj: dict, user_id: str, key: tuple[str, str]) -> bool:
    key_id, public = key
    try:
        verify_signed_json(obj, user_id, decode_verify_key_bytes(key_id, decode_base64(public)))
    except (SignatureVerifyException, ValueError, KeyError, TypeError):
        return False
    return True


def owner_keys(user_id: str, query: dict[str, Any]) -> OwnerKeys:
    """Parse a `keys/query` answer for `user_id`: master key and the devices it vouches for."""
    devices = (query.get("device_keys") or {}).get(user_id) or {}
    owner = OwnerKeys(devices=set(devices))
    master_obj = (query.get("master_keys") or {}).get(user_id)
    if not master_obj:
        return owner
    master = _only_key(master_obj, user_id, "master")
    if master is None:
        owner.master = "invalid"
        return owner
    owner.master = master[1]
    ssk_obj = (query.get("self_signing_keys") or {}).get(user_id)
    ssk = _only_key(ssk_obj, user_id, "self_signing") if ssk_obj else None
    if ssk is None or not _signed_by(ssk_obj, user_id, master):
        return owner
    for device_id, device in devices.items():
        own = f"ed25519:{device_id}"
        public = (device.get("keys") or {}).get(own)
        if (device.get("user_id") == user_id and device.get("device_id") == device_id and public
                and _signed_by(device, user_id, (own, public))
                and _signed_by(device, user_id, ssk)):
            owner.signed[device_id] = public
    return owner


def decide(device_id: str, device_ed25519: str, owner: OwnerKeys, pinned: str | None) -> str:
    if owner.master is None:
        return REFUSE if pinned else SHARE_LEGACY
    if pinned != owner.master:
        return REFUSE
    return SHARE_CROSS_SIGNED if owner.signed.get(device_id) == device_ed25519 else REFUSE


class MasterKeyPins:
    """user id → the master key trusted on first use; a 0600 JSON file, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pins: dict[str, dict[str, str]] = (
            json.loads(path.read_text()) if path.exists() else {})

    def get(self, user_id: str) -> str | None:
        entry = self._pins.get(user_id)
        return entry["key"] if entry else None

    def pin(self, user_id: str, key: str, by: str) -> None:
        self._pins[user_id] = {"key": key, "by": by,
                               "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        write_private_json(self.path, self._pins, indent=1)


class DeviceTrust:
    """Applies the decision to nio's device store before the bot sends in a room."""

    def __init__(self, client, pins: MasterKeyPins, ttl: float = 600.0,
                 on_master_changed: Callable[[str], Awaitable[None]] | None = None) -> None:
        self.client = client
        self.pins = pins
        self.ttl = ttl
        self.on_master_changed = on_master_changed
        self._owners: dict[str, OwnerKeys] = {}
        self._reported: set[str] = set()

    def forget(self, user_ids) -> None:
        """Their keys changed (sync `device_lists.changed`): query them again before sharing."""
        for user_id in user_ids:
            self._owners.pop(user_id, None)

    async def query(self, user_ids: list[str]) -> dict[str, OwnerKeys]:
        client = self.client
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{client.homeserver}/_matrix/client/v3/keys/query",
                json={"device_keys": {user_id: [] for user_id in user_ids}},
                headers={"Authorization": f"Bearer {client.access_token}"},
            ) as response:
                if response.status != 200:
                    raise RuntimeError(f"keys/query failed: {response.status}")
                answer = await response.json()
        listed = answer.get("device_keys") or {}
        # a user the server could not answer for is unknown, not "without cross-signing"
        return {user_id: owner_keys(user_id, answer) if user_id in listed
                else OwnerKeys(master="unknown") for user_id in user_ids}

    async def _refresh(self, user_ids: list[str]) -> None:
        for user_id, owner in (await self.query(user_ids)).items():
            self._owners[user_id] = owner
            if owner.master == "unknown":
                owner.fetched_at = 0.0  # refused for now, asked again at the next send
                continue
            pinned = self.pins.get(user_id)
            if pinned is None and owner.master and owner.master != "invalid":
                self.pins.pin(user_id, owner.master, "first use")
                log.info("pinned the cross-signing master key of %s on first use", user_id)
            elif pinned is not None and owner.master != pinned and user_id not in self._reported:
                self._reported.add(user_id)
                log.warning("master key of %s changed: no room key for their devices until "
                            "an administrator re-verifies them", user_id)
                if self.on_master_changed is not None:
                    try:
                        await self.on_master_changed(user_id)
                    except Exception:  # noqa: BLE001 - telling the admins is best effort
                        log.exception("could not report the key change of %s", user_id)

    def _stale(self, user_id: str) -> bool:
        owner = self._owners.get(user_id)
        if owner is None or time.monotonic() - owner.fetched_at > self.ttl:
            return True
        return any(device.id not in owner.devices
                   for device in self.client.device_store.active_user_devices(user_id))

    async def prepare(self, room_id: str, *, force: bool = False) -> dict[tuple[str, str], str]:
        """Decide for every device of the room's members; return (user, device) → decision."""
        client = self.client
        room = client.rooms.get(room_id)
        if room is None or not room.encrypted:
            return {}
        if not room.members_synced:
            await client.joined_members(room_id)
        if client.should_query_keys:
            try:
                await client.keys_query()
            except LocalProtocolError:  # the sync loop's query got there first
                pass
        users = list(room.users)
        stale = [u for u in users if force or self._stale(u)]
        if stale:
            await self._refresh(stale)
        decisions: dict[tuple[str, str], str] = {}
        for user_id in users:
            owner = self._owners.get(user_id, OwnerKeys(master="unknown"))
            pinned = self.pins.get(user_id)
            for device in client.device_store.active_user_devices(user_id):
                if user_id == client.user_id and device.id == client.device_id:
                    continue
                decision = decide(device.id, device.ed25519, owner, pinned)
                decisions[(user_id, device.id)] = decision
                self._apply(device, decision)
        self._rotate_if_needed(room_id, decisions)
        return decisions

    def _apply(self, device, decision: str) -> None:
        client = self.client
        if decision == SHARE_CROSS_SIGNED and not client.olm.is_device_verified(device):
            client.verify_device(device)
        elif decision == SHARE_LEGACY and not client.olm.is_device_ignored(device):
            client.ignore_device(device)
        elif decision == REFUSE and not client.olm.is_device_blacklisted(device):
            client.blacklist_device(device)

    def _rotate_if_needed(self, room_id: str, decisions: dict[tuple[str, str], str]) -> None:
        session = self.client.olm.outbound_group_sessions.get(room_id)
        if session is None or not session.shared:
            return
        refused = {key for key, decision in decisions.items() if decision == REFUSE}
        trusted = {key for key, decision in decisions.items() if decision != REFUSE}
        if session.users_shared_with & refused or trusted - session.users_shared_with:
            self.client.invalidate_outbound_session(room_id)

    async def repin(self, user_id: str, by: str) -> str | None:
        """Trust the user's current master key (after an out-of-band check); return it."""
        owner = (await self.query([user_id]))[user_id]
        if not owner.master or owner.master == "invalid":
            return None
        self.pins.pin(user_id, owner.master, by)
        self._owners[user_id] = owner
        self._reported.discard(user_id)
        return owner.master


class TrustedSendClient(AsyncClient):
    """The bot's nio client: every `room_send`, whoever calls it (the bot, a handler sending
    directly), applies the trust decision first and never lets nio share a room key with an
    undecided device (`ignore_unverified_devices` is forced off)."""

    trust: DeviceTrust | None = None

    async def room_send(self, room_id: str, message_type: str, content: dict[Any, Any],
                        tx_id: str | None = None, ignore_unverified_devices: bool = False):
        if self.trust is None:
            raise RuntimeError("the bot's device trust is not set up")
        await self.trust.prepare(room_id)
        try:
            return await super().room_send(room_id, message_type, content, tx_id,
                                           ignore_unverified_devices=False)
        except OlmUnverifiedDeviceError:
            # a device appeared between the decision and the send: decide again, once
            await self.trust.prepare(room_id, force=True)
            return await super().room_send(room_id, message_type, content, tx_id,
                                           ignore_unverified_devices=False)
