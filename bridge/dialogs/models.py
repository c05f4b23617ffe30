"""Where each conversation's dialog stands: one row per (practitioner, room)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.models import Base, utcnow


class DialogSession(Base):
    __tablename__ = "dialog_sessions"
    __table_args__ = (UniqueConstraint("user_id", "room_id", name="uq_dialog_user_room"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255))
    room_id: Mapped[str] = mapped_column(String(255))
    dialog: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    # Names of the steps answered, in order: what `retour` walks back through.
    history: Mapped[list] = mapped_column(JSON, default=list)
    # The answers, sealed with the installation's key (they may hold patient data).
    sealed_data: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
