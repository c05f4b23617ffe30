"""Tells the Confrère service that a person's action was refused, so the bot explains it.

Element shows only "some of your messages were not sent" and never the homeserver's reason;
the bot then explains it in the person's conversation with it. This is fire-and-forget: the
POST runs as a Synapse background process (its own logcontext, not the refused request's), is
never awaited by a rule, and any failure is swallowed, so it can never change or delay a
decision. Only the user id and the refusal code are sent, never anything of the refused event.
A (user, code) pair is sent at most once per `quiet_seconds` from here; the service throttles
again on its side.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

logger = logging.getLogger(__name__)

REFUSALS_PATH = "/_confrere/internal/v1/refusals"
MAX_REMEMBERED = 10_000


class RefusalNotifier:
    def __init__(self, http_client: Any, service_url: str, secret: str, *,
                 background: Callable[..., Any] | None = None,
                 quiet_seconds: float = 60) -> None:
        self._http = http_client
        self._url = service_url.rstrip("/") + REFUSALS_PATH
        self._headers = {b"Authorization": [f"Bearer {secret}".encode()]}
        # ModuleApi.run_as_background_process; None in unit tests (no homeserver): not sent
        self._background = background
        self._quiet = quiet_seconds
        self._until: dict[tuple[str, str], float] = {}
        self.sent = 0

    def notify(self, user_id: str, code: str) -> None:
        """Start the notice in the background; returns at once and never raises."""
        try:
            now = time.monotonic()
            key = (user_id, code)
            if self._until.get(key, 0.0) > now:
                return
            if len(self._until) >= MAX_REMEMBERED:
                self._until = {k: t for k, t in self._until.items() if t > now}
                if len(self._until) >= MAX_REMEMBERED:
                    return  # a flood: drop notices rather than grow
            self._until[key] = now + self._quiet
            self.sent += 1
            if self._background is None:
                return
            self._background("confrere_refusal_notice", self._post, user_id, code,
                             bg_start_span=False)
        except Exception:  # noqa: BLE001 - a notice must never touch a decision
            logger.debug("refusal notice not started")

    async def _post(self, user_id: str, code: str) -> None:
        try:
            await self._http.post_json_get_json(self._url, {"user_id": user_id, "code": code},
                                                headers=self._headers)
        except Exception as exc:  # noqa: BLE001 - best effort only
            logger.info("refusal notice not delivered (%s)", type(exc).__name__)
