"""`!agenda jour|semaine`: the practitioner's bookings as the text of a bot reply.

Sent in the practitioner's own encrypted DM, so the patient's name is shown (unlike the
iCalendar feed). The lead's command handler calls `agenda_text` and replies with it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from bridge.agenda.models import AgendaBooking, AgendaMotif, AgendaPlace
from bridge.agenda.slots import DAYS, PARIS, aware
from bridge.referral.models import Referral
from bridge.storage.database import Database


async def agenda_text(db: Database, referrals, national_id: str, first_day: date,
                      days: int = 1) -> str:
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=PARIS)
    end = start + timedelta(days=days)
    async with db.session() as session:
        rows = (await session.execute(
            select(Referral, AgendaBooking, AgendaMotif, AgendaPlace)
            .join(AgendaBooking, AgendaBooking.id == Referral.booking_id)
            .outerjoin(AgendaMotif, AgendaMotif.id == AgendaBooking.motif_id)
            .outerjoin(AgendaPlace, AgendaPlace.id == AgendaBooking.place_id)
            .where(AgendaBooking.national_id == national_id, Referral.status == "booked",
                   AgendaBooking.starts_at >= start, AgendaBooking.starts_at < end)
            .order_by(AgendaBooking.starts_at))).all()
    span = "ce jour" if days == 1 else f"ces {days} jours"
    if not rows:
        return f"Aucun rendez-vous adressé {span}. (No referred appointment.)"
    lines, current = [], None
    for referral, booked, motif, place in rows:
        local = aware(booked.starts_at).astimezone(PARIS)
        if local.date() != current:
            current = local.date()
            lines.append(f"{DAYS[local.weekday()].capitalize()} {local:%d/%m} :")
        patient = referrals.patient_of(referral)
        who = patient.display if patient else "(détails purgés)"
        lines.append(f"  {local:%H:%M} {motif.label if motif else 'RDV'} — {who}"
                     f"{' — ' + place.name if place else ''} (réf. {referral.reference})")
    return "\n".join(lines)
