"""Booking API figures: throughput and latency of `POST /api/v1/fhir/Appointment` over real
HTTP (distinct free slots, N concurrent clients), then the 200-way race on one slot (half API
calls, half dialog-style hold + book): exactly one booking is expected.

    .venv/bin/python bench/referral_bench.py                # SQLite in a temp dir
    .venv/bin/python bench/referral_bench.py --pg postgresql+asyncpg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
from _common import describe, percentile
from aiohttp import web

from bridge.agenda import booking
from bridge.agenda import service as agenda
from bridge.agenda.slots import PARIS, free_slots
from bridge.directory.service import DirectoryService
from bridge.integrator_api.agenda import AgendaAPI
from bridge.integrator_api.fhir import slot_id
from bridge.integrator_api.routes import IntegratorAPI
from bridge.integrator_api.tokens import create_token
from bridge.referral import patient as fields
from bridge.referral.service import ReferralService
from bridge.storage.database import Database

NID = "810000000001"
KEY = "bench-sealing-key"
PATIENT = {
    "resourceType": "Patient", "name": [{"family": "Durand", "given": ["Camille"],
                                         "prefix": ["Mme"]}], "birthDate": "1980-03-12",
    "telecom": [{"system": "phone", "value": "+33612345678"},
                {"system": "email", "value": "camille@example.fr"}],
    "address": [{"line": ["12 rue des Lilas"], "postalCode": "69003", "city": "Lyon"}],
    "extension": [{"url": "https://confrere.fr/fhir/StructureDefinition/birth-place",
                   "valueString": "Lyon"}]}


def appointment(sid: str) -> dict:
    return {"resourceType": "Appointment", "status": "proposed",
            "slot": [{"reference": f"Slot/{sid}"}], "contained": [PATIENT],
            "participant": [{"actor": {"reference": "#patient"}, "status": "needs-action"}]}


async def run(url: str, count: int, concurrency: int, tmp: Path) -> None:
    db = Database(url)
    await db.migrate()
    await agenda.ensure_profile(db, NID, organisation="BENCH")
    place = await agenda.add_place(db, NID, "Cabinet", "1 rue A", "69003", "Lyon")
    for weekday in range(5):
        await agenda.add_rule(db, place, weekday, "08:00", "20:00")
    motif = await agenda.add_motif(db, NID, "Consultation", 15)
    token = await create_token(db, "bench", "practitioner", NID)
    referrals = ReferralService(db, KEY)
    app = web.Application()
    app.add_routes(IntegratorAPI(db, DirectoryService(tmp, db),
                                 agenda=AgendaAPI(db, referrals)).routes())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/v1"
    now = datetime.now(timezone.utc)
    async with db.session() as session:
        slots = await free_slots(session, NID, motif_id=motif, place_id=place,
                                 start=now + timedelta(days=2), end=now + timedelta(days=60),
                                 now=now)
    slots = slots[:count + 1]
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    queue = list(slots[1:])

    async def client(http: aiohttp.ClientSession) -> None:
        while queue:
            slot = queue.pop()
            started = time.perf_counter()
            async with http.post(base + "/fhir/Appointment", json=appointment(slot_id(slot)),
                                 headers=headers) as response:
                assert response.status == 201, await response.text()
            latencies.append((time.perf_counter() - started) * 1000)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        print(f"back-end {db.dialect}: {len(latencies)} bookings, {concurrency} clients, "
              f"{len(latencies) / elapsed:.1f} bookings/s")
        print(describe("POST /fhir/Appointment", latencies))
        target = slots[0]
        patient = fields.validate({**{k: v for k, v in {
            "civility": "Mme", "first_name": "Camille", "last_name": "Durand",
            "birth_date": "12/03/1980", "born_in_france": True, "birth_place": "Lyon",
            "address": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon",
            "mobile": "0612345678", "email": "camille@example.fr"}.items()}},
            now.astimezone(PARIS).date())

        async def by_api() -> str:
            async with http.post(base + "/fhir/Appointment", json=appointment(
                    slot_id(target)), headers=headers) as response:
                body = await response.json()
                return "booked" if response.status == 201 else (
                    "taken+next" if body.get("next_slots") else f"other {response.status}")

        async def by_dialog() -> str:
            try:
                hold_id = await booking.hold(db, target, 10)
                await referrals.refer(target, patient, referrer_id="@bench:l", hold_id=hold_id)
                return "booked"
            except booking.SlotTaken as taken:
                return "taken+next" if taken.next_slots else "taken"

        started = time.perf_counter()
        outcomes = await asyncio.gather(*((by_api() if i % 2 else by_dialog())
                                          for i in range(200)))
        race = time.perf_counter() - started
    summary = {o: outcomes.count(o) for o in sorted(set(outcomes))}
    print(f"race on one slot (100 API + 100 dialog): {summary} in {race:.2f} s")
    print(f"p95 {percentile(latencies, 95):.1f} ms")
    await runner.cleanup()
    await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL async URL (an empty database)")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite+aiosqlite:///{tmp}/bench.db"
        asyncio.run(run(url, args.count, args.concurrency, Path(tmp)))


if __name__ == "__main__":
    main()
