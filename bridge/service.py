"""The Confrère service: one asyncio process wiring storage, appservice, web and the bot.

Start-up is two small steps so that `confrere up` can put Synapse between them:
`start_http()` (database, workers, appservice and web endpoints: Synapse may push from its
first second) then `start_matrix()` (admin account, bot), once Synapse answers. What each
feature adds is declared in its `FEATURE` (`bridge/features.py`) and registered here, all of
it before any endpoint opens.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from bridge.directory.ghosts import national_id_of
from bridge.appservice.server import AppserviceAPI
from bridge.appservice.thirdparty import ThirdPartyAPI
from bridge.appservice.transactions import EventHook, EventProcessor, TransactionStore
from bridge.background import PollingWorker
from bridge.bootstrap import ensure_admin_account, exempt_bot
from bridge.commands import CommandRouter
from bridge.config import Settings
from bridge.context import Feature, HandlerContext
from bridge.dialogs import DialogEngine, DialogExpiryWorker
from bridge.directory.last_results import LastResultsStore
from bridge.directory.service import DirectoryService
from bridge.features import FEATURES
from bridge.handlers.documents import on_attachment
from bridge.handlers.onboarding import on_bot_invited
from bridge.handlers.referral import dialog_services
from bridge.identity.document_checks import DocumentChecks
from bridge.integrator_api.agenda import AgendaAPI
from bridge.integrator_api.routes import IntegratorAPI
from bridge.mail.runtime import MailRuntime
from bridge.matrix.bot import Bot
from bridge.matrix.synapse_admin import AppserviceClient, set_display_name
from bridge.referral.service import ReferralService
from bridge.providers import start_document_provider, start_psc
from bridge.sso.setup import ensure_logo, sso_routes
from bridge.storage.database import Database
from bridge.storage.sealing import SealedBox
from bridge.verification.effects import ensure_admin_room
from bridge.verification.followups import FollowUpWorker
from bridge.verification.service import VerificationService
from bridge.web.cps import CpsEndpoints
from bridge.web.devmail import DevMailPage
from bridge.guests.standins import with_guest_states
from bridge.web.guest_mail import guest_mail_routes
from bridge.handlers.refusal_notices import RefusalNotices
from bridge.web.internal import InternalAPI
from bridge.web.onfido import OnfidoWebhook
from bridge.web.pages import Pages
from bridge.web.psc import PscPages
from bridge.web.signup import SignupPages
from bridge.web.agenda_feed import agenda_feed_routes
from bridge.web.templating import STATIC

log = logging.getLogger(__name__)


class ConfrereService:
    def __init__(self, settings: Settings, event_hooks: list[EventHook] | None = None,
                 features: tuple[Feature, ...] = FEATURES) -> None:
        self.settings = settings
        self.database = Database(settings.database_url)
        self.verification = VerificationService(self.database, settings.administrators)
        self.directory = DirectoryService(settings, self.database)
        self.documents = DocumentChecks(settings, self.database, self.verification)
        self.documents.directory = self.directory
        self.dialogs = DialogEngine(self.database,
                                    SealedBox(settings.secrets.sealing_key, "dialogs"))
        self.context = self.services = HandlerContext(
            settings=settings, database=self.database, verification=self.verification,
            directory=self.directory, documents=self.documents, dialogs=self.dialogs,
            results=LastResultsStore(self.database,
                                     SealedBox(settings.secrets.sealing_key, "last-results")),
            referrals=ReferralService(
                self.database, settings.secrets.sealing_key,
                retention_days=settings.referral.retention_days,
                reminder_hours=settings.referral.reminder_hours_before))
        self.context.referral = dialog_services(self.context)
        self.dialogs.services = self.context
        self.features = features
        self.router = CommandRouter(services=self.context)
        self.processor = EventProcessor(self.database, event_hooks)
        self.bot: Bot | None = None
        self.mail = MailRuntime(settings, self.database)
        self.followups = FollowUpWorker(self.verification)
        self.workers: list[PollingWorker] = [self.followups, DialogExpiryWorker(
            self.dialogs, self._notify)]
        self._declare_features()
        self._runner: web.AppRunner | None = None
        self._extra_runners: list[web.AppRunner] = []
        self._http: aiohttp.ClientSession | None = None
        self.sso_logo_changed = False  # set by start_matrix: Synapse must restart to show it

    @property
    def welcome(self) -> PollingWorker | None:
        return self.context.welcome

    def _declare_features(self) -> None:
        """Everything the features declare except web routes, before anything runs: a
        decision taken as soon as the pages open finds its listeners (they wait for the bot
        by raising `BotNotReady`, and `FollowUpWorker` runs them again)."""
        for feature in self.features:
            for command in feature.commands:
                self.router.register(command)
            for dialog in feature.dialogs:
                self.dialogs.declare(dialog)
            if feature.listeners is not None:
                for name, listener in feature.listeners(self.context).items():
                    self.verification.listen(name, listener)
            if feature.workers is not None:
                for worker in feature.workers(self.context):
                    self.context.workers[worker.name] = worker
                    self.workers.append(worker)
            if feature.event_hooks is not None:
                self.processor.hooks.extend(feature.event_hooks(self.context))

    async def start_http(self) -> None:
        await self.database.migrate()
        await self.directory.reconcile()
        self._http = self.context.http = aiohttp.ClientSession()
        self.context.appservice = AppserviceClient(self._http, self.settings.synapse.url,
                                                   self.settings.secrets.as_token)
        await self.mail.start()
        self.context.outbox = self.mail.outbox
        app = web.Application(client_max_size=2 * 1024 * 1024)
        appservice = AppserviceAPI(self.settings.secrets.hs_token,
                                   TransactionStore(self.database), self.processor,
                                   self._ghost_exists)
        app.add_routes(appservice.routes())
        app.add_routes(ThirdPartyAPI(self.settings.secrets.hs_token, self.database,
                                     self.directory, self.settings.appservice.ghost_prefix,
                                     self.settings.server_name).routes())
        app.add_routes(IntegratorAPI(self.database, self.directory, agenda=AgendaAPI(
            self.database, self.context.referrals, self.settings.secrets.sealing_key)).routes())
        # the private iCalendar feed: a web surface over the referral feature's service
        app.add_routes(agenda_feed_routes(self.database, self.context.referrals))
        app.add_routes(InternalAPI(self.settings.secrets.module_secret, with_guest_states(
            self._state_for_rules, self.database, self.settings.appservice.ghost_prefix),
            RefusalNotices(self.context)).routes())
        self.context.psc = await start_psc(self.settings, self._http, self._add_runner,
                                           self.context)
        app.add_routes(PscPages(
            self.context.psc, self.verification, self.settings.secrets.web_secret,
            self.settings.service.url.startswith("https://"),
            signups_per_ip_per_hour=self.settings.signup.codes_per_ip_per_hour,
            trust_forwarded_for=self.settings.signup.trust_forwarded_for).routes())
        app.add_routes(sso_routes(self.settings, self.context.psc, self.verification,
                                  self._http))
        self.context.cps = CpsEndpoints.from_settings(self.settings, self.verification,
                                                      self.context)
        app.add_routes(self.context.cps.routes())
        app.add_routes(SignupPages(self.context).routes())
        app.add_routes(guest_mail_routes(self.database, self.settings.secrets.web_secret))
        await start_document_provider(self.settings, self.documents, self._http,
                                      self._add_runner, self.context)
        app.add_routes(OnfidoWebhook(self.documents).routes())
        for feature in self.features:
            if feature.routes is not None:
                app.add_routes(list(feature.routes(self.context)))
        app.router.add_static("/static", STATIC)
        if self.mail.catcher is not None:
            app.add_routes(DevMailPage(self.mail.catcher).routes())
        app.add_routes(Pages(self.settings.synapse.client_url, self.settings.server_name,
                             self._health).routes())
        # the workers (follow-ups included) run before the endpoints open
        self.processor.start()
        for worker in self.workers:
            worker.start()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.service.host, self.settings.service.port)
        await site.start()
        log.info("service listening on %s", self.settings.service.url)

    async def start_matrix(self) -> None:
        assert self._http is not None
        admin = self.context.admin = await ensure_admin_account(self.settings, self._http)
        self.bot = Bot(
            homeserver_url=self.settings.synapse.url, user_id=self.settings.bot_user_id,
            display_name=self.settings.bot.display_name, as_token=self.settings.secrets.as_token,
            data_dir=self.settings.bot_dir, router=self.router,
        )
        self.bot.on_direct_conversation = self._on_bot_invited
        self.bot.on_attachment = self._on_attachment
        self.bot.dialogs = self.dialogs
        await self.bot.start()
        await exempt_bot(self.settings, self._http, admin)
        await set_display_name(self._http, self.settings.synapse.url, admin.access_token,
                               self.settings.bot_user_id, self.settings.bot.display_name)
        self.documents.bot = self.context.bot = self.bot
        self.context.admin_token = admin.access_token
        if self.context.appservice is not None:
            self.context.appservice.admin_token = admin.access_token
        await ensure_admin_room(self.verification, self.bot, self.settings.administrators)
        self.sso_logo_changed = await ensure_logo(self.settings, self._http, admin.access_token)
        for worker in self.workers:
            worker.bot_started(self.bot)
        await self.followups.retry_now()  # what waited for the bot runs now

    async def stop(self) -> None:
        for worker in self.workers:
            await worker.stop()
        await self.documents.stop()
        await self.mail.stop()
        if self.bot is not None:
            await self.bot.stop()
            self.bot = self.context.bot = None
        await self.processor.stop()
        self.verification.listeners.clear()
        for runner in (self._runner, *self._extra_runners):
            if runner is not None:
                await runner.cleanup()
        self._runner = None
        self._extra_runners.clear()
        if self._http is not None:
            await self._http.close()
            self._http = self.context.http = None
        await self.database.close()

    async def _add_runner(self, app: web.Application, port: int) -> None:
        """Serve a development simulator on loopback until the service stops."""
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._extra_runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", port).start()

    async def _on_attachment(self, room, event) -> None:
        await on_attachment(self.context, room, event)

    async def _notify(self, room_id: str, text: str) -> None:
        """Tell a conversation something (an expired dialog), once the bot runs."""
        await self.context.require_bot().send_text(room_id, text)

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
        if national_id is None or self.context.appservice is None:
            return False
        if await self.directory.get(national_id) is None:
            return False
        localpart = user_id[1:].split(":", 1)[0]
        assert self.context.appservice is not None
        return await self.context.appservice.register(localpart)

    async def _health(self) -> dict:
        bot_ok = self.bot is not None and self.bot.ready.is_set()
        return {"status": "ok" if bot_ok else "starting", "bot": bot_ok,
                "bot_device": self.bot.device_id if self.bot else None}
