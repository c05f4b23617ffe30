"""The SMS outbox row. Number and text are patient data: sealed, and blanked once sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.delivery import DeliveryColumns
from bridge.storage.models import Base


class OutboxSms(DeliveryColumns, Base):
    __tablename__ = "sms_outbox"

    # {"to": "+33…", "text": "…"} sealed (purpose "sms"); "" once sent.
    sealed_payload: Mapped[str] = mapped_column(Text)
    referral_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # Not before (a reminder the day before); next_attempt_at starts there.
    send_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
