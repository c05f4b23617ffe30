"""The Confrère service: one asyncio process wiring storage, appservice, web and the bot.

Start-up is two small steps so that `confrere up` can put Synapse between them:
`start_http()` (database, appservice and web endpoints: Synapse may push from its first second)
then `start_matrix()` (admin account, bot), once Synapse answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from bridge.appservice.ghosts import national_id_of
from bridge.appservice.server import AppserviceAPI
from bridge.appservice.transactions import EventHook, EventProcessor, TransactionStore
from bridge.bootstrap import AdminAccount, ensure_admin_account, exempt_bot
from bridge.config import Settings
from bridge.handlers import build_router
from bridge.matrix.bot import Bot
from bridge.storage.database import Database
from bridge.web.internal import InternalAPI
from bridge.web.pages import Pages

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What handlers may use; grows as features arrive."""

    settings: Settings
    database: Database
    bot: Bot | None = None
    admin: AdminAccount | None = None
    extra: dict = field(default_factory=dict)


class ConfrereService:
    def __init__(self, settings: Settings, event_hooks: list[EventHook] | None = None) -> None:
        self.settings = settings
        self.database = Database(settings.database_url)
        self.services = Services(settings=settings, database=self.database)
        self.router = build_router(self.services)
        self.processor = EventProcessor(self.database, event_hooks)
        self.bot: Bot | None = None
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start_http(self) -> None:
        await self.database.migrate()
        self._http = aiohttp.ClientSession()
        app = web.Application(client_max_size=2 * 1024 * 1024)
        appservice = AppserviceAPI(self.settings.secrets.hs_token,
                                   TransactionStore(self.database), self.processor,
                                   self._ghost_exists)
        app.add_routes(appservice.routes())
        app.add_routes(InternalAPI(self.settings.secrets.module_secret, self._user_state).routes())
        app.add_routes(Pages(self.settings.synapse.client_url, self.settings.server_name,
                             self._health).routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.service.host, self.settings.service.port)
        await site.start()
        self.processor.start()
        log.info("service listening on %s", self.settings.service.url)

    async def start_matrix(self) -> None:
        assert self._http is not None
        self.services.admin = await ensure_admin_account(self.settings, self._http)
        self.bot = Bot(
            homeserver_url=self.settings.synapse.url, user_id=self.settings.bot_user_id,
            display_name=self.settings.bot.display_name, as_token=self.settings.secrets.as_token,
            data_dir=self.settings.bot_dir, router=self.router,
        )
        await self.bot.start()
        await exempt_bot(self.settings, self._http, self.services.admin)
        self.services.bot = self.bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None
        await self.processor.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self.database.close()

    async def _user_state(self, user_id: str) -> str:
        """Verification state for the access rules (identity verification fills it in)."""
        return "unverified"

    async def _ghost_exists(self, user_id: str) -> bool:
        """Synapse asks about an unknown ghost: create it if it names a national identifier."""
        national_id = national_id_of(self.settings.appservice.ghost_prefix, user_id,
                                     self.settings.server_name)
        if national_id is None or self._http is None:
            return False
        localpart = user_id[1:].split(":", 1)[0]
        async with self._http.post(
            f"{self.settings.synapse.url}/_matrix/client/v3/register",
            headers={"Authorization": f"Bearer {self.settings.secrets.as_token}"},
            json={"type": "m.login.application_service", "username": localpart,
                  "inhibit_login": True},
        ) as response:
            body = await response.json(content_type=None)
            return response.status == 200 or body.get("errcode") == "M_USER_IN_USE"

    async def _health(self) -> dict:
        bot_ok = self.bot is not None and self.bot.ready.is_set()
        return {"status": "ok" if bot_ok else "starting", "bot": bot_ok,
                "bot_device": self.bot.device_id if self.bot else None}
