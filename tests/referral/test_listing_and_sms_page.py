"""`!agenda jour|semaine` text, and the development SMS sink and its `/_dev/sms` page."""

from __future__ import annotations

from datetime import date

import aiohttp
from aiohttp import web

from bridge.agenda.listing import agenda_text
from bridge.referral.service import ReferralService
from bridge.sms.devpage import DevSmsPage
from bridge.sms.outbox import SmsWorker
from bridge.sms.provider import DevSmsSink
from bridge.storage.sealing import SealedBox
from tests.referral.agenda_fixture import make_agenda
from tests.referral.receivers import free_port
from tests.referral.test_referral import KEY, NOW, a_patient, first_slot


async def test_agenda_text_and_the_dev_sms_page(database):
    agenda = await make_agenda(database)
    service = ReferralService(database, KEY)
    slot = await first_slot(database, agenda)
    booked = await service.refer(slot, a_patient(), referrer_id="@a:l", now=NOW)
    day = await agenda_text(database, service, agenda.national_id, date(2026, 6, 3))
    assert day.splitlines() == ["Mercredi 03/06 :", "  09:00 Première consultation — Mme "
                                f"Camille Durand — Cabinet du Parc (réf. {booked.reference})"]
    assert "Aucun" in await agenda_text(database, service, agenda.national_id,
                                        date(2026, 6, 4), days=1)
    sink = DevSmsSink()
    worker = SmsWorker(database, SealedBox(KEY, "sms"), sink)
    await worker.run_once()
    texts = [m["text"] for m in sink.messages if m["to"] == "+33612345678"]
    assert any(t.startswith("Rendez-vous confirmé le mercredi 03/06 à 09:00") for t in texts)
    app = web.Application()
    app.add_routes(DevSmsPage(sink).routes())
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/_dev/sms") as response:
                assert response.status == 200 and "+33612345678" in await response.text()
            async with http.get(f"http://127.0.0.1:{port}/_dev/sms.json") as response:
                assert (await response.json())[0]["to"] == "+33612345678"
    finally:
        await runner.cleanup()
