"""Durable transactions: persist first, acknowledge, then handle — a crash loses nothing.

`TransactionStore.record` writes the transaction and its events in one database transaction
before Synapse gets its 200; a replayed txnId is recognised and not recorded twice.
`EventProcessor` handles stored events in order, marks them handled, retries failures with
back-off (up to ten minutes apart, for hours: longer than a Synapse restart), and picks up what
a previous run left unhandled.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bridge.background import PollingWorker, backoff
from bridge.storage.database import Database
from bridge.storage.models import AppserviceEvent, AppserviceTransaction

log = logging.getLogger(__name__)

EventHook = Callable[[dict[str, Any]], Awaitable[None]]
MAX_ATTEMPTS = 30  # with the back-off capped at RETRY_CEILING: about four hours
RETRY_CEILING = 600.0


class TransactionStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def record(self, txn_id: str, events: list[dict[str, Any]]) -> bool:
        """Persist a transaction; return False if this txnId was already recorded."""
        async with self.db.session() as session:
            if await session.get(AppserviceTransaction, txn_id) is not None:
                return False
            transaction = AppserviceTransaction(txn_id=txn_id, event_count=len(events))
            transaction.events = [
                AppserviceEvent(
                    event_id=event.get("event_id"), event_type=str(event.get("type", "")),
                    content=event, attempts=0,
                )
                for event in events
            ]
            session.add(transaction)
            try:
                await session.commit()
            except IntegrityError:  # the same txnId raced in through another request
                await session.rollback()
                return False
        return True


class EventProcessor(PollingWorker):
    """Feeds stored, unhandled events to the registered hooks, oldest first."""

    name = "appservice-events"

    def __init__(self, database: Database, hooks: list[EventHook] | None = None,
                 retry_seconds: float = 2.0) -> None:
        super().__init__()
        self.db = database
        self.hooks: list[EventHook] = list(hooks or [])
        self.poll_seconds = retry_seconds
        self.first_retry = retry_seconds
        # When each failed event may be tried again; in memory: after a restart of the
        # service every pending event is simply tried at once.
        self._not_before: dict[int, datetime] = {}

    def add_hook(self, hook: EventHook) -> None:
        self.hooks.append(hook)

    def wake(self) -> None:
        self.poke()

    async def run_once(self) -> int:
        """Handle every pending event once; return how many were handled successfully."""
        done = 0
        async with self.db.session() as session:
            pending = (await session.execute(
                select(AppserviceEvent)
                .where(AppserviceEvent.handled_at.is_(None),
                       AppserviceEvent.attempts < MAX_ATTEMPTS)
                .order_by(AppserviceEvent.id)
            )).scalars().all()
            now = datetime.now(timezone.utc)
            for stored in pending:
                if self._not_before.get(stored.id, now) > now:
                    continue
                try:
                    for hook in self.hooks:
                        await hook(stored.content)
                except Exception as exc:  # noqa: BLE001 - one bad event must not sink others
                    stored.attempts += 1
                    stored.last_error = type(exc).__name__
                    self._not_before[stored.id] = now + timedelta(seconds=backoff(
                        stored.attempts, RETRY_CEILING, first=self.first_retry))
                    log.warning("event %s failed (%s), attempt %d", stored.event_id,
                                type(exc).__name__, stored.attempts)
                else:
                    stored.handled_at = datetime.now(timezone.utc)
                    self._not_before.pop(stored.id, None)
                    done += 1
                await session.commit()
        return done
