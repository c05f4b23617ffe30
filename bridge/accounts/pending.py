"""A signup waiting for its e-mail code, and the code rules (6 digits, hashed, 15 min, 5 tries).

The code is kept only as an HMAC keyed with the installation's web secret: a leaked table
does not give codes back (a plain hash of 6 digits would be reversed in a second).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.models import Base, utcnow


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SignupRequest(Base):
    __tablename__ = "signup_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    exercise_mode: Mapped[str] = mapped_column(String(16))
    declared_identifier: Mapped[str | None] = mapped_column(String(16), nullable=True)
    declared_identifier_type: Mapped[str | None] = mapped_column(String(8), nullable=True)
    terms_version: Mapped[str] = mapped_column(String(32))
    terms_accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    privacy_version: Mapped[str] = mapped_column(String(32))
    privacy_accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The address already has an account: a notice was mailed instead of a code, and the
    # stored "code" is one nobody received; the page behaves exactly the same.
    existing_account: Mapped[bool] = mapped_column(Boolean, default=False)
    code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    code_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sends: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outbox_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Account creation in progress (a double submit must not create two accounts).
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Signup through Pro Santé Connect: the identity is proven already; the account is
    # created verified and linked to this directory entry.
    proven_national_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The single-use proof (`bridge/verification/proofs.py`) spent with the account's creation.
    proof_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)


class CodeOutcome(enum.Enum):
    RIGHT = "right"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # too many wrong tries: a new code is needed
    DONE = "done"  # this signup already created its account


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_code(secret: str, request_id: str, code: str) -> str:
    return hmac.new(secret.encode(), f"signup-code\0{request_id}\0{code}".encode(),
                    hashlib.sha256).hexdigest()


def set_code(request: SignupRequest, secret: str, validity: timedelta,
             code: str | None = None) -> str:
    """Give the request a fresh code (tries reset); returns the code to mail."""
    code = code or new_code()
    now = utcnow()
    request.code_hash = hash_code(secret, request.id, code)
    request.code_expires_at = now + validity
    request.attempts = 0
    request.sends = (request.sends or 0) + 1
    request.last_sent_at = now
    return code


def check_code(request: SignupRequest, secret: str, code: str, max_attempts: int,
               now: datetime | None = None) -> CodeOutcome:
    """Compare in constant time; a wrong code counts a try; the last wrong try burns the code."""
    now = now or utcnow()
    if request.completed_at is not None:
        return CodeOutcome.DONE
    if request.code_hash is None or request.attempts >= max_attempts:
        return CodeOutcome.EXHAUSTED
    if as_utc(request.code_expires_at) <= now:
        return CodeOutcome.EXPIRED
    candidate = "".join(code.split())
    if candidate.isdigit() and len(candidate) == 6 and hmac.compare_digest(
            hash_code(secret, request.id, candidate), request.code_hash):
        return CodeOutcome.RIGHT
    request.attempts += 1
    if request.attempts >= max_attempts:
        request.code_hash = None
    return CodeOutcome.WRONG
