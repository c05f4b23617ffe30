"""The appservice side of guests: a verified practitioner invited a directory ghost from any
client (Element's invite dialog, the third-party look-up), so record the pending invitation,
name the stand-in and send the e-mail — as `!inviter` would.

`GuestInviteHook` is an `EventHook` (`bridge/appservice/transactions.py`): the lead registers
it with `processor.add_hook(hook)` (or the typed appservice dispatch). E-mail stand-ins are
recorded before they are invited (by the bot command), so only directory ghosts arrive here
unrecorded. `on_recorded(inviter, outcome)` lets the bot tell the inviter when no address is
known (`Outcome.NO_ADDRESS`).
"""

from __future__ import annotations

import logging
from typing import Awaitable, Callable

import aiohttp
from sqlalchemy import select

from bridge.directory.ghosts import national_id_of
from bridge.guests.invitations import MailContext, Outcome, directory_guest, name_stand_in, \
    record_invitation
from bridge.guests.models import GuestInvitation

log = logging.getLogger(__name__)


class GuestInviteHook:
    def __init__(self, settings, database, directory,
                 http: aiohttp.ClientSession | Callable[[], aiohttp.ClientSession],
                 admin_token: Callable[[], str | None], display_name: Callable[[str], Awaitable[str]],
                 on_recorded: Callable[[str, str, Outcome], Awaitable[None]] | None = None,
                 ) -> None:
        self.settings, self.database, self.directory = settings, database, directory
        self._http, self.admin_token, self.display_name = http, admin_token, display_name
        self.on_recorded = on_recorded

    @property
    def http(self) -> aiohttp.ClientSession:
        """The service's HTTP session (given directly, or as a getter: it opens later)."""
        return self._http if isinstance(self._http, aiohttp.ClientSession) else self._http()

    async def __call__(self, event: dict) -> None:
        content = event.get("content") or {}
        if event.get("type") != "m.room.member" or content.get("membership") != "invite":
            return
        stand_in, room_id, inviter = event.get("state_key", ""), event["room_id"], event["sender"]
        national_id = national_id_of(self.settings.appservice.ghost_prefix, stand_in,
                                     self.settings.server_name)
        if national_id is None or inviter == self.settings.bot_user_id:
            return  # not a directory ghost, or the bot (its commands record themselves)
        practitioner = await self.directory.get(national_id)
        if practitioner is None:
            return
        guest = directory_guest(practitioner)
        async with self.database.session() as session, session.begin():
            known = (await session.execute(select(GuestInvitation.id).where(
                GuestInvitation.stand_in == stand_in, GuestInvitation.room_id == room_id)
                .limit(1))).first()
            if known:
                return
            _, outcome = await record_invitation(
                session, guest, room_id, inviter, await self.display_name(inviter),
                MailContext(self.settings.service.url, self.settings.secrets.web_secret),
                ghost_prefix=self.settings.appservice.ghost_prefix,
                server_name=self.settings.server_name)
        token = self.admin_token()
        if token:
            await name_stand_in(self.http, self.settings.synapse.url, token, stand_in, guest)
        log.info("guest invitation recorded (%s)", outcome.value)
        if self.on_recorded is not None:
            await self.on_recorded(inviter, room_id, outcome)
