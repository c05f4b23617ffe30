"""The iCalendar feed over real HTTP: bookings with initials only, cancellations, rotation and
revocation."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from icalendar import Calendar

from bridge.agenda import feed
from bridge.referral.service import ReferralService
from bridge.web.agenda_feed import agenda_feed_routes
from tests.referral.agenda_fixture import make_agenda
from tests.referral.receivers import free_port
from datetime import datetime

from bridge.agenda.slots import PARIS, free_slots
from bridge.storage.models import utcnow
from tests.referral.test_referral import KEY, a_patient, patient_name


async def future_slot(db, agenda):
    async with db.session() as session:
        return (await free_slots(session, agenda.national_id, motif_id=agenda.motif_id,
                                 start=datetime(2027, 3, 1, tzinfo=PARIS),
                                 end=datetime(2027, 3, 2, tzinfo=PARIS), now=utcnow()))[0]


async def serve(database):
    app = web.Application()
    app.add_routes(agenda_feed_routes(database, ReferralService(database, KEY)))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/agenda/"


async def test_the_feed_shows_bookings_with_initials_and_honours_revocation(database):
    agenda = await make_agenda(database)
    service = ReferralService(database, KEY)
    name = patient_name()
    slot = await future_slot(database, agenda)
    booked = await service.refer(slot, a_patient(name), referrer_id="@a:l")
    token = await feed.rotate(database, agenda.national_id)
    runner, base = await serve(database)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(base + token + ".ics") as response:
                assert response.status == 200
                assert response.content_type == "text/calendar"
                body = await response.read()
            assert name.encode() not in body and b"Camille" not in body
            [event] = Calendar.from_ical(body).walk("VEVENT")
            assert str(event["summary"]) == "Première consultation — C." + name[0].upper() + "."
            assert event.decoded("dtstart") == slot.starts_at
            assert str(event["status"]) == "CONFIRMED"
            await service.cancel(booked.reference)
            async with http.get(base + token + ".ics") as response:
                [event] = Calendar.from_ical(await response.read()).walk("VEVENT")
                assert str(event["status"]) == "CANCELLED"
            rotated = await feed.rotate(database, agenda.national_id)
            for guess in (token, token[:-1] + "A", "cfa_" + "x" * 43, "anything"):
                async with http.get(base + guess + ".ics") as response:
                    assert response.status == 404, guess
            async with http.get(base + rotated + ".ics") as response:
                assert response.status == 200
            assert await feed.revoke(database, agenda.national_id) == 1
            async with http.get(base + rotated + ".ics") as response:
                assert response.status == 404
    finally:
        await runner.cleanup()
