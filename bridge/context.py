"""What a feature may use, and how it says what it adds: `HandlerContext` and `Feature`.

Layer: above the domain packages, below the surfaces (`tests/test_import_graph.py`). The
service builds one `HandlerContext`; bot commands get it as `ctx.services`, web pages and
workers in their constructor. A feature module (`bridge/handlers/<feature>.py`) exposes one
`Feature`; `bridge/features.py` lists them; the service registers all of it before any
endpoint opens (README, "How to add a feature").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Mapping

import aiohttp

from bridge.background import PollingWorker
from bridge.commands import Command
from bridge.config import Settings
from bridge.dialogs import Dialog, DialogEngine
from bridge.directory.last_results import LastResults, LastResultsStore
from bridge.directory.service import DirectoryService
from bridge.identity.document_checks import DocumentChecks
from bridge.matrix.synapse_admin import AdminAccount, AppserviceClient
from bridge.referral.dialog import ReferralDialogServices
from bridge.referral.service import ReferralService
from bridge.storage.database import Database
from bridge.verification.decision import Listener
from bridge.verification.service import VerificationService

if TYPE_CHECKING:
    from aiohttp import web

    from bridge.appservice.transactions import EventHook
    from bridge.dev.onfido_simulator import OnfidoSimulator
    from bridge.dev.psc_simulator import PscSimulator
    from bridge.guests.promotion import PromotionWorker
    from bridge.identity.psc import ProSanteConnect
    from bridge.mail.outbox import OutboxWorker
    from bridge.matrix.bot import Bot
    from bridge.web.cps import CpsEndpoints


class BotNotReady(RuntimeError):
    """The bot has not started yet: raised by an effect so that it is retried, not dropped."""


@dataclass
class HandlerContext:
    """Everything a command, page, listener or worker may use — typed, nothing else.

    Set at construction: settings, database, the domain services. Set by `start_http`:
    http, psc, outbox, and the development simulators. Set by `start_matrix`: bot and
    admin_token (until then `require_bot()` raises `BotNotReady`).
    """

    settings: Settings
    database: Database
    verification: VerificationService
    directory: DirectoryService
    documents: DocumentChecks
    dialogs: DialogEngine
    results: LastResultsStore
    # Referral (adressage): the booking service (integrator API, feed, workers, bot) and
    # what the `!adresser` dialog reads as `services.referral` (bridge/handlers/referral.py).
    referrals: ReferralService | None = None
    referral: ReferralDialogServices | None = None
    http: aiohttp.ClientSession | None = None
    appservice: AppserviceClient | None = None  # act as a ghost: `appservice.as_user(id)`
    bot: Bot | None = None
    admin: AdminAccount | None = None  # the service's Synapse administrator
    admin_token: str | None = None  # its access token (badges, exemptions)
    psc: ProSanteConnect | None = None
    outbox: OutboxWorker | None = None
    welcome: PollingWorker | None = None
    cps: CpsEndpoints | None = None
    psc_simulator: PscSimulator | None = None
    onfido_simulator: OnfidoSimulator | None = None
    guest_promotion: PromotionWorker | None = None  # joins verified guests to their rooms
    # Registered by the service from the features, for those that look others up by name.
    workers: dict[str, PollingWorker] = field(default_factory=dict)

    async def last_results(self, user_id: str, room_id: str) -> LastResults | None:
        """The search results `user_id` last saw in `room_id`, numbered as shown: what
        "!favori N" (and any "choose N" command) resolves N against. Durable."""
        return await self.results.get(user_id, room_id)

    def require_bot(self) -> Bot:
        """The running bot, or `BotNotReady` (a follow-up raising it is retried later)."""
        if self.bot is None or self.bot.client is None or not self.bot.ready.is_set():
            raise BotNotReady("the bot has not started yet")
        return self.bot

    def require_admin_token(self) -> str:
        if self.admin_token is None:
            raise BotNotReady("the administrator account is not ready yet")
        return self.admin_token


Attachment = Callable[[HandlerContext, Any, Any], Awaitable[bool]]


@dataclass(frozen=True)
class Feature:
    """Everything one feature adds, declared in one place.

    Each factory receives the `HandlerContext` and is called once, before any endpoint
    opens. Listener names are stable: a failed follow-up is stored under its name.
    """

    name: str
    commands: tuple[Command, ...] = ()
    routes: Callable[[HandlerContext], Iterable[web.RouteDef]] | None = None
    listeners: Callable[[HandlerContext], Mapping[str, Listener]] | None = None
    workers: Callable[[HandlerContext], Iterable[PollingWorker]] | None = None
    event_hooks: Callable[[HandlerContext], Iterable[EventHook]] | None = None
    dialogs: tuple[Dialog, ...] = ()
