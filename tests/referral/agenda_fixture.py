"""A small agenda used by the referral tests: one practitioner, one place open Mon–Fri
09:00–12:00, a 30-minute motif."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.agenda import service

COLLEAGUE = "810000000001"


@dataclass
class Agenda:
    national_id: str
    place_id: int
    motif_id: int


async def make_agenda(db, national_id: str = COLLEAGUE, organisation: str | None = "ORG1"
                      ) -> Agenda:
    await service.ensure_profile(db, national_id, organisation=organisation)
    place = await service.add_place(db, national_id, "Cabinet du Parc", "3 rue du Parc",
                                    "69003", "Lyon")
    for weekday in range(5):
        await service.add_rule(db, place, weekday, "09:00", "12:00")
    motif = await service.add_motif(db, national_id, "Première consultation", 30,
                                    what_to_bring="Carte Vitale, ordonnance")
    return Agenda(national_id, place, motif)
