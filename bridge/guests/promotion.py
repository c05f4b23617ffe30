"""Guests become members: once the person is verified (any method), their account is invited
into and joined to every room their stand-in was invited to, and the stand-in leaves.

`on_verified` (a `VerificationService` listener) records one durable job per guest identity
(national id, and the account's e-mail for e-mail guests) in the decision's wake;
`PromotionWorker` runs the jobs and retries with back-off until done. Each room is handed
over in idempotent steps, so a retry after any failure finishes the work without doubling it:

1. the stand-in joins (an invited stand-in accepts; already joined is fine) — appservice
   token with `?user_id=`;
2. the stand-in invites the account — the access rules allow a stand-in exactly this one
   invitation while the job is open (`promoted_to`, see `standins.py`);
3. the account joins, through a two-minute token from Synapse's admin "login as user" API (no
   device is created; the token is logged out at once, never stored nor logged);
4. the stand-in leaves. The room's members see the person join and the stand-in leave.

Why not Synapse's admin join API: for an invite-only room it needs the admin account in the
room with the power to invite, and Confrère's admin is in no practitioner's room.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import urllib.parse
from datetime import timedelta
from typing import Awaitable, Callable

import aiohttp
from sqlalchemy import select

from bridge.accounts.models import Account
from bridge.background import PollingWorker
from bridge.guests.invitations import ensure_registered
from bridge.guests.models import GuestInvitation, GuestPromotion
from bridge.storage.database import Database
from bridge.storage.models import utcnow

log = logging.getLogger(__name__)

BATCH = 20
CONCURRENCY = 8  # guests promoted at once (each one's rooms in turn)
RETRY_CEILING = 300.0


class HandOverError(RuntimeError):
    """A step was refused; `status`/`errcode` say by whom (no token, no content)."""


class PromotionWorker(PollingWorker):
    """Runs guest promotions. Wire: `verification.listeners.append(worker.on_verified)`,
    `worker.start()` once Synapse answers (needs the admin token), `stop()` at shutdown."""

    name = "guest-promotions"
    poll_seconds = 5.0

    def __init__(self, database: Database, synapse_url: str, as_token: str,
                 admin_token: Callable[[], str | None],
                 http: aiohttp.ClientSession | Callable[[], aiohttp.ClientSession],
                 invalidate: Callable[[str], Awaitable[None]] | None = None) -> None:
        super().__init__()
        self.database = database
        self.synapse = synapse_url.rstrip("/")
        self.as_token = as_token
        self.admin_token = admin_token
        self._http = http
        self.invalidate = invalidate
        self.finished: list[tuple[str, float]] = []  # (user_id, monotonic time): for the bench

    @property
    def http(self) -> aiohttp.ClientSession:
        """The service's HTTP session (given directly, or as a getter: it opens later)."""
        return self._http if isinstance(self._http, aiohttp.ClientSession) else self._http()

    # -- the listener ------------------------------------------------------------------------
    async def on_verified(self, decision) -> None:
        """Listener for `VerificationService`: a verified person gets their pending rooms."""
        if decision.state != "verified":
            return
        await promote_guest(self.database, decision.user_id, national_id=decision.national_id)
        self.poke()

    # -- the worker --------------------------------------------------------------------------
    async def run_once(self) -> bool:
        now = utcnow()
        async with self.database.session() as session:
            jobs = list((await session.execute(select(GuestPromotion).where(
                GuestPromotion.done_at.is_(None), GuestPromotion.next_attempt_at <= now)
                .order_by(GuestPromotion.id).limit(BATCH))).scalars())
        limit = asyncio.Semaphore(CONCURRENCY)

        async def bounded(job: GuestPromotion) -> None:
            async with limit:
                await self._run_job(job)

        await asyncio.gather(*(bounded(job) for job in jobs))
        return len(jobs) == BATCH

    async def _run_job(self, job: GuestPromotion) -> None:
        try:
            await self._promote(job)
        except Exception as exc:  # noqa: BLE001 - retried with back-off
            delay = min(RETRY_CEILING, 2.0 ** job.attempts) * random.uniform(0.8, 1.0)
            log.warning("guest promotion %d failed (%s); retry in %.0f s", job.id,
                        type(exc).__name__, delay)
            async with self.database.session() as session, session.begin():
                row = await session.get(GuestPromotion, job.id)
                row.attempts += 1
                row.last_error = type(exc).__name__[:255]
                row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            return
        async with self.database.session() as session, session.begin():
            (await session.get(GuestPromotion, job.id)).done_at = utcnow()
        self.finished.append((job.user_id, time.monotonic()))

    async def _promote(self, job: GuestPromotion) -> None:
        async with self.database.session() as session:
            pending = list((await session.execute(select(GuestInvitation).where(
                GuestInvitation.guest_key == job.guest_key,
                GuestInvitation.done_at.is_(None)))).scalars())
        if not pending:
            return
        token = await self._login_as(job.user_id)
        registered: set[str] = set()
        try:
            for invitation in pending:
                if self.invalidate is not None:
                    await self.invalidate(invitation.stand_in)
                await self._hand_over(invitation.room_id, invitation.stand_in, job.user_id,
                                      token, registered)
                async with self.database.session() as session, session.begin():
                    row = await session.get(GuestInvitation, invitation.id)
                    row.member, row.done_at = job.user_id, utcnow()
        finally:
            await self._call("POST", "/_matrix/client/v3/logout", token, ok=(200, 401))

    async def _hand_over(self, room_id: str, stand_in: str, user_id: str, token: str,
                         registered: set[str]) -> None:
        room = urllib.parse.quote(room_id, safe="")
        members = await self._members(room_id)
        stand_in_there = members.get(stand_in) in ("join", "invite")
        if members.get(user_id) != "join":
            if stand_in not in registered:
                await ensure_registered(self.http, self.synapse, self.as_token, stand_in)
                registered.add(stand_in)
            if members.get(stand_in) != "join":
                await self._as_ghost("POST", f"/rooms/{room}/join", stand_in, {})
                stand_in_there = True
            if members.get(user_id) != "invite":
                await self._as_ghost("POST", f"/rooms/{room}/invite", stand_in,
                                     {"user_id": user_id})
            await self._call("POST", f"/_matrix/client/v3/rooms/{room}/join", token, {})
        if stand_in_there:
            await self._as_ghost("POST", f"/rooms/{room}/leave", stand_in, {})

    # -- Synapse calls ---------------------------------------------------------------------
    async def _members(self, room_id: str) -> dict[str, str]:
        """Memberships through the admin API (one call per room): the stand-in may have
        left, the person may not be in yet — a retry starts from what is true."""
        room = urllib.parse.quote(room_id, safe="")
        state = await self._call("GET", f"/_synapse/admin/v1/rooms/{room}/state",
                                 self._admin())
        return {event["state_key"]: event.get("content", {}).get("membership")
                for event in state.get("state", []) if event.get("type") == "m.room.member"}

    async def _login_as(self, user_id: str) -> str:
        user = urllib.parse.quote(user_id, safe="")
        answer = await self._call("POST", f"/_synapse/admin/v1/users/{user}/login",
                                  self._admin(),
                                  {"valid_until_ms": int(time.time() * 1000) + 120_000})
        return answer["access_token"]

    async def _as_ghost(self, method: str, path: str, ghost: str, body: dict) -> dict:
        query = urllib.parse.urlencode({"user_id": ghost})
        return await self._call(method, f"/_matrix/client/v3{path}?{query}", self.as_token, body)

    def _admin(self) -> str:
        token = self.admin_token()
        if not token:
            raise HandOverError("no admin token yet")
        return token

    async def _call(self, method: str, path: str, token: str, body: dict | None = None, *,
                    ok: tuple[int, ...] = (200,)) -> dict:
        async with self.http.request(method, self.synapse + path, json=body,
                                     headers={"Authorization": f"Bearer {token}"}) as answer:
            reply = await answer.json(content_type=None)
            if answer.status not in ok:
                code = reply.get("errcode", "") if isinstance(reply, dict) else ""
                raise HandOverError(f"{method} {path.split('?')[0]} → {answer.status} {code}")
            return reply if isinstance(reply, dict) else {}


async def promote_guest(database: Database, user_id: str, *, national_id: str | None = None,
                        email: str | None = None) -> int:
    """Open a promotion job for each guest identity of `user_id` that has pending rooms (its
    national id, its given or account e-mail); idempotent. Returns the number of jobs opened.
    """
    async with database.session() as session, session.begin():
        if email is None:
            account = (await session.execute(select(Account).where(
                Account.user_id == user_id))).scalar_one_or_none()
            email = account.email if account is not None else None
        keys = [k for k in (national_id, email.strip().lower() if email else None) if k]
        opened = 0
        for key in keys:
            pending = (await session.execute(select(GuestInvitation.id).where(
                GuestInvitation.guest_key == key, GuestInvitation.done_at.is_(None))
                .limit(1))).first()
            running = (await session.execute(select(GuestPromotion.id).where(
                GuestPromotion.guest_key == key, GuestPromotion.user_id == user_id,
                GuestPromotion.done_at.is_(None)).limit(1))).first()
            if pending and not running:
                session.add(GuestPromotion(guest_key=key, user_id=user_id, created_at=utcnow(),
                                           next_attempt_at=utcnow(), attempts=0))
                opened += 1
    return opened
