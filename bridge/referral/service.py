"""Booking a referral and cancelling it, with everyone's notices in the same transaction.

`ReferralService.refer` books the slot (`bridge.agenda.booking.book`) and, inside that very
transaction, writes the referral (patient sealed, purpose "referral-patient"), the patient's
e-mail (mail outbox), confirmation SMS and the day-before reminder (SMS outbox) and the
integrator's webhook: either all of it exists or none. The colleague's Matrix message is text
the caller sends through the bot (`colleague_message`). Nothing here logs patient data.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bridge.agenda import booking
from bridge.agenda.models import AgendaBooking, AgendaMotif, AgendaPlace
from bridge.agenda.slots import Slot, aware
from bridge.background import PollingWorker
from bridge.mail import outbox as mail_outbox
from bridge.mail.messages import _compose
from bridge.referral.models import Referral
from bridge.referral.patient import Patient
from bridge.sms.outbox import enqueue_sms, withdraw_pending
from bridge.storage.database import Database
from bridge.storage.models import utcnow
from bridge.storage.sealing import SealedBox
from bridge.webhooks.outbox import enqueue_webhook

log = logging.getLogger(__name__)

PATIENT_PURPOSE = "referral-patient"


@dataclass(frozen=True)
class Booked:
    reference: str
    referral_id: int
    booking_id: int
    slot: Slot


class ReferralService:
    def __init__(self, db: Database, sealing_key: str, *, retention_days: int = 90,
                 reminder_hours: int = 24, mail_domain: str = "confrere.local") -> None:
        self.db = db
        self.box = SealedBox(sealing_key, PATIENT_PURPOSE)
        self.sms_box = SealedBox(sealing_key, "sms")
        self.webhook_box = SealedBox(sealing_key, "webhook")
        self.retention = timedelta(days=retention_days)
        self.reminder = timedelta(hours=reminder_hours)
        self.mail_domain = mail_domain

    # -- booking ----------------------------------------------------------------------------
    async def refer(self, slot: Slot, patient: Patient, *, referrer_id: str, message: str = "",
                    documents: list[dict] | None = None, hold_id: int | None = None,
                    source: str = "dialog", referrer_name: str = "",
                    now: datetime | None = None) -> Booked:
        """Book and record; raises `SlotTaken` (with the next free slots) if it is gone."""
        now = now or utcnow()
        reference = secrets.token_hex(8)
        made: dict = {}

        async def record(session, row: AgendaBooking) -> None:
            details = {"patient": patient.to_json(), "message": message,
                       "documents": documents or [], "referrer_name": referrer_name}
            referral = Referral(
                reference=reference, booking_id=row.id, referrer_id=referrer_id[:255],
                colleague_national_id=slot.national_id, status="booked", created_at=now,
                sealed_details=self.box.seal_json(details),
                purge_after=aware(slot.ends_at) + self.retention, notices={})
            session.add(referral)
            await session.flush()
            made["id"] = referral.id
            await self._notify(session, referral, row, patient, "booked", now)

        row = await booking.book(self.db, slot, source=source, hold_id=hold_id, now=now,
                                 after=record)
        log.info("referral %s booked (source %s)", reference, source)
        return Booked(reference, made["id"], row.id, slot)

    async def cancel(self, reference: str, *, national_id: str | None = None) -> bool:
        """Cancel (by either practitioner or the API): frees the slot, tells everyone.
        `national_id` restricts to that colleague's referrals (the API's scope)."""
        now = utcnow()
        async with self.db.session() as session, session.begin():
            query = select(Referral).where(Referral.reference == reference,
                                           Referral.status == "booked")
            if national_id is not None:
                query = query.where(Referral.colleague_national_id == national_id)
            referral = await session.scalar(query)
            if referral is None:
                return False
            row = await session.get(AgendaBooking, referral.booking_id)
            await booking.cancel_booking(session, referral.booking_id)
            referral.status, referral.cancelled_at = "cancelled", now
            await withdraw_pending(session, referral.id, "reminder")
            patient = self.patient_of(referral)
            await self._notify(session, referral, row, patient, "cancelled", now)
        log.info("referral %s cancelled", reference)
        return True

    def details(self, referral: Referral) -> dict | None:
        return None if referral.sealed_details is None else self.box.open_json(
            referral.sealed_details)

    def patient_of(self, referral: Referral) -> Patient | None:
        details = self.details(referral)
        return None if details is None else Patient.from_json(details["patient"])

    # -- notices ----------------------------------------------------------------------------
    async def _notify(self, session, referral: Referral, row: AgendaBooking,
                      patient: Patient | None, event: str, now: datetime) -> None:
        place = await session.get(AgendaPlace, row.place_id) if row.place_id else None
        motif = await session.get(AgendaMotif, row.motif_id) if row.motif_id else None
        slot = Slot(aware(row.starts_at), aware(row.ends_at), row.national_id, row.place_id,
                    row.motif_id)
        where = (f"{place.name}, {place.address}, {place.postal_code} {place.city}"
                 if place else "")
        facts = {"when": slot.label(), "where": where, "motif": motif.label if motif else "",
                 "bring": motif.what_to_bring if motif else "", "reference": referral.reference}
        if patient is not None:
            kind = "referral_booked" if event == "booked" else "referral_cancelled"
            subject = ("Votre rendez-vous du " if event == "booked" else
                       "Rendez-vous annulé : ") + slot.label()
            mail = mail_outbox.enqueue(session, domain=self.mail_domain,
                                       **_mail(kind, subject, facts, patient))
            await session.flush()
            referral.notices = {**referral.notices, f"mail_{event}": mail.id}
            enqueue_sms(session, self.sms_box, kind=event, to=patient.mobile,
                        text=sms_text(event, facts), referral_id=referral.id)
            reminder_at = slot.starts_at - self.reminder
            if event == "booked" and reminder_at > now:
                enqueue_sms(session, self.sms_box, kind="reminder", to=patient.mobile,
                            text=sms_text("reminder", facts), referral_id=referral.id,
                            not_before=reminder_at)
        data = {"reference": referral.reference, "status": event,
                "start": slot.starts_at.isoformat(), "end": slot.ends_at.isoformat(),
                "practitioner": row.national_id, "place_id": row.place_id,
                "motif_id": row.motif_id}
        if patient is not None and event == "booked":
            data["patient"] = patient.to_json()
        await enqueue_webhook(session, self.webhook_box, row.national_id,
                              f"appointment.{event}", data)

    # -- retention --------------------------------------------------------------------------
    async def purge_due(self, now: datetime | None = None) -> int:
        """Blank the sealed details of referrals past their retention period."""
        now = now or utcnow()
        async with self.db.session() as session, session.begin():
            result = await session.execute(update(Referral).where(
                Referral.purge_after < now, Referral.purged_at.is_(None)).values(
                sealed_details=None, purged_at=now))
        return result.rowcount


def sms_text(event: str, facts: dict) -> str:
    """No patient name in an SMS: the number may be shared; the reference is enough."""
    if event == "booked":
        return (f"Rendez-vous confirmé le {facts['when']} ({facts['motif']}), {facts['where']}. "
                f"A apporter : {facts['bring'] or '-'}. Pour annuler, appelez le cabinet "
                f"(réf. {facts['reference']}).")
    if event == "reminder":
        return (f"Rappel : rendez-vous demain, {facts['when']}, {facts['where']} "
                f"(réf. {facts['reference']}).")
    return f"Votre rendez-vous du {facts['when']} est annulé (réf. {facts['reference']})."


def _mail(kind: str, subject: str, facts: dict, patient: Patient) -> dict:
    composed = _compose(kind, subject, patient_civility=patient.civility, **facts)
    return {"kind": composed.kind, "recipient": patient.email, "subject": composed.subject,
            "text": composed.text, "html": composed.html}


def colleague_message(booked_slot: Slot, patient: Patient, message: str, referrer: str,
                      place: str, motif: str, documents: list[dict]) -> tuple[str, str]:
    """The text (and HTML) the bot sends the colleague, in their encrypted DM."""
    from html import escape
    born = "né(e) en France à" if patient.born_in_france else "né(e) à l'étranger :"
    lines = [
        f"Nouveau rendez-vous adressé par {referrer} — {booked_slot.label()}, {place}, "
        f"{motif}. (New referral.)",
        f"Patient(e) : {patient.display} (naissance : {patient.birth_name or patient.last_name}"
        f"), {patient.birth_date}, {born} {patient.birth_place}.",
        f"Adresse : {patient.address}, {patient.postal_code} {patient.city}. "
        f"Mobile : {patient.mobile}. E-mail : {patient.email}.",
        "Déjà patient(e) : " + ("oui" if patient.already_patient else "non") + ".",
        f"Message : {message or '—'}",
        f"Documents : {len(documents)} (envoyés ci-dessous)." if documents
        else "Documents : aucun.",
    ]
    return "\n".join(lines), "<br>".join(escape(line) for line in lines)


class ReferralPurgeWorker(PollingWorker):
    """Purges expired patient details once an hour."""

    name = "referral-purge"
    poll_seconds = 3600.0

    def __init__(self, service: ReferralService) -> None:
        super().__init__()
        self.service = service

    async def run_once(self) -> bool:
        await self.service.purge_due()
        return False
