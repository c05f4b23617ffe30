"""The signup steps that touch the database: begin (code mailed), resend, try the code, finish.

Each step is one transaction: the signup row, the rate-limit hits and the outbox mail commit
together or not at all. An address that already has an account gets a notice instead of a
code, and every step answers exactly as for a new address.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update

from bridge.accounts.states import State
from bridge.accounts.models import Account
from bridge.accounts.pending import CodeOutcome, SignupRequest, as_utc, check_code, set_code
from bridge.accounts.signup import NewAccount
from bridge.accounts.validation import DeclaredProfile
from bridge.mail import messages
from bridge.mail.outbox import enqueue
from bridge.storage.models import utcnow
from bridge.verification.proofs import Proof
from bridge.storage.ratelimit import RateLimiter

CLAIM_SECONDS = 120


class Refused(enum.Enum):
    """Why a step did nothing (the page explains it)."""

    IP_LIMIT = "ip"
    ADDRESS_LIMIT = "address"
    TOO_SOON = "too_soon"
    TOO_MANY_SENDS = "too_many_sends"
    UNKNOWN = "unknown"
    BUSY = "busy"


@dataclass(frozen=True)
class Refusal:
    reason: Refused
    wait_seconds: int = 0


class Enrolment:
    MAX_SENDS = 5

    def __init__(self, services: Any) -> None:
        self.services = services
        self.settings = services.settings
        self.conf = services.settings.signup
        self.secret = services.settings.secrets.web_secret
        self.limiter = RateLimiter(self.secret)

    @property
    def validity(self) -> timedelta:
        return timedelta(minutes=self.conf.code_validity_minutes)

    async def begin(self, profile: DeclaredProfile, ip: str,
                    proof: Proof | None = None) -> SignupRequest | Refusal:
        """Record the signup and queue its mail (code, or "you already have an account")."""
        now = utcnow()
        async with self.services.database.session() as session:
            if not await self.limiter.allow(session, "code-ip", ip, self.conf.codes_per_ip_per_hour):
                return Refusal(Refused.IP_LIMIT)
            if not await self.limiter.allow(session, "code-address", profile.email,
                                            self.conf.codes_per_address_per_hour):
                return Refusal(Refused.ADDRESS_LIMIT)
            existing = await session.scalar(select(Account).where(Account.email == profile.email))
            request = SignupRequest(
                id=secrets.token_urlsafe(24), email=profile.email,
                first_name=profile.first_name, last_name=profile.last_name,
                exercise_mode=profile.exercise_mode,
                declared_identifier=profile.declared_identifier,
                declared_identifier_type=profile.declared_identifier_type,
                terms_version=self.conf.terms_version, terms_accepted_at=now,
                privacy_version=self.conf.privacy_version, privacy_accepted_at=now,
                existing_account=existing is not None, attempts=0, sends=0, created_at=now,
                proven_national_id=proof.national_id if proof else None,
                proof_id=proof.proof_id if proof else None,
            )
            await self._mail(session, request, existing)
            session.add(request)
            await session.commit()
        self._poke()
        return request

    async def resend(self, request_id: str, ip: str) -> SignupRequest | Refusal:
        """A new code (tries reset), at most every `resend_interval_seconds`, MAX_SENDS times."""
        async with self.services.database.session() as session:
            request = await session.get(SignupRequest, request_id)
            if request is None or request.completed_at is not None:
                return Refusal(Refused.UNKNOWN)
            since = (utcnow() - as_utc(request.last_sent_at)).total_seconds()
            if since < self.conf.resend_interval_seconds:
                return Refusal(Refused.TOO_SOON, int(self.conf.resend_interval_seconds - since) + 1)
            if request.sends >= self.MAX_SENDS:
                return Refusal(Refused.TOO_MANY_SENDS)
            if not await self.limiter.allow(session, "code-ip", ip, self.conf.codes_per_ip_per_hour):
                return Refusal(Refused.IP_LIMIT)
            if not await self.limiter.allow(session, "code-address", request.email,
                                            self.conf.codes_per_address_per_hour):
                return Refusal(Refused.ADDRESS_LIMIT)
            existing = await session.scalar(select(Account).where(Account.email == request.email))
            request.existing_account = existing is not None
            await self._mail(session, request, existing)
            await session.commit()
        self._poke()
        return request

    async def get(self, request_id: str | None) -> SignupRequest | None:
        if not request_id:
            return None
        async with self.services.database.session() as session:
            return await session.get(SignupRequest, request_id)

    async def try_code(self, request_id: str, code: str, ip: str) -> CodeOutcome | Refusal:
        """Check the code (a wrong one counts); RIGHT means the caller may create the account."""
        async with self.services.database.session() as session:
            if not await self.limiter.allow(session, "code-try-ip", ip,
                                            self.conf.code_tries_per_ip_per_hour):
                await session.commit()
                return Refusal(Refused.IP_LIMIT)
            request = await session.get(SignupRequest, request_id)
            if request is None:
                await session.commit()
                return Refusal(Refused.UNKNOWN)
            outcome = check_code(request, self.secret, code, self.conf.code_max_attempts)
            await session.commit()
            return outcome

    async def claim(self, request_id: str) -> bool:
        """Take the right to create this signup's account (one submit at a time)."""
        now = utcnow()
        async with self.services.database.session() as session:
            result = await session.execute(update(SignupRequest).where(
                SignupRequest.id == request_id, SignupRequest.completed_at.is_(None),
                or_(SignupRequest.claimed_at.is_(None),
                    SignupRequest.claimed_at < now - timedelta(seconds=CLAIM_SECONDS)),
            ).values(claimed_at=now))
            await session.commit()
            return result.rowcount == 1

    async def release(self, request_id: str) -> None:
        async with self.services.database.session() as session:
            await session.execute(update(SignupRequest).where(SignupRequest.id == request_id)
                                  .values(claimed_at=None))
            await session.commit()

    async def finish(self, request_id: str, user_id: str) -> None:
        async with self.services.database.session() as session:
            await session.execute(update(SignupRequest).where(SignupRequest.id == request_id)
                                  .values(completed_at=utcnow(), user_id=user_id,
                                          code_hash=None, claimed_at=None))
            await session.commit()

    @staticmethod
    def new_account(request: SignupRequest) -> NewAccount:
        return NewAccount(
            first_name=request.first_name, last_name=request.last_name, email=request.email,
            exercise_mode=request.exercise_mode, terms_version=request.terms_version,
            terms_accepted_at=as_utc(request.terms_accepted_at),
            privacy_version=request.privacy_version,
            privacy_accepted_at=as_utc(request.privacy_accepted_at),
            declared_identifier=request.declared_identifier,
            declared_identifier_type=request.declared_identifier_type,
            # verified only with a single-use proof to spend (signups begun before 0011: none)
            verification_state=State.VERIFIED if request.proof_id else State.UNVERIFIED,
            national_id=request.proven_national_id if request.proof_id else None,
            proof_id=request.proof_id,
        )

    async def _mail(self, session, request: SignupRequest, existing: Account | None) -> None:
        """Set a fresh code and queue the mail in the caller's transaction."""
        code = set_code(request, self.secret, self.validity)
        if existing is None:
            composed = messages.signup_code(
                first_name=request.first_name, code=code,
                minutes=self.conf.code_validity_minutes,
                signup_url=f"{self.settings.service.url}/signup/code")
        else:
            composed = messages.signup_existing(
                first_name=request.first_name, user_id=existing.user_id,
                homeserver_url=self.settings.synapse.client_url,
                element_url=self.conf.element_web_url)
        mail = enqueue(session, kind=composed.kind, recipient=request.email,
                       subject=composed.subject, text=composed.text, html=composed.html,
                       domain=self.settings.server_name)
        await session.flush()
        request.outbox_id = mail.id

    def _poke(self) -> None:
        outbox = getattr(self.services, "outbox", None)
        if outbox is not None:
            outbox.poke()
