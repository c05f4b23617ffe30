"""Calls to Synapse's admin and registration APIs made by the service (never by users)."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote
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


class AppserviceClient:
    """Calls made as the appservice (`as_token`): registering its ghosts, acting as one.

    The one place for them: `as_user(ghost).join(room)` instead of hand-written URLs.
    Errors raise `SynapseAdminError`, so a caller that must retry (an event hook) does.
    """

    def __init__(self, http: aiohttp.ClientSession, homeserver_url: str, as_token: str) -> None:
        self.http = http
        self.base = homeserver_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {as_token}"}
        self._registered: set[str] = set()
        # Display names are locked for every user (`enable_set_displayname: false`, they are
        # the verified badge): a ghost's is set through the admin API, once the admin exists.
        self.admin_token: str | None = None

    async def ensure_registered(self, user_id: str) -> None:
        """Synapse lets the appservice act only as users it registered: do it once."""
        if user_id in self._registered:
            return
        if not await self.register(user_id[1:].split(":", 1)[0]):
            raise SynapseAdminError(403, {"errcode": "M_FORBIDDEN",
                                          "error": "the ghost could not be registered"})
        self._registered.add(user_id)

    async def register(self, localpart: str) -> bool:
        """Create the appservice user `localpart` (True, also when it already exists)."""
        async with self.http.post(
            f"{self.base}/_matrix/client/v3/register", headers=self.headers,
            json={"type": "m.login.application_service", "username": localpart,
                  "inhibit_login": True},
        ) as response:
            body = await response.json(content_type=None)
            return response.status == 200 or (isinstance(body, dict)
                                               and body.get("errcode") == "M_USER_IN_USE")

    def as_user(self, user_id: str) -> "ActingAs":
        return ActingAs(self, user_id)


class ActingAs:
    """One appservice user (a ghost) acting through `?user_id=` and the appservice token
    (its display name through the admin API: names are locked for every user)."""

    def __init__(self, client: AppserviceClient, user_id: str) -> None:
        self.client = client
        self.user_id = user_id

    async def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        await self.client.ensure_registered(self.user_id)
        async with self.client.http.request(
            method, f"{self.client.base}/_matrix/client/v3{path}",
            params={"user_id": self.user_id}, headers=self.client.headers, json=body,
        ) as response:
            return await _json(response)

    async def join(self, room_id: str) -> None:
        await self._call("POST", f"/rooms/{quote(room_id)}/join", {})

    async def leave(self, room_id: str) -> None:
        await self._call("POST", f"/rooms/{quote(room_id)}/leave", {})

    async def set_display_name(self, name: str) -> None:
        """Its display name, e.g. "Prénom NOM (invité)" (also in the rooms it is in)."""
        await self.client.ensure_registered(self.user_id)
        if self.client.admin_token is None:
            raise SynapseAdminError(503, {"errcode": "M_NOT_READY",
                                          "error": "the administrator account is not ready"})
        await set_display_name(self.client.http, self.client.base, self.client.admin_token,
                               self.user_id, name)
