"""Shared shape of the durable outboxes (SMS, webhooks): columns, lease, retry, never twice.

Why: the mail outbox (`bridge/mail/outbox.py`) proved the pattern — the row is written in the
caller's transaction, a `PollingWorker` claims due rows with a lease (a conditional UPDATE,
safe with several processes), delivers, marks sent; transient failures back off with jitter.
SMS and webhooks need exactly that, so it lives here once; subclasses only say how one row
is delivered (`deliver`), raising `Transient` (retry later) or `Permanent` (give up).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, and_, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bridge.background import PollingWorker
from bridge.mail.outbox import backoff
from bridge.storage.database import Database
from bridge.storage.models import utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
BATCH = 50


class Transient(Exception):
    """Delivery failed for now (provider down, 5xx, timeout): retried with back-off."""


class Permanent(Exception):
    """Delivery refused for good (4xx): kept for the record, not retried."""


class DeliveryColumns:
    """Mixin of the columns every durable outbox row has."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Sent to the receiver as an idempotency key: a retry after an uncertain failure
    # (timeout after the provider accepted) is recognisable, so it is never acted on twice.
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                      index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Withdrawn before delivery (a reminder of a cancelled appointment).
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DeliveryWorker(PollingWorker):
    """Claims due rows of `model`, calls `deliver(row)` for each, records the outcome."""

    model: type = None  # type: ignore[assignment]

    def __init__(self, database: Database, *, retry_ceiling: float = 600,
                 poll_seconds: float = 2) -> None:
        super().__init__()
        self.database = database
        self.retry_ceiling = retry_ceiling
        self.poll_seconds = poll_seconds

    async def deliver(self, row) -> None:
        raise NotImplementedError

    def blank(self) -> dict:
        """Columns to clear once delivered (content that must not stay readable)."""
        return {}

    async def run_once(self) -> bool:
        claimed = await self._claim()
        for row in claimed:
            try:
                await self.deliver(row)
            except Permanent as exc:
                log.warning("%s %d (%s) refused for good: %s", self.name, row.id, row.kind,
                            type(exc).__name__)
                await self._mark(row.id, failed_at=utcnow(), claimed_until=None,
                                 last_error=str(exc)[:255], **self.blank())
            except Exception as exc:  # noqa: BLE001 - provider down, timeout, refused, 5xx
                attempts = row.attempts + 1
                delay = backoff(attempts, self.retry_ceiling)
                log.warning("%s %d not delivered (%s); retry in %.0f s", self.name, row.id,
                            type(exc).__name__, delay)
                await self._mark(row.id, attempts=attempts, claimed_until=None,
                                 last_error=type(exc).__name__[:255],
                                 next_attempt_at=utcnow() + timedelta(seconds=delay))
            else:
                await self._mark(row.id, sent_at=utcnow(), claimed_until=None, last_error=None,
                                 attempts=row.attempts + 1, **self.blank())
        return len(claimed) >= BATCH

    async def _claim(self) -> list:
        model, now = self.model, utcnow()
        due = and_(model.sent_at.is_(None), model.failed_at.is_(None),
                   model.cancelled_at.is_(None),
                   or_(model.claimed_until.is_(None), model.claimed_until < now))
        async with self.database.session() as session:
            candidates = (await session.scalars(select(model.id).where(
                due, model.next_attempt_at <= now).order_by(model.id).limit(BATCH))).all()
            mine = []
            for row_id in candidates:
                result = await session.execute(update(model).where(
                    model.id == row_id, due).values(claimed_until=now + LEASE))
                if result.rowcount == 1:
                    mine.append(row_id)
            await session.commit()
            if not mine:
                return []
            return list(await session.scalars(select(model).where(model.id.in_(mine))
                                              .order_by(model.id)))

    async def _mark(self, row_id: int, **values) -> None:
        async with self.database.session() as session:
            await session.execute(update(self.model).where(self.model.id == row_id)
                                  .values(**values))
            await session.commit()
