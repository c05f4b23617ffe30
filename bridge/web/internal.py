"""Internal API the Synapse module calls (`/_confrere/internal/v1`), behind a shared secret.

`GET users/<user_id>`: a user's state for the access rules. `POST refusals`: a person's action
was refused (user id and refusal code only); the bot explains it (`handlers/refusal_notices`).
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any, Awaitable, Callable

from aiohttp import web

StateLookup = Callable[[str], Awaitable[dict]]
USER_ID = re.compile(r"^@[a-z0-9._=\-/+]{1,255}:[A-Za-z0-9.\-:\[\]]{1,255}$")
MAX_BODY = 1024


class InternalAPI:
    def __init__(self, secret: str, state_of: StateLookup, notices: Any = None) -> None:
        self._secret = secret.encode()
        self._state_of = state_of
        self._notices = notices  # RefusalNotices, or None: refusals are acknowledged only

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/_confrere/internal/v1/users/{user_id}", self.user_state),
                web.post("/_confrere/internal/v1/refusals", self.refusal)]

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        token = header[7:].encode() if header.startswith("Bearer ") else b""
        return hmac.compare_digest(token, self._secret)

    @staticmethod
    def _forbidden() -> web.Response:
        return web.json_response({"errcode": "M_FORBIDDEN", "error": "bad secret"}, status=403)

    async def user_state(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._forbidden()
        user_id = request.match_info["user_id"]
        return web.json_response(await self._state_of(user_id))

    async def refusal(self, request: web.Request) -> web.Response:
        """Acknowledged at once (202); the notice, if any, is sent in the background."""
        if not self._authorised(request):
            return self._forbidden()
        if request.content_length is None or request.content_length > MAX_BODY:
            return web.json_response({"errcode": "M_TOO_LARGE"}, status=413)
        try:
            body = json.loads(await request.read())
            user_id, code = body["user_id"], body["code"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"errcode": "M_BAD_JSON"}, status=400)
        if (not isinstance(user_id, str) or not isinstance(code, str)
                or not USER_ID.match(user_id) or set(body) != {"user_id", "code"}):
            return web.json_response({"errcode": "M_BAD_JSON"}, status=400)
        if self._notices is None or not self._notices.accepts(code):
            return web.json_response({"notice": False}, status=202)
        return web.json_response({"notice": self._notices.report(user_id, code)}, status=202)
