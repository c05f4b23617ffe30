"""Cross-signing for a matrix-nio test client (nio has none): publish a master and a
self-signing key for the user and sign a device with it — what Element does at setup — reusing
the bot's own `CrossSigningKeys`."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from signedjson.sign import sign_json

from bridge.matrix.cross_signing import CrossSigningKeys
from tests.e2e.matrix_client import TestClient


async def _post(client: TestClient, path: str, body: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{client.client.homeserver}/_matrix/client/v3/{path}", json=body,
            headers={"Authorization": f"Bearer {client.client.access_token}"},
        ) as response:
            return response.status, await response.json(content_type=None)


async def publish_identity(client: TestClient, password: str, path: Path) -> CrossSigningKeys:
    """New cross-signing keys for the client's user (replacing any, with the password)."""
    path.unlink(missing_ok=True)
    keys = CrossSigningKeys.load_or_create(path)
    body = keys.upload_body(client.user_id)
    status, answer = await _post(client, "keys/device_signing/upload", body)
    if status == 401:  # replacing keys needs the password (user-interactive auth)
        body["auth"] = {"type": "m.login.password", "session": answer.get("session"),
                        "identifier": {"type": "m.id.user", "user": client.user_id},
                        "password": password}
        status, answer = await _post(client, "keys/device_signing/upload", body)
    assert status == 200, (status, answer.get("errcode"))
    return keys


async def sign_device(client: TestClient, keys: CrossSigningKeys, device_id: str) -> None:
    """Sign one of the user's devices with the self-signing key."""
    user_id = client.user_id
    status, answer = await _post(client, "keys/query", {"device_keys": {user_id: [device_id]}})
    device = answer["device_keys"][user_id][device_id]
    device = {k: v for k, v in device.items() if k != "unsigned"}
    signed = sign_json(device, user_id, keys.signing_key("self_signing"))
    status, answer = await _post(client, "keys/signatures/upload", {user_id: {device_id: signed}})
    assert status == 200 and not answer.get("failures"), answer
