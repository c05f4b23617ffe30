"""Holding and booking a slot: once, whatever happens.

Three guards, from the cheapest: the slot must be in the computed free slots (past, outside
opening hours, on a holiday or an absence: refused); bookings of one agenda are serialised —
an asyncio lock per agenda within the process, and on PostgreSQL a per-practitioner advisory
lock across processes — so overlapping slots of different motifs cannot both pass the check;
and the UNIQUE `active_slot` column makes the database refuse a second live booking/hold of
the same start, whatever the code above did. A SQLite writer that lost a race between
processes retries and then sees the slot taken.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.agenda.models import AgendaBooking
from bridge.agenda.slots import Slot, aware, free_slots
from bridge.storage.database import Database
from bridge.storage.models import utcnow

TAKEN_FR = "Ce créneau n'est plus disponible."
TAKEN_EN = "This slot is no longer available."


class SlotTaken(Exception):
    """"créneau plus disponible", with the next free slots to offer instead."""

    def __init__(self, next_slots: list[Slot]) -> None:
        super().__init__(TAKEN_EN)
        self.next_slots = next_slots


class HoldLost(SlotTaken):
    """The dialog's hold expired and someone else took the slot meanwhile."""


After = Callable[[AsyncSession, AgendaBooking], Awaitable[None]]


_local_locks: dict[str, asyncio.Lock] = {}


def _local_lock(national_id: str) -> asyncio.Lock:
    return _local_locks.setdefault(national_id, asyncio.Lock())


def _lock_key(national_id: str) -> int:
    return int.from_bytes(hashlib.sha256(national_id.encode()).digest()[:8], "big",
                          signed=True)


async def next_free(db: Database, slot: Slot, now: datetime | None = None,
                    count: int = 5) -> list[Slot]:
    now = now or utcnow()
    async with db.session() as session:
        found = await free_slots(session, slot.national_id, motif_id=slot.motif_id,
                                 place_id=slot.place_id, start=max(now, slot.starts_at),
                                 end=max(now, slot.starts_at) + timedelta(days=28), now=now)
    return found[:count]


async def _take(db: Database, slot: Slot, *, kind: str, hold_until: datetime | None,
                source: str, hold_id: int | None, now: datetime, after: After | None
                ) -> AgendaBooking:
    async with _local_lock(slot.national_id):
        return await _take_locked(db, slot, kind=kind, hold_until=hold_until, source=source,
                                  hold_id=hold_id, now=now, after=after)


async def _take_locked(db: Database, slot: Slot, *, kind: str, hold_until: datetime | None,
                       source: str, hold_id: int | None, now: datetime, after: After | None
                       ) -> AgendaBooking:
    key = slot.key()
    for attempt in range(8):
        try:
            async with db.session() as session, session.begin():
                if db.dialect == "postgresql":
                    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                          {"k": _lock_key(slot.national_id)})
                await session.execute(update(AgendaBooking).where(
                    AgendaBooking.active_slot == key, AgendaBooking.kind == "hold",
                    AgendaBooking.hold_until <= now).values(active_slot=None,
                                                            status="released"))
                if hold_id is not None:
                    row = await session.get(AgendaBooking, hold_id)
                    if row is None or row.active_slot != key or row.kind != "hold":
                        raise HoldLost([])
                    row.kind, row.hold_until, row.source = "booking", None, source
                else:
                    free = await free_slots(
                        session, slot.national_id, motif_id=slot.motif_id,
                        place_id=slot.place_id, start=slot.starts_at,
                        end=slot.starts_at + timedelta(minutes=1), now=now)
                    if not any(f.starts_at == aware(slot.starts_at) and
                               f.ends_at == aware(slot.ends_at) for f in free):
                        raise SlotTaken([])
                    row = AgendaBooking(
                        national_id=slot.national_id, place_id=slot.place_id,
                        motif_id=slot.motif_id, starts_at=slot.starts_at, ends_at=slot.ends_at,
                        kind=kind, status="active", active_slot=key, hold_until=hold_until,
                        source=source, created_at=now)
                    session.add(row)
                await session.flush()
                if after is not None:
                    await after(session, row)
            return row
        except IntegrityError:
            break
        except OperationalError:  # SQLite: another writer won the lock; look again
            await asyncio.sleep(0.01 * (attempt + 1))
    raise SlotTaken([])


async def _with_next(db: Database, slot: Slot, now: datetime, coroutine):
    try:
        return await coroutine
    except SlotTaken as taken:
        raise type(taken)(await next_free(db, slot, now)) from None


async def hold(db: Database, slot: Slot, minutes: int, now: datetime | None = None) -> int:
    """Hold `slot` for `minutes` (the dialog's patient details); the hold id, or SlotTaken."""
    now = now or utcnow()
    row = await _with_next(db, slot, now, _take(
        db, slot, kind="hold", hold_until=now + timedelta(minutes=minutes), source="dialog",
        hold_id=None, now=now, after=None))
    return row.id


async def book(db: Database, slot: Slot, *, source: str = "dialog", hold_id: int | None = None,
               now: datetime | None = None, after: After | None = None) -> AgendaBooking:
    """Book `slot` (turning the hold `hold_id` into the booking if given) and run `after`
    inside the same transaction (the referral, its mails, SMS and webhooks)."""
    now = now or utcnow()
    return await _with_next(db, slot, now, _take(
        db, slot, kind="booking", hold_until=None, source=source, hold_id=hold_id, now=now,
        after=after))


async def release(db: Database, hold_id: int) -> None:
    """Free a hold (dialog cancelled or expired); a booking is never released this way."""
    async with db.session() as session, session.begin():
        await session.execute(update(AgendaBooking).where(
            AgendaBooking.id == hold_id, AgendaBooking.kind == "hold").values(
            active_slot=None, status="released"))


async def cancel_booking(session: AsyncSession, booking_id: int) -> bool:
    """Cancel inside the caller's transaction; True if it was active."""
    result = await session.execute(update(AgendaBooking).where(
        AgendaBooking.id == booking_id, AgendaBooking.kind == "booking",
        AgendaBooking.status == "active").values(
        active_slot=None, status="cancelled", cancelled_at=utcnow()))
    return result.rowcount == 1
