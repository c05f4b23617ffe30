"""The guest wiring of the running service, for tests: its own promotion worker, polled
fast. (The service wires the stand-in states, the worker, its listener and the appservice
hook itself: `bridge/handlers/guests.py`.)"""

from __future__ import annotations

from bridge.guests.promotion import PromotionWorker


class GuestWiring:
    def __init__(self, stack) -> None:
        self.stack = stack
        self._poll: float | None = None

    @property
    def worker(self) -> PromotionWorker:
        worker = self.stack.service.context.guest_promotion
        assert worker is not None, "the guests feature is not wired"
        return worker

    async def __aenter__(self) -> PromotionWorker:
        worker = self.worker
        self._poll, worker.poll_seconds = worker.poll_seconds, 0.5
        worker.poke()
        return worker

    async def __aexit__(self, *exc) -> None:
        self.worker.poll_seconds = self._poll or 5.0
