"""Calls to Synapse's admin and registration APIs made by the service (never by users)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class AdminAccount:
    """The service's own Synapse administrator (`@admin`), created once by `bootstrap.py`."""

    user_id: str
    password: str
    access_token: str


class SynapseAdminError(RuntimeError):
    """Synapse refused an admin call; `status` and `errcode` say why."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.errcode = body.get("errcode", "")
        super().__init__(f"Synapse answered {status} {self.errcode}: {body.get('error', '')}")


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await response.json(content_type=None)
    except ValueError:
        body = {}
    if response.status >= 400:
        raise SynapseAdminError(response.status, body if isinstance(body, dict) else {})
    return body


async def register_with_shared_secret(
    http: aiohttp.ClientSession, homeserver_url: str, shared_secret: str, username: str,
    password: str, *, admin: bool = False, displayname: str | None = None,
) -> dict[str, Any]:
    """Create a local account through `/_synapse/admin/v1/register` (nonce + HMAC-SHA1).

    Returns Synapse's answer (user_id, access_token, device_id).
    """
    url = f"{homeserver_url.rstrip('/')}/_synapse/admin/v1/register"
    async with http.get(url) as response:
        nonce = (await _json(response))["nonce"]
    digest = hmac.new(shared_secret.encode(), digestmod=hashlib.sha1)
    digest.update(b"\x00".join(
        p.encode() for p in (nonce, username, password, "admin" if admin else "notadmin")
    ))
    body = {
        "nonce": nonce, "username": username, "password": password, "admin": admin,
        "mac": digest.hexdigest(),
    }
    if displayname:
        body["displayname"] = displayname
    async with http.post(url, json=body) as response:
        return await _json(response)


async def exempt_from_rate_limits(
    http: aiohttp.ClientSession, homeserver_url: str, admin_token: str, user_id: str
) -> None:
    """Unlimited message rate for `user_id` (the bot answers every practitioner)."""
    url = f"{homeserver_url.rstrip('/')}/_synapse/admin/v1/users/{user_id}/override_ratelimit"
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with http.post(url, json={"messages_per_second": 0, "burst_count": 0},
                         headers=headers) as response:
        await _json(response)


async def whoami(http: aiohttp.ClientSession, homeserver_url: str, token: str) -> dict[str, Any]:
    url = f"{homeserver_url.rstrip('/')}/_matrix/client/v3/account/whoami"
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        return await _json(response)


async def set_display_name(http: aiohttp.ClientSession, homeserver_url: str, admin_token: str,
                           user_id: str, display_name: str) -> None:
    """Users cannot change their display name (it is the verified badge): the service does."""
    url = f"{homeserver_url.rstrip('/')}/_synapse/admin/v2/users/{user_id}"
    async with http.put(url, json={"displayname": display_name},
                        headers={"Authorization": f"Bearer {admin_token}"}) as response:
        await _json(response)
