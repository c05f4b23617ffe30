"""The module's two small HTTP endpoints on Synapse, both behind the shared secret:
`POST …/confrere/invalidate {"user_id": ...}` (the service drops a cached state when it
changes) and `GET …/confrere/stats` (cache hits and misses, for the benchmark)."""

from __future__ import annotations

import hmac
import json
from typing import Any

from twisted.web.resource import Resource

from bridge.synapse_module.state_client import UserStateClient

INVALIDATE_PATH = "/_synapse/client/confrere/invalidate"
STATS_PATH = "/_synapse/client/confrere/stats"


class InvalidateResource(Resource):
    """`POST …/confrere/invalidate {"user_id": ...}` from the service drops a cached state;
    `GET …/confrere/stats` reports cache hits and misses. Both need the shared secret."""

    isLeaf = True

    def __init__(self, states: UserStateClient, secret: str, stats: bool = False) -> None:
        super().__init__()
        self._stats = stats
        self._states = states
        self._secret = f"Bearer {secret}".encode()

    def render(self, request: Any) -> bytes:
        request.setHeader(b"Content-Type", b"application/json")
        header = request.getHeader(b"Authorization") or b""
        if not hmac.compare_digest(header if isinstance(header, bytes) else header.encode(),
                                   self._secret):
            request.setResponseCode(403)
            return b'{"errcode":"M_FORBIDDEN"}'
        if self._stats:  # GET: cache counters, for the benchmark and the health view
            return json.dumps({"hits": self._states.hits, "misses": self._states.misses}).encode()
        if request.method != b"POST":
            request.setResponseCode(405)
            return b'{"errcode":"M_UNRECOGNIZED"}'
        try:
            body = json.loads(request.content.read() or b"{}")
            self._states.forget(body.get("user_id"))
        except (ValueError, AttributeError):
            request.setResponseCode(400)
            return b'{"errcode":"M_NOT_JSON"}'
        return b"{}"

