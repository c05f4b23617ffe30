"""Free slots (rules, holidays, absences, DST, published slots) and atomic booking, on both
back-ends, including the 200-way race."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from bridge.agenda import booking, service
from bridge.agenda.slots import PARIS, free_slots
from tests.referral.agenda_fixture import make_agenda

UTC = timezone.utc


async def _free(db, agenda, start, days=1, now=None):
    async with db.session() as session:
        return await free_slots(session, agenda.national_id, motif_id=agenda.motif_id,
                                start=start, end=start + timedelta(days=days),
                                now=now or start - timedelta(days=30))


async def test_rules_give_local_slots_and_dst_is_followed(database):
    agenda = await make_agenda(database)
    # Friday 27 March 2026 (winter, UTC+1) and Monday 30 March (summer, UTC+2).
    friday = await _free(database, agenda, datetime(2026, 3, 27, tzinfo=PARIS))
    monday = await _free(database, agenda, datetime(2026, 3, 30, tzinfo=PARIS))
    assert len(friday) == len(monday) == 6
    assert friday[0].starts_at == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert monday[0].starts_at == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert monday[0].label() == "lundi 30/03 à 09:00"
    # Last Sunday of October (25/10/2026): back to UTC+1 on Monday 26.
    october = await _free(database, agenda, datetime(2026, 10, 23, tzinfo=PARIS), days=4)
    assert [s.starts_at.hour for s in october if s.local.day == 23][0] == 7
    assert [s.starts_at.hour for s in october if s.local.day == 26][0] == 8


async def test_the_dst_night_itself_has_the_right_slots(database):
    agenda = await make_agenda(database, national_id="810000000009")
    night = await service.add_place(database, agenda.national_id, "Garde")
    await service.add_rule(database, night, 6, "01:00", "04:00")  # Sundays, through the change
    async with database.session() as session:
        march = await free_slots(session, agenda.national_id, motif_id=agenda.motif_id,
                                 place_id=night, start=datetime(2026, 3, 29, tzinfo=PARIS),
                                 end=datetime(2026, 3, 30, tzinfo=PARIS),
                                 now=datetime(2026, 1, 1, tzinfo=UTC))
    # 01:00–04:00 local that night lasts two real hours: 01:00, 01:30 then 03:00, 03:30.
    assert [s.local.strftime("%H:%M") for s in march] == ["01:00", "01:30", "03:00", "03:30"]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in march)


async def test_holidays_absences_and_published_slots(database):
    agenda = await make_agenda(database)
    # 14 July 2026 is a Tuesday and a public holiday.
    assert await _free(database, agenda, datetime(2026, 7, 14, tzinfo=PARIS)) == []
    await service.add_absence(database, agenda.national_id,
                              datetime(2026, 7, 15, 9, 0, tzinfo=PARIS),
                              datetime(2026, 7, 15, 10, 0, tzinfo=PARIS))
    wednesday = await _free(database, agenda, datetime(2026, 7, 15, tzinfo=PARIS))
    assert [s.local.strftime("%H:%M") for s in wednesday] == ["10:00", "10:30", "11:00",
                                                              "11:30"]
    # Saturday: no rule, but the practice software publishes a slot.
    await service.publish_slot(database, agenda.national_id,
                               datetime(2026, 7, 18, 10, 0, tzinfo=PARIS),
                               datetime(2026, 7, 18, 10, 30, tzinfo=PARIS), agenda.place_id)
    saturday = await _free(database, agenda, datetime(2026, 7, 18, tzinfo=PARIS))
    assert [s.local.strftime("%H:%M") for s in saturday] == ["10:00"]


async def test_hold_book_release_and_refusals(database):
    agenda = await make_agenda(database)
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    slots = await _free(database, agenda, datetime(2026, 6, 2, tzinfo=PARIS), now=now)
    held = await booking.hold(database, slots[0], 10, now=now)
    with pytest.raises(booking.SlotTaken) as taken:
        await booking.book(database, slots[0], source="api", now=now)
    assert taken.value.next_slots[0] == slots[1], "the answer carries the next free slots"
    later = now + timedelta(minutes=11)  # the hold expired: someone else may book it
    booked = await booking.book(database, slots[0], source="api", now=later)
    with pytest.raises(booking.HoldLost):
        await booking.book(database, slots[0], hold_id=held, now=later)
    await booking.release(database, held)
    async with database.session() as session, session.begin():
        assert await booking.cancel_booking(session, booked.id)
    again = await booking.book(database, slots[0], source="api", now=later)
    assert again.id != booked.id
    past = await _free(database, agenda, datetime(2026, 6, 3, tzinfo=PARIS), now=now)
    with pytest.raises(booking.SlotTaken):  # in the past
        await booking.book(database, past[0], now=past[0].starts_at + timedelta(hours=1))


async def test_two_hundred_concurrent_attempts_book_once(database):
    agenda = await make_agenda(database)
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    slot = (await _free(database, agenda, datetime(2026, 6, 2, tzinfo=PARIS), now=now))[0]

    async def attempt(i: int):
        try:
            if i % 2:
                await booking.book(database, slot, source="api", now=now)
            else:
                hold_id = await booking.hold(database, slot, 10, now=now)
                await booking.book(database, slot, hold_id=hold_id, now=now)
            return "booked"
        except booking.SlotTaken as taken:
            assert taken.next_slots and taken.next_slots[0].starts_at > slot.starts_at
            return "taken"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(200)))
    assert outcomes.count("booked") == 1 and outcomes.count("taken") == 199
