"""Database models of the service, one small class per aggregate.

Every feature adds its tables here or in its own module importing `Base`; each schema change
comes with a new Alembic revision in `bridge/storage/migrations/versions/`.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base shared by every model of the service."""


class AppserviceTransaction(Base):
    """A transaction pushed by Synapse, remembered so that a replay is acknowledged, not redone."""

    __tablename__ = "appservice_transactions"

    txn_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[list["AppserviceEvent"]] = relationship(back_populates="transaction")


class AppserviceEvent(Base):
    """One event of a transaction, persisted before Synapse gets its 200 and handled afterwards."""

    __tablename__ = "appservice_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    txn_id: Mapped[str] = mapped_column(
        String(255), ForeignKey("appservice_transactions.txn_id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str | None] = mapped_column(String(255), index=True)
    event_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    transaction: Mapped[AppserviceTransaction] = relationship(back_populates="events")
