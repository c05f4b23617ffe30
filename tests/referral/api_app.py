"""The integrator API app alone (the service's own `IntegratorAPI` + `AgendaAPI`) on a real
database and a real port, for the API tests, Schemathesis and the bench."""

from __future__ import annotations

from aiohttp import web

from bridge.directory.service import DirectoryService
from bridge.integrator_api.agenda import AgendaAPI
from bridge.integrator_api.routes import IntegratorAPI
from bridge.referral.service import ReferralService
from tests.referral.receivers import free_port


class ApiServer:
    def __init__(self, database, sealing_key: str, directory_root) -> None:
        self.db = database
        self.referrals = ReferralService(database, sealing_key)
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.add_routes(IntegratorAPI(database, DirectoryService(directory_root, database),
                                     agenda=AgendaAPI(database, self.referrals, sealing_key,
                                                        allow_http_webhooks=True)).routes())
        self.app = app
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    async def __aenter__(self) -> "ApiServer":
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._runner.cleanup()
