"""Asks the Confrère service for a user's state, with a short cache; never raises."""

from __future__ import annotations

import logging
import time
import urllib.parse
from typing import Any

from bridge.synapse_module.rules import UserState

logger = logging.getLogger(__name__)


class UserStateClient:
    """Fetches `GET <service>/_confrere/internal/v1/users/<user_id>` with the shared secret.

    Answers are cached for `cache_seconds`; failures are not cached, so the next action asks
    again. Any failure returns None, which the rules treat as "refuse" (fail closed). The
    service drops a cached answer through the module's invalidation endpoint when a state
    changes; `hits`/`misses` feed the benchmark's cache hit rate.
    """

    def __init__(self, http_client: Any, service_url: str, secret: str, cache_seconds: float,
                 timeout_seconds: float, clock: Any | None = None) -> None:
        self._http = http_client
        self._base = service_url.rstrip("/")
        self._headers = {b"Authorization": [f"Bearer {secret}".encode()]}
        self._ttl = cache_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, UserState]] = {}
        self.hits = 0
        self.misses = 0

    def forget(self, user_id: str | None = None) -> None:
        """Drop a cached answer (or all)."""
        if user_id is None:
            self._cache.clear()
        else:
            self._cache.pop(user_id, None)

    async def get(self, user_id: str, *, fresh: bool = False) -> UserState | None:
        now = time.monotonic()
        cached = self._cache.get(user_id)
        if not fresh and cached is not None and cached[0] > now:
            self.hits += 1
            return cached[1]
        self.misses += 1
        try:
            state = _parse(user_id, await self._fetch(user_id))
        except Exception:  # noqa: BLE001 - any failure means "not known": fail closed
            logger.warning("Confrère service did not answer for a user state; refusing")
            self._cache.pop(user_id, None)
            return None
        self._cache[user_id] = (now + self._ttl, state)
        return state

    async def _fetch(self, user_id: str) -> dict:
        """One request, bounded by `timeout_seconds`. Synapse's deferreds are awaited the way
        its module docs require (`run_in_background` + `make_deferred_yieldable`), so the
        request's log context is kept and Synapse does not log "leaked logcontext"."""
        url = f"{self._base}/_confrere/internal/v1/users/{urllib.parse.quote(user_id, safe='')}"
        if self._clock is None:  # unit tests: a plain coroutine
            return await self._http.get_json(url, headers=self._headers)
        from synapse.logging.context import make_deferred_yieldable, run_in_background
        from synapse.util.async_helpers import timeout_deferred

        deferred = run_in_background(self._http.get_json, url, headers=self._headers)
        deferred = timeout_deferred(deferred=deferred, timeout=self._timeout, clock=self._clock)
        return await make_deferred_yieldable(deferred)


def _parse(user_id: str, body: dict) -> UserState:
    verification = body["verification"]
    rooms = body.get("onboarding_rooms") or []
    if not isinstance(verification, str) or not isinstance(rooms, list):
        raise ValueError("malformed user state")
    return UserState(user_id=user_id, verification=verification,
                     onboarding_rooms=frozenset(str(r) for r in rooms),
                     administrator=bool(body.get("administrator", False)),
                     promoted_to=_optional_str(body.get("promoted_to")))


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
