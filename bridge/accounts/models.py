"""The account of a practitioner: who they declared to be, what they consented to, and where
their identity verification stands. The password is never here: it belongs to Synapse."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.accounts.states import State
from bridge.storage.models import Base, utcnow


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    exercise_mode: Mapped[str] = mapped_column(String(16))  # liberal | salarie
    declared_identifier: Mapped[str | None] = mapped_column(String(16), nullable=True)
    declared_identifier_type: Mapped[str | None] = mapped_column(String(8), nullable=True)
    terms_version: Mapped[str] = mapped_column(String(32))
    terms_accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    privacy_version: Mapped[str] = mapped_column(String(32))
    privacy_accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Where identity verification stands (the verification issue owns the transitions).
    verification_state: Mapped[str] = mapped_column(String(16), default=State.UNVERIFIED.value)
    # The directory entry the verified identity is linked to ("8" + RPPS, or "0" + ADELI).
    # One identifier, one account: unique (migration 0012), checked again in `verify`.
    national_id: Mapped[str | None] = mapped_column(String(16), nullable=True, unique=True)
    # The onboarding conversation the bot opened (the only room an unverified user may use;
    # never a room the user chose: see `bridge/verification/onboarding.py`).
    onboarding_room_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The bot still has to welcome this account (set by `create_account`; 0004), and when it did.
    welcome_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    welcome_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
