"""The bot's cross-signing identity: master, self-signing and user-signing keys.

matrix-nio has no cross-signing, and current Element clients refuse devices that their owner
has not cross-signed. So the bot keeps three ed25519 keys next to its crypto store, publishes
them once (`keys/device_signing/upload`) and signs its own device with the self-signing key
(`keys/signatures/upload`). Both steps are idempotent and checked at every start.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from signedjson.key import (
    decode_signing_key_base64,
    encode_signing_key_base64,
    encode_verify_key_base64,
    generate_signing_key,
    get_verify_key,
)
from signedjson.sign import sign_json

from bridge.storage.private_files import write_private_json

log = logging.getLogger(__name__)

USAGES = ("master", "self_signing", "user_signing")


@dataclass
class CrossSigningKeys:
    """Private seeds of the three keys; the key id is the public key itself (spec)."""

    seeds: dict[str, str]

    @classmethod
    def load_or_create(cls, path: Path) -> "CrossSigningKeys":
        if path.exists():
            return cls(seeds=json.loads(path.read_text()))
        seeds = {usage: encode_signing_key_base64(generate_signing_key("0")) for usage in USAGES}
        write_private_json(path, seeds)
        return cls(seeds=seeds)

    def signing_key(self, usage: str):
        seed = self.seeds[usage]
        public = encode_verify_key_base64(get_verify_key(decode_signing_key_base64("ed25519", "0", seed)))
        return decode_signing_key_base64("ed25519", public, seed)

    def public(self, usage: str) -> str:
        return self.signing_key(usage).version

    def key_object(self, user_id: str, usage: str) -> dict[str, Any]:
        public = self.public(usage)
        return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{public}": public}}

    def upload_body(self, user_id: str) -> dict[str, Any]:
        """Master key, and the two others signed by the master key."""
        master = self.signing_key("master")
        body = {"master_key": self.key_object(user_id, "master")}
        for usage in ("self_signing", "user_signing"):
            body[f"{usage}_key"] = sign_json(self.key_object(user_id, usage), user_id, master)
        return body


async def ensure_cross_signed(
    http: aiohttp.ClientSession, homeserver_url: str, *, user_id: str, device_id: str,
    device_token: str, as_token: str, keys: CrossSigningKeys,
) -> bool:
    """Publish the keys if the server lacks them and sign the device; return True if changed.

    The upload uses the appservice token (as the bot): Synapse then needs no interactive
    auth even to replace keys, so a lost store never locks the bot out.
    """
    base = homeserver_url.rstrip("/") + "/_matrix/client/v3"
    device_auth = {"Authorization": f"Bearer {device_token}"}
    query = await _post(http, f"{base}/keys/query", {"device_keys": {user_id: []}}, device_auth)
    master_on_server = query.get("master_keys", {}).get(user_id, {}).get("keys", {})
    self_signing_on_server = query.get("self_signing_keys", {}).get(user_id, {}).get("keys", {})
    changed = False
    if (f"ed25519:{keys.public('master')}" not in master_on_server
            or f"ed25519:{keys.public('self_signing')}" not in self_signing_on_server):
        await _post(
            http, f"{base}/keys/device_signing/upload", keys.upload_body(user_id),
            {"Authorization": f"Bearer {as_token}"}, params={"user_id": user_id},
        )
        changed = True
        log.info("published the bot's cross-signing keys")
    device = query.get("device_keys", {}).get(user_id, {}).get(device_id)
    if device is None:
        raise RuntimeError("the bot's device keys are not on the server yet")
    ssk_id = f"ed25519:{keys.public('self_signing')}"
    if changed or ssk_id not in device.get("signatures", {}).get(user_id, {}):
        unsigned_device = {k: v for k, v in device.items() if k not in ("signatures", "unsigned")}
        unsigned_device["signatures"] = device.get("signatures", {})
        signed = sign_json(unsigned_device, user_id, keys.signing_key("self_signing"))
        result = await _post(
            http, f"{base}/keys/signatures/upload", {user_id: {device_id: signed}}, device_auth
        )
        if result.get("failures"):
            raise RuntimeError(f"device signature refused: {result['failures']}")
        changed = True
        log.info("signed the bot's device %s with its self-signing key", device_id)
    return changed


async def _post(http: aiohttp.ClientSession, url: str, body: dict, headers: dict,
                params: dict | None = None) -> dict[str, Any]:
    async with http.post(url, json=body, headers=headers, params=params) as response:
        data = await response.json(content_type=None)
        if response.status >= 400:
            raise RuntimeError(f"{url.rsplit('/v3/', 1)[-1]}: {response.status} {data.get('errcode')}")
        return data
