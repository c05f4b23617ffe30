"""Verification state transitions, each recorded in the audit log, then announced.

unverified → pending → verified | refused; verified → revoked. The state is on the account;
listeners (display name, module cache, messages to the practitioner and administrators, and
later "guests become members") run after the decision is committed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timezone

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bridge.accounts.models import Account
from bridge.accounts.states import Method, State
from bridge.storage import values
from bridge.storage.database import Database
from bridge.verification.decision import Decision, Listener
from bridge.verification.followups import remember
from bridge.verification.models import AuditEntry, VerificationRequest

log = logging.getLogger(__name__)


class NoAccount(LookupError):
    """The Matrix user has no Confrère account (was not created by the signup flow)."""


TAKEN_FR = ("ce numéro RPPS/ADELI est déjà lié à un autre compte Confrère (une identité, un "
            "seul compte). Les administrateurs sont prévenus ; si ce compte est le vôtre, "
            "utilisez-le, sinon écrivez au support Confrère")
TAKEN_EN = ("this RPPS/ADELI number is already linked to another Confrère account (one "
            "identity, one account). The administrators have been told")


class NationalIdTaken(Exception):
    """A second verification of a national identifier another account already holds.

    Recorded as a "conflict" (audit, request listed by `!admin verifications`) and announced
    to the listeners before being raised; callers show `message_fr` / `message_en`.
    """

    message_fr = TAKEN_FR
    message_en = TAKEN_EN

    def __init__(self, national_id: str, holder: str) -> None:
        super().__init__(national_id)
        self.national_id = national_id
        self.holder = holder


def evidence_digest(evidence: dict | None) -> str | None:
    if not evidence:
        return None
    canonical = json.dumps(evidence, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class VerificationService:
    def __init__(self, database: Database, administrators: tuple[str, ...] = ()) -> None:
        self.db = database
        self.administrators = administrators
        # Stable name -> listener: a follow-up that failed is stored under the name, so it is
        # still found after the function that performs it is renamed (`followups.py`).
        self.listeners: dict[str, Listener] = {}

    def listen(self, name: str, listener: Listener) -> None:
        """Run `listener` after every decision; `name` is stable ("verification.badge")."""
        if self.listeners.get(name, listener) is not listener:
            raise ValueError(f"two verification listeners are named {name!r}")
        self.listeners[name] = listener

    # -- what the access rules ask ------------------------------------------------------
    async def state_for_rules(self, user_id: str) -> dict:
        """Only the one conversation the bot opened is usable before verification."""
        account = await self.account(user_id)
        rooms = [account.onboarding_room_id] if account and account.onboarding_room_id else []
        return {
            "user_id": user_id,
            "verification": account.verification_state if account else State.UNVERIFIED,
            "onboarding_rooms": rooms,
            "administrator": user_id in self.administrators,
        }

    async def set_onboarding_room(self, user_id: str, room_id: str) -> None:
        """The conversation the bot itself opened with this account (replaces a lost one)."""
        async with self.db.session() as session, session.begin():
            await session.execute(update(Account).where(Account.user_id == user_id)
                                  .values(onboarding_room_id=room_id))

    async def holder_of(self, national_id: str) -> str | None:
        """The account linked to this national identifier, if any."""
        async with self.db.session() as session:
            return await session.scalar(select(Account.user_id).where(
                Account.national_id == national_id))

    async def account(self, user_id: str) -> Account | None:
        async with self.db.session() as session:
            return (await session.execute(
                select(Account).where(Account.user_id == user_id))).scalar_one_or_none()

    # -- transitions ----------------------------------------------------------------------
    async def request(self, user_id: str, method: str, evidence: dict | None = None) -> int:
        """Open a pending request (manual review, document check); returns its id.

        A request of the same method already pending is completed, not doubled: `!verifier
        manuel` opens it, the documents sent afterwards add their evidence to it. Only a new
        request is announced (otherwise the practitioner and the administrators heard twice).
        """
        async with self.db.session() as session, session.begin():
            account = await self._account_for_update(session, user_id)
            if account.verification_state != State.VERIFIED:
                account.verification_state = State.PENDING
            request = (await session.execute(select(VerificationRequest).where(
                VerificationRequest.user_id == user_id, VerificationRequest.method == method,
                VerificationRequest.status == State.PENDING))).scalars().first()
            new = request is None
            if new:
                request = VerificationRequest(user_id=user_id, method=method,
                                              status=State.PENDING, evidence=evidence or {})
                session.add(request)
            elif evidence:
                request.evidence = {**(request.evidence or {}), **evidence}
            session.add(AuditEntry(user_id=user_id, action="requested", method=method,
                                   actor=user_id, evidence_sha256=evidence_digest(evidence)))
            await session.flush()
            request_id = request.id
        if new:
            await self._announce(Decision(user_id, State.PENDING, method, user_id))
        return request_id

    async def verify(self, user_id: str, method: str, actor: str, *,
                     national_id: str | None = None, evidence: dict | None = None) -> Decision:
        """Verified, linked to `national_id`; raises NationalIdTaken if another account holds
        it (checked here, and by the unique index when two verifications race)."""
        if national_id:
            holder = await self.holder_of(national_id)
            if holder is not None and holder != user_id:
                await self.report_conflict(user_id, method, actor, national_id, holder)
                raise NationalIdTaken(national_id, holder)
        try:
            async with self.db.session() as session, session.begin():
                account = await self._account_for_update(session, user_id)
                account.verification_state = State.VERIFIED
                if national_id:
                    account.national_id = national_id
                await self._close_pending(session, user_id, State.VERIFIED, actor, None, method,
                                          evidence)
                session.add(AuditEntry(user_id=user_id, action="verified", method=method,
                                       actor=actor, evidence_sha256=evidence_digest(evidence)))
                decision = Decision(user_id, State.VERIFIED, method, actor, None,
                                    account.national_id)
        except IntegrityError:
            holder = await self.holder_of(national_id or "") or "?"
            await self.report_conflict(user_id, method, actor, national_id or "", holder)
            raise NationalIdTaken(national_id or "", holder) from None
        await self._announce(decision)
        return decision

    async def report_conflict(self, user_id: str | None, method: str | None, actor: str,
                              national_id: str, holder: str, attempt: dict | None = None) -> None:
        """Record a refused second verification of `national_id` and tell the listeners.

        `user_id` is the account that tried (None at signup, before any account exists); the
        holder is named only to the administrators (request evidence), never in the reason.
        """
        evidence = {"national_id": national_id, "holder": holder, **(attempt or {})}
        async with self.db.session() as session, session.begin():
            session.add(VerificationRequest(
                user_id=user_id or holder, method=method or Method.PSC, status=State.CONFLICT,
                evidence=evidence, reason=TAKEN_FR, decided_by="confrere",
                decided_at=datetime.now(timezone.utc)))
            session.add(AuditEntry(user_id=user_id or holder, action="duplicate_refused",
                                   method=method, actor=actor, reason=TAKEN_FR,
                                   evidence_sha256=evidence_digest(evidence)))
        log.warning("a verification of a national id already linked to %s was refused", holder)
        await self._announce(Decision(user_id or "", State.CONFLICT, method, actor, TAKEN_FR,
                                      national_id))

    async def conflicts(self, days: int = 30) -> list[VerificationRequest]:
        """Refused second verifications of the last `days` days, newest first."""
        since = datetime.now(timezone.utc) - timedelta(days=days)
        async with self.db.session() as session:
            return list((await session.execute(
                select(VerificationRequest).where(VerificationRequest.status == State.CONFLICT,
                                                  VerificationRequest.created_at >= since)
                .order_by(VerificationRequest.id.desc()))).scalars().all())

    async def refuse(self, user_id: str, method: str | None, actor: str, reason: str, *,
                     evidence: dict | None = None) -> Decision:
        async with self.db.session() as session, session.begin():
            account = await self._account_for_update(session, user_id)
            if account.verification_state != State.VERIFIED:
                account.verification_state = State.REFUSED
            await self._close_pending(session, user_id, State.REFUSED, actor, reason, method,
                                      evidence)
            session.add(AuditEntry(user_id=user_id, action="refused", method=method, actor=actor,
                                   reason=reason, evidence_sha256=evidence_digest(evidence)))
        decision = Decision(user_id, State.REFUSED, method, actor, reason)
        await self._announce(decision)
        return decision

    async def revoke(self, user_id: str, actor: str, reason: str) -> Decision:
        async with self.db.session() as session, session.begin():
            account = await self._account_for_update(session, user_id)
            account.verification_state = State.REVOKED
            session.add(AuditEntry(user_id=user_id, action="revoked", actor=actor, reason=reason))
        decision = Decision(user_id, State.REVOKED, None, actor, reason)
        await self._announce(decision)
        return decision

    async def pending(self) -> list[VerificationRequest]:
        async with self.db.session() as session:
            return list((await session.execute(
                select(VerificationRequest).where(VerificationRequest.status == State.PENDING)
                .order_by(VerificationRequest.created_at))).scalars().all())

    async def audit(self, user_id: str) -> list[AuditEntry]:
        async with self.db.session() as session:
            return list((await session.execute(
                select(AuditEntry).where(AuditEntry.user_id == user_id)
                .order_by(AuditEntry.id))).scalars().all())

    # -- small durable values ---------------------------------------------------------------
    async def get_value(self, key: str) -> str | None:
        return await values.get_value(self.db, key)

    async def set_value(self, key: str, value: str) -> None:
        await values.set_value(self.db, key, value)

    # -- helpers ----------------------------------------------------------------------------
    async def _account_for_update(self, session, user_id: str) -> Account:
        account = (await session.execute(
            select(Account).where(Account.user_id == user_id))).scalar_one_or_none()
        if account is None:
            raise NoAccount(user_id)
        return account

    async def _close_pending(self, session, user_id: str, status: str, actor: str,
                             reason: str | None, method: str | None, evidence: dict | None) -> None:
        now = datetime.now(timezone.utc)
        pending = (await session.execute(select(VerificationRequest).where(
            VerificationRequest.user_id == user_id,
            VerificationRequest.status == State.PENDING))).scalars().all()
        if not pending and method:
            pending = [VerificationRequest(user_id=user_id, method=method, evidence=evidence or {})]
            session.add(pending[0])
        for request in pending:
            request.status, request.decided_by, request.decided_at = status, actor, now
            request.reason = reason
            if method and request.method == method and evidence:
                request.evidence = evidence

    async def _announce(self, decision: Decision) -> None:
        """Run every listener; one that fails is remembered and retried (followups.py)."""
        for name, listener in list(self.listeners.items()):
            try:
                await listener(decision)
            except Exception as exc:  # noqa: BLE001 - a failing listener must not undo a decision
                log.warning("verification follow-up %s failed for a %s decision (%s); "
                            "will retry", name, decision.state, type(exc).__name__)
                await remember(self, name, decision)
