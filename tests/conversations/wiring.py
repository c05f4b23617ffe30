"""Test-side wiring of what the lead will wire in `ConfrereService` (issue #15 helpers):
the stand-in states for the access rules, and the guest promotion worker as a verification
listener. Kept here so the tests run against the real stack before that wiring exists."""

from __future__ import annotations

import aiohttp

from bridge.guests.promotion import PromotionWorker
from bridge.guests.standins import with_guest_states
from bridge.web.internal import InternalAPI


def internal_api(service) -> InternalAPI:
    for route in service._runner.app.router.routes():
        owner = getattr(route.handler, "__self__", None)
        if isinstance(owner, InternalAPI):
            return owner
    raise AssertionError("no internal API mounted")


class GuestWiring:
    def __init__(self, stack) -> None:
        self.stack = stack
        self.http: aiohttp.ClientSession | None = None
        self.worker: PromotionWorker | None = None
        self._api: InternalAPI | None = None
        self._original = None

    async def __aenter__(self) -> PromotionWorker:
        service, settings = self.stack.service, self.stack.settings
        self._api = internal_api(service)
        self._original = self._api._state_of
        if not getattr(self._original, "_guest_wrapped", False):
            wrapped = with_guest_states(self._original, service.database,
                                        settings.appservice.ghost_prefix)
            wrapped._guest_wrapped = True
            self._api._state_of = wrapped
        self.http = aiohttp.ClientSession()
        self.worker = PromotionWorker(
            service.database, settings.synapse.url, settings.secrets.as_token,
            lambda: service.services.admin.access_token, self.http)
        self.worker.poll_seconds = 0.5
        service.verification.listeners.append(self.worker.on_verified)
        self.worker.start()
        return self.worker

    async def __aexit__(self, *exc) -> None:
        self.stack.service.verification.listeners.remove(self.worker.on_verified)
        await self.worker.stop()
        await self.http.close()
        self._api._state_of = self._original
