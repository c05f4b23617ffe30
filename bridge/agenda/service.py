"""Declaring an agenda: places, opening rules, motifs, absences, published slots.

Plain functions over a `Database`, used by the integrator API, the `!agenda` dialog (to come)
and the tests. Each validates its input and raises `ValueError` with a French message.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update

from bridge.agenda.models import (
    AgendaAbsence,
    AgendaMotif,
    AgendaPlace,
    AgendaProfile,
    AgendaRule,
    PublishedSlot,
)
from bridge.agenda.slots import aware, utc
from bridge.storage.database import Database
from bridge.storage.models import utcnow

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


async def ensure_profile(db: Database, national_id: str, *, organisation: str | None = None,
                         accepts_new_patients: bool = True) -> None:
    async with db.session() as session, session.begin():
        profile = await session.get(AgendaProfile, national_id)
        if profile is None:
            session.add(AgendaProfile(national_id=national_id, organisation=organisation,
                                      accepts_new_patients=accepts_new_patients))
        else:
            profile.organisation = organisation or profile.organisation
            profile.accepts_new_patients = accepts_new_patients


async def add_place(db: Database, national_id: str, name: str, address: str = "",
                    postal_code: str = "", city: str = "") -> int:
    async with db.session() as session, session.begin():
        place = AgendaPlace(national_id=national_id, name=name[:255], address=address[:255],
                            postal_code=postal_code[:10], city=city[:255])
        session.add(place)
        await session.flush()
        return place.id


async def add_rule(db: Database, place_id: int, weekday: int, opens: str, closes: str) -> None:
    if not 0 <= weekday <= 6 or not HHMM.match(opens) or not HHMM.match(closes) \
            or opens >= closes:
        raise ValueError("Horaires invalides : jour 0–6, HH:MM, ouverture avant fermeture.")
    async with db.session() as session, session.begin():
        session.add(AgendaRule(place_id=place_id, weekday=weekday, opens=opens, closes=closes))


async def add_motif(db: Database, national_id: str, label: str, minutes: int,
                    new_patients: bool = True, what_to_bring: str = "") -> int:
    if not 5 <= minutes <= 480:
        raise ValueError("Durée d'un motif : entre 5 et 480 minutes.")
    async with db.session() as session, session.begin():
        motif = AgendaMotif(national_id=national_id, label=label[:255],
                            duration_minutes=minutes, new_patients=new_patients,
                            what_to_bring=what_to_bring[:500])
        session.add(motif)
        await session.flush()
        return motif.id


async def add_absence(db: Database, national_id: str, starts: datetime, ends: datetime) -> None:
    if aware(ends) <= aware(starts):
        raise ValueError("Une absence finit après son début.")
    async with db.session() as session, session.begin():
        session.add(AgendaAbsence(national_id=national_id, starts_at=utc(starts),
                                  ends_at=utc(ends)))


async def publish_slot(db: Database, national_id: str, starts: datetime, ends: datetime,
                       place_id: int | None = None, motif_id: int | None = None) -> int:
    """A free slot pushed by practice software; it counts as free until booked/withdrawn."""
    if aware(ends) <= aware(starts):
        raise ValueError("Un créneau finit après son début.")
    async with db.session() as session, session.begin():
        row = PublishedSlot(national_id=national_id, starts_at=utc(starts), ends_at=utc(ends),
                            place_id=place_id, motif_id=motif_id)
        session.add(row)
        await session.flush()
        return row.id


async def withdraw_slot(db: Database, national_id: str, slot_id: int) -> bool:
    async with db.session() as session, session.begin():
        result = await session.execute(update(PublishedSlot).where(
            PublishedSlot.id == slot_id, PublishedSlot.national_id == national_id,
            PublishedSlot.withdrawn_at.is_(None)).values(withdrawn_at=utcnow()))
        return result.rowcount == 1


async def places_of(db: Database, national_id: str) -> list[AgendaPlace]:
    async with db.session() as session:
        return list(await session.scalars(select(AgendaPlace).where(
            AgendaPlace.national_id == national_id).order_by(AgendaPlace.id)))


async def motifs_of(db: Database, national_id: str) -> list[AgendaMotif]:
    async with db.session() as session:
        return list(await session.scalars(select(AgendaMotif).where(
            AgendaMotif.national_id == national_id).order_by(AgendaMotif.id)))
