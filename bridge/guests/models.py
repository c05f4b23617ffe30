"""Guest tables: what was promised to whom, and what is left to do."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.models import Base, utcnow


class GuestInvitation(Base):
    """A room a guest was invited to through their stand-in. `guest_key` is the national id
    (directory guest) or the lowercased e-mail (e-mail guest)."""

    __tablename__ = "guest_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guest_key: Mapped[str] = mapped_column(String(254), index=True)
    stand_in: Mapped[str] = mapped_column(String(255), index=True)
    room_id: Mapped[str] = mapped_column(String(255))
    inviter: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # set when the person (this account) is a member and the stand-in has left
    member: Mapped[str | None] = mapped_column(String(255), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class GuestContact(Base):
    """One row per guest: their stand-in, names for the e-mail, the last mail, the opt-out."""

    __tablename__ = "guest_contacts"

    guest_key: Mapped[str] = mapped_column(String(254), primary_key=True)
    stand_in: Mapped[str] = mapped_column(String(255), unique=True)
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    last_mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                            nullable=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)


class GuestPromotion(Base):
    """A durable job: make `user_id` a member of every pending room of `guest_key`."""

    __tablename__ = "guest_promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guest_key: Mapped[str] = mapped_column(String(254), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                      index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
