"""The referral record. Everything about the patient is sealed (`SealedBox`, purpose
"referral-patient"); plaintext columns hold only identifiers of practitioners and times."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.models import Base, utcnow


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Public reference given to integrators and in messages (not guessable, not sequential).
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("agenda_bookings.id"), index=True)
    referrer_id: Mapped[str] = mapped_column(String(255))  # Matrix id, or "api:<token name>"
    colleague_national_id: Mapped[str] = mapped_column(String(32), index=True)
    # Patient, message, documents (ids + names) sealed together; NULL once purged.
    sealed_details: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="booked")  # booked | cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    purge_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Mail outbox ids of the patient's messages (for delivery state); no content here.
    notices: Mapped[dict] = mapped_column(JSON, default=dict)
