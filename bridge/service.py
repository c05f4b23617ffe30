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
from bridge.appservice.thirdparty import ThirdPartyAPI
from bridge.directory.service import DirectoryService
from bridge.integrator_api.routes import IntegratorAPI
from bridge.appservice.transactions import EventHook, EventProcessor, TransactionStore
from bridge.bootstrap import AdminAccount, ensure_admin_account, exempt_bot
from bridge.config import Settings
from bridge.handlers import build_router
from bridge.handlers.onboarding import WelcomeWorker, on_bot_invited
from bridge.mail.outbox import OutboxWorker
from bridge.mail.runtime import MailRuntime
from bridge.matrix.bot import Bot
from bridge.dev.psc_simulator import PscSimulator
from bridge.identity.document_checks import DocumentChecks, start_document_provider
from bridge.identity.psc import ProSanteConnect, PscClientConfig
from bridge.matrix.synapse_admin import set_display_name
from bridge.sso.setup import ensure_logo, sso_routes
from bridge.storage.database import Database
from bridge.verification.badge import badge
from bridge.verification.effects import VerificationEffects, ensure_admin_room
from bridge.verification.followups import FollowUpWorker
from bridge.verification.service import VerificationService
from bridge.web.cps import CpsEndpoints
from bridge.web.devmail import DevMailPage
from bridge.handlers.refusal_notices import RefusalNotices
from bridge.web.internal import InternalAPI
from bridge.web.onfido import OnfidoWebhook
from bridge.web.pages import Pages
from bridge.web.psc import CALLBACK_PATH, PscPages
from bridge.web.signup import SignupPages
from bridge.web.templating import STATIC

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What handlers may use; grows as features arrive."""

    settings: Settings
    database: Database
    verification: VerificationService
    bot: Bot | None = None
    admin: AdminAccount | None = None
    psc: ProSanteConnect | None = None
    http: aiohttp.ClientSession | None = None
    outbox: OutboxWorker | None = None
    welcome: WelcomeWorker | None = None
    documents: DocumentChecks | None = None
    directory: DirectoryService | None = None
    extra: dict = field(default_factory=dict)


class ConfrereService:
    def __init__(self, settings: Settings, event_hooks: list[EventHook] | None = None) -> None:
        self.settings = settings
        self.database = Database(settings.database_url)
        self.verification = VerificationService(self.database, settings.administrators)
        self.directory = DirectoryService(settings, self.database)
        self.services = Services(settings=settings, database=self.database,
                                 verification=self.verification, directory=self.directory)
        self.router = build_router(self.services)
        self.processor = EventProcessor(self.database, event_hooks)
        self.bot: Bot | None = None
        self.mail = MailRuntime(settings, self.database)
        self.welcome = self.services.welcome = WelcomeWorker(self.services)
        self.documents = self.services.documents = DocumentChecks(settings, self.database,
                                                                  self.verification)
        self.documents.directory = self.directory
        self.verification.listeners.append(self.documents.on_decision)
        self.followups = FollowUpWorker(self.verification)
        self._runner: web.AppRunner | None = None
        self._simulator_runner: web.AppRunner | None = None
        self._extra_runners: list[web.AppRunner] = []
        self._http: aiohttp.ClientSession | None = None

    async def start_http(self) -> None:
        await self.database.migrate()
        await self.directory.reconcile()
        self._http = self.services.http = aiohttp.ClientSession()
        await self.mail.start()
        self.services.outbox = self.mail.outbox
        app = web.Application(client_max_size=2 * 1024 * 1024)
        appservice = AppserviceAPI(self.settings.secrets.hs_token,
                                   TransactionStore(self.database), self.processor,
                                   self._ghost_exists)
        app.add_routes(appservice.routes())
        app.add_routes(ThirdPartyAPI(self.settings.secrets.hs_token, self.database,
                                     self.directory, self.settings.appservice.ghost_prefix,
                                     self.settings.server_name).routes())
        app.add_routes(IntegratorAPI(self.database, self.directory).routes())
        app.add_routes(InternalAPI(self.settings.secrets.module_secret,
                                   self._state_for_rules, RefusalNotices(self.services)).routes())
        self.services.psc = await self._start_psc()
        app.add_routes(PscPages(
            self.services.psc, self.verification, self.settings.secrets.web_secret,
            self.settings.service.url.startswith("https://"),
            signups_per_ip_per_hour=self.settings.signup.codes_per_ip_per_hour,
            trust_forwarded_for=self.settings.signup.trust_forwarded_for).routes())
        app.add_routes(sso_routes(self.settings, self.services.psc, self.verification,
                                  self._http))
        cps = self.services.extra["cps"] = CpsEndpoints.from_settings(
            self.settings, self.verification, self.services)
        app.add_routes(cps.routes())
        app.add_routes(SignupPages(self.services).routes())
        await start_document_provider(self.settings, self.documents, self._http,
                                      self._add_runner, self.services.extra)
        app.add_routes(OnfidoWebhook(self.documents).routes())
        app.router.add_static("/static", STATIC)
        if self.mail.catcher is not None:
            app.add_routes(DevMailPage(self.mail.catcher).routes())
        app.add_routes(Pages(self.settings.synapse.client_url, self.settings.server_name,
                             self._health).routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.service.host, self.settings.service.port)
        await site.start()
        self.processor.start()
        self.welcome.start()
        log.info("service listening on %s", self.settings.service.url)

    async def start_matrix(self) -> None:
        assert self._http is not None
        self.services.admin = await ensure_admin_account(self.settings, self._http)
        self.bot = Bot(
            homeserver_url=self.settings.synapse.url, user_id=self.settings.bot_user_id,
            display_name=self.settings.bot.display_name, as_token=self.settings.secrets.as_token,
            data_dir=self.settings.bot_dir, router=self.router,
        )
        self.bot.on_direct_conversation = self._on_bot_invited
        await self.bot.start()
        await exempt_bot(self.settings, self._http, self.services.admin)
        await set_display_name(self._http, self.settings.synapse.url,
                               self.services.admin.access_token, self.settings.bot_user_id,
                               self.settings.bot.display_name)
        self.services.bot = self.bot
        self.welcome.attach(self.bot)
        self.documents.bot = self.bot
        self.bot.on_attachment = self._on_attachment
        self.welcome.poke()
        VerificationEffects(self.settings, self.verification, self._http,
                            self.services.admin.access_token, self.bot,
                            display_name_for=self._directory_badge).register()
        await ensure_admin_room(self.verification, self.bot, self.settings.administrators)
        await ensure_logo(self.settings, self._http, self.services.admin.access_token)
        self.followups.start()

    async def stop(self) -> None:
        await self.welcome.stop()
        await self.documents.stop()
        await self.mail.stop()
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None
        await self.processor.stop()
        await self.followups.stop()
        self.verification.listeners.clear()
        for runner in (self._runner, self._simulator_runner, *self._extra_runners):
            if runner is not None:
                await runner.cleanup()
        self._runner = self._simulator_runner = None
        self._extra_runners.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self.database.close()

    async def _start_psc(self) -> ProSanteConnect:
        """The configured Pro Santé Connect, or the development simulator on loopback."""
        psc = self.settings.psc
        redirect_uri = self.settings.service.url + CALLBACK_PATH
        if not psc.simulated:
            config = PscClientConfig(psc.issuer, psc.client_id, psc.client_secret, redirect_uri,
                                     psc.discovery_url)
            return ProSanteConnect(config, self._http)
        log.warning("no Pro Santé Connect issuer configured: using the development simulator")
        simulator = PscSimulator(client_id="confrere-dev",
                                 client_secret=self.settings.secrets.psc_simulator_client_secret,
                                 base_url=f"http://127.0.0.1:{psc.simulator_port}")
        self._simulator_runner = web.AppRunner(simulator.app(), access_log=None)
        await self._simulator_runner.setup()
        await web.TCPSite(self._simulator_runner, "127.0.0.1", psc.simulator_port).start()
        self.services.extra["psc_simulator"] = simulator
        config = PscClientConfig(simulator.issuer, simulator.client_id, simulator.client_secret,
                                 redirect_uri)
        return ProSanteConnect(config, self._http)

    async def _add_runner(self, app: web.Application, port: int) -> None:
        """Serve a development simulator on loopback until the service stops."""
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._extra_runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", port).start()

    async def _on_attachment(self, room, event) -> None:
        from bridge.handlers.documents import on_attachment

        await on_attachment(self.services, room, event)

    async def _directory_badge(self, national_id: str) -> str | None:
        """The badge from the directory entry the verified identity is linked to."""
        practitioner = await self.directory.get(national_id)
        return badge(practitioner) if practitioner is not None else None

    async def _state_for_rules(self, user_id: str) -> dict:
        """What the access rules need: a practitioner's verification, or whether a ghost
        stands for a real directory entry."""
        national_id = national_id_of(self.settings.appservice.ghost_prefix, user_id,
                                     self.settings.server_name)
        if national_id is not None:
            known = await self.directory.get(national_id) is not None
            return {"user_id": user_id, "verification": "ghost" if known else "unknown"}
        return await self.verification.state_for_rules(user_id)

    async def _on_bot_invited(self, inviter: str, room_id: str) -> bool:
        """A direct conversation opened by a user: never an onboarding room (only the one the
        bot opens is); joined for verified users, declined for the others."""
        return await on_bot_invited(self.services, inviter, room_id)

    async def _ghost_exists(self, user_id: str) -> bool:
        """Synapse asks about an unknown ghost: create it if it names a national identifier."""
        national_id = national_id_of(self.settings.appservice.ghost_prefix, user_id,
                                     self.settings.server_name)
        if national_id is None or self._http is None:
            return False
        if await self.directory.get(national_id) is None:
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
