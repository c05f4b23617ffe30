"""Free-slot computation, in Europe/Paris wall-clock time (daylight saving included).

Rules are local times ("09:00"–"12:00" every Tuesday); each day is built with `zoneinfo`, so
a 9:00 slot is 08:00 UTC in winter and 07:00 UTC in summer, and the change nights (last Sunday
of March and of October) give the right number of slots. A local time that does not exist
(02:30 the spring-forward night) yields no slot.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.agenda.models import (
    AgendaAbsence,
    AgendaBooking,
    AgendaMotif,
    AgendaPlace,
    AgendaRule,
    PublishedSlot,
)

PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: datetime  # UTC, aware
    ends_at: datetime
    national_id: str
    place_id: int | None
    motif_id: int | None

    @property
    def local(self) -> datetime:
        return self.starts_at.astimezone(PARIS)

    def label(self) -> str:
        """"mardi 03/03 à 09:30" — how the bot and messages show a slot."""
        local = self.local
        return f"{DAYS[local.weekday()]} {local:%d/%m} à {local:%H:%M}"

    def key(self) -> str:
        return f"{self.national_id}|{self.starts_at.astimezone(UTC):%Y-%m-%dT%H:%M}"


DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc(moment: datetime) -> datetime:
    """Store UTC only: SQLite keeps the wall-clock digits and drops the offset."""
    return aware(moment).astimezone(UTC)


@lru_cache(maxsize=16)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.France(years=year))


def is_holiday(day: date) -> bool:
    """French public holidays (metropolitan list of the `holidays` package)."""
    return day in _holidays(day.year)


def _local(day: date, hhmm: str) -> datetime | None:
    """The UTC instant of a local wall-clock time, or None if it does not exist that day."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    local = datetime.combine(day, time(hours, minutes), tzinfo=PARIS)
    back = local.astimezone(UTC).astimezone(PARIS)
    if (back.hour, back.minute) != (hours, minutes):
        return None
    return local.astimezone(UTC)


def rule_slots(day: date, rule: AgendaRule, duration: timedelta, national_id: str,
               motif_id: int | None) -> list[Slot]:
    start, end = _local(day, rule.opens), _local(day, rule.closes)
    if start is None or end is None:
        return []
    slots = []
    while start + duration <= end:
        slots.append(Slot(start, start + duration, national_id, rule.place_id, motif_id))
        start += duration
    return slots


def _merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Disjoint, sorted busy intervals (so each candidate is checked with one bisect)."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _overlaps(busy: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    index = bisect_right(busy, (end,)) - 1  # the last interval starting before `end`
    return index >= 0 and busy[index][1] > start


async def free_slots(session: AsyncSession, national_id: str, *, motif_id: int | None = None,
                     place_id: int | None = None, start: datetime, end: datetime,
                     now: datetime, ignore_booking: int | None = None) -> list[Slot]:
    """Free slots starting in [start, end): rules + published − occupied − absences − holidays."""
    start, end, now = aware(start), aware(end), aware(now)
    motif = await session.get(AgendaMotif, motif_id) if motif_id is not None else None
    if motif_id is not None and (motif is None or motif.national_id != national_id):
        return []
    places = select(AgendaPlace.id).where(AgendaPlace.national_id == national_id)
    if place_id is not None:
        places = places.where(AgendaPlace.id == place_id)
    rules = list(await session.scalars(select(AgendaRule).where(
        AgendaRule.place_id.in_(places))))
    candidates: list[Slot] = []
    if motif is not None:
        duration = timedelta(minutes=motif.duration_minutes)
        day = start.astimezone(PARIS).date()
        while day <= end.astimezone(PARIS).date():
            if not is_holiday(day):
                for rule in rules:
                    if rule.weekday == day.weekday():
                        candidates += rule_slots(day, rule, duration, national_id, motif.id)
            day += timedelta(days=1)
    published = select(PublishedSlot).where(
        PublishedSlot.national_id == national_id, PublishedSlot.withdrawn_at.is_(None),
        PublishedSlot.starts_at >= start, PublishedSlot.starts_at < end)
    if place_id is not None:
        published = published.where(PublishedSlot.place_id == place_id)
    for row in await session.scalars(published):
        if motif_id is None or row.motif_id in (None, motif_id):
            candidates.append(Slot(aware(row.starts_at), aware(row.ends_at), national_id,
                                   row.place_id, motif_id if motif_id else row.motif_id))
    occupied = [(aware(b.starts_at), aware(b.ends_at)) for b in await session.scalars(
        select(AgendaBooking).where(
            AgendaBooking.national_id == national_id, AgendaBooking.active_slot.is_not(None),
            AgendaBooking.starts_at < end + timedelta(days=1),
            AgendaBooking.ends_at > start - timedelta(days=1)))
        if b.id != ignore_booking and (b.kind == "booking" or aware(b.hold_until) > now)]
    occupied += [(aware(a.starts_at), aware(a.ends_at)) for a in await session.scalars(
        select(AgendaAbsence).where(AgendaAbsence.national_id == national_id,
                                    AgendaAbsence.ends_at > start,
                                    AgendaAbsence.starts_at < end))]
    busy = _merged(occupied)
    seen: set[datetime] = set()
    free = []
    for slot in sorted(candidates):
        if not (start <= slot.starts_at < end) or slot.starts_at <= now:
            continue
        if slot.starts_at in seen or is_holiday(slot.local.date()):
            continue
        if _overlaps(busy, slot.starts_at, slot.ends_at):
            continue
        seen.add(slot.starts_at)
        free.append(slot)
    return free
