"""HTTP endpoints Synapse calls: transactions, user look-ups, ping (`/_matrix/app/v1`)."""

from __future__ import annotations

import hmac
import logging
from typing import Awaitable, Callable

from aiohttp import web

from bridge.appservice.transactions import EventProcessor, TransactionStore

log = logging.getLogger(__name__)

PREFIX = "/_matrix/app/v1"

UserQuery = Callable[[str], Awaitable[bool]]


def _error(status: int, errcode: str, message: str) -> web.Response:
    return web.json_response({"errcode": errcode, "error": message}, status=status)


def authorise(request: web.Request, hs_token: bytes) -> web.Response | None:
    """None if the request carries Synapse's hs_token in `Authorization: Bearer` (compared in
    constant time). Never from the query string: URLs end up in proxies' and servers' logs,
    and Synapse sends the header (`use_appservice_legacy_authorization` stays off)."""
    if "access_token" in request.query:
        return _error(401, "M_UNAUTHORIZED", "The hs_token is accepted only in the "
                      "Authorization header")
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    if not token:
        return _error(401, "M_UNAUTHORIZED", "Missing hs_token")
    if not hmac.compare_digest(token.encode(), hs_token):
        return _error(403, "M_FORBIDDEN", "Invalid hs_token")
    return None


class AppserviceAPI:
    """Checks the hs_token in constant time, then records and acknowledges."""

    def __init__(self, hs_token: str, store: TransactionStore, processor: EventProcessor,
                 user_query: UserQuery) -> None:
        self._hs_token = hs_token.encode()
        self.store = store
        self.processor = processor
        self.user_query = user_query

    def routes(self) -> list[web.RouteDef]:
        return [
            web.put(PREFIX + "/transactions/{txn_id}", self.put_transaction),
            web.get(PREFIX + "/users/{user_id}", self.get_user),
            web.get(PREFIX + "/rooms/{alias}", self.get_room),
            web.post(PREFIX + "/ping", self.ping),
        ]

    def _authorised(self, request: web.Request) -> web.Response | None:
        return authorise(request, self._hs_token)

    async def put_transaction(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        try:
            body = await request.json()
            events = body.get("events", [])
            if not isinstance(events, list):
                raise ValueError
        except (ValueError, AttributeError):
            return _error(400, "M_NOT_JSON", "Body must be a JSON object with an events list")
        txn_id = request.match_info["txn_id"]
        if await self.store.record(txn_id, [e for e in events if isinstance(e, dict)]):
            self.processor.wake()
        else:
            log.info("transaction %s replayed; acknowledged without reprocessing", txn_id)
        return web.json_response({})

    async def get_user(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        if await self.user_query(request.match_info["user_id"]):
            return web.json_response({})
        return _error(404, "M_NOT_FOUND", "No such user in the Confrère namespace")

    async def get_room(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        return _error(404, "M_NOT_FOUND", "Confrère does not provide room aliases")

    async def ping(self, request: web.Request) -> web.Response:
        if (denied := self._authorised(request)) is not None:
            return denied
        return web.json_response({})
