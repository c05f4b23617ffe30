"""Agenda tables. Times are stored in UTC; rules are local wall-clock times (Europe/Paris).

`AgendaBooking.active_slot` carries "<national id>|<UTC start>" while the booking or hold is
live and NULL once cancelled/released: a UNIQUE column where NULLs are distinct is a partial
unique index on both SQLite and PostgreSQL — the database, not the code, refuses a second
booking of one start.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.models import Base, utcnow


class AgendaProfile(Base):
    """One per practitioner with an agenda: new patients, organisation, integrator webhook."""

    __tablename__ = "agenda_profiles"

    national_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    accepts_new_patients: Mapped[bool] = mapped_column(Boolean, default=True)
    organisation: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # HMAC secret of the webhook, sealed (it must be readable by the service to sign).
    webhook_secret_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)


class AgendaPlace(Base):
    __tablename__ = "agenda_places"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    national_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(255), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(255), default="")


class AgendaMotif(Base):
    __tablename__ = "agenda_motifs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    national_id: Mapped[str] = mapped_column(String(32), index=True)
    label: Mapped[str] = mapped_column(String(255))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    new_patients: Mapped[bool] = mapped_column(Boolean, default=True)
    what_to_bring: Mapped[str] = mapped_column(String(500), default="")


class AgendaRule(Base):
    """Opening hours of a place on one weekday (0 = Monday), local times "HH:MM"."""

    __tablename__ = "agenda_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("agenda_places.id", ondelete="CASCADE"),
                                          index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[str] = mapped_column(String(5))
    closes: Mapped[str] = mapped_column(String(5))


class AgendaAbsence(Base):
    __tablename__ = "agenda_absences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    national_id: Mapped[str] = mapped_column(String(32), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PublishedSlot(Base):
    """A free slot pushed by practice software (FHIR `Slot`, status free)."""

    __tablename__ = "agenda_published_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    national_id: Mapped[str] = mapped_column(String(32), index=True)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_places.id",
                                                            ondelete="CASCADE"), nullable=True)
    motif_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_motifs.id",
                                                            ondelete="CASCADE"), nullable=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AgendaBooking(Base):
    """A booking, or a hold (kind "hold", `hold_until`) taken while the dialog runs."""

    __tablename__ = "agenda_bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    national_id: Mapped[str] = mapped_column(String(32), index=True)
    place_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    motif_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(8))  # hold | booking
    status: Mapped[str] = mapped_column(String(12))  # active | cancelled | released
    active_slot: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    hold_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="dialog")  # dialog | api
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FeedToken(Base):
    """Secret URL token of a practitioner's iCalendar feed, stored as SHA-256."""

    __tablename__ = "agenda_feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    national_id: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
