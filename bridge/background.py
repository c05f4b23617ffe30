"""A background loop that does one pass of work, then sleeps until poked or a timeout.

The outbox, the welcome worker and the appservice event processor all work this way: durable
work lives in the database, a pass picks up what is due, and `poke()` after a commit makes the
next pass start at once instead of at the next tick.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

log = logging.getLogger(__name__)


def backoff(attempts: int, ceiling: float, first: float = 1.0) -> float:
    """Seconds before the next try: `first`, twice that, … up to `ceiling`, with jitter so
    that many retries do not fall in lockstep. The one back-off of the service (mail outbox,
    verification follow-ups, appservice events)."""
    return min(ceiling, first * 2.0 ** max(0, attempts - 1)) * random.uniform(0.8, 1.0)


class PollingWorker:
    """Subclasses implement `run_once()`; returning True means "more is waiting, go again"."""

    name = "worker"
    poll_seconds: float = 5.0

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def run_once(self) -> bool | int | None:
        raise NotImplementedError

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)
        self.poke()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def poke(self) -> None:
        self._wake.set()

    def bot_started(self, bot: Any) -> None:
        """Called once the bot runs (workers start before it): by default, work now."""
        self.poke()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                more = await self.run_once() is True
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed pass is retried on the next tick
                log.exception("%s pass failed; will retry", self.name)
                more = False
            if more:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
