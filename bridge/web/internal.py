"""Internal API the Synapse module calls (`/_confrere/internal/v1`), behind a shared secret."""

from __future__ import annotations

import hmac
from typing import Awaitable, Callable

from aiohttp import web

StateLookup = Callable[[str], Awaitable[dict]]


class InternalAPI:
    def __init__(self, secret: str, state_of: StateLookup) -> None:
        self._secret = secret.encode()
        self._state_of = state_of

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/_confrere/internal/v1/users/{user_id}", self.user_state)]

    async def user_state(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        token = header[7:].encode() if header.startswith("Bearer ") else b""
        if not hmac.compare_digest(token, self._secret):
            return web.json_response({"errcode": "M_FORBIDDEN", "error": "bad secret"}, status=403)
        user_id = request.match_info["user_id"]
        return web.json_response(await self._state_of(user_id))
