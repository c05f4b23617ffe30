"""`/api/v1/fhir/...`: the agenda for practice software, FHIR R4 JSON (see `fhir.py`).

Every route needs a token scoped to a practitioner or an organisation (`tokens.py`); a
practitioner outside that scope is answered 403, whatever exists. Bookings go through the same
`ReferralService.refer` as the bot's dialog, so the slot is booked once whichever side asks.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import select

from bridge.agenda import booking, service as agenda
from bridge.agenda.models import (
    AgendaBooking,
    AgendaMotif,
    AgendaPlace,
    AgendaProfile,
    PublishedSlot,
)
from bridge.agenda.slots import PARIS, Slot, aware, free_slots
from bridge.integrator_api import fhir
from bridge.integrator_api.tokens import ApiToken, token_for
from bridge.referral import patient as fields
from bridge.referral.models import Referral
from bridge.referral.service import ReferralService
from bridge.storage.database import Database
from bridge.storage.models import utcnow
from bridge.webhooks.outbox import configure_webhook

PREFIX = "/api/v1/fhir"
MAX_BODY = 64 * 1024
MAX_RANGE = timedelta(days=62)
FHIR_JSON = "application/fhir+json"


def error(status: int, code: str, fr: str, en: str, **extra) -> web.Response:
    return web.json_response({"error": {"code": code, "message": fr, "message_en": en},
                              **extra}, status=status)


def _bad(fr: str, en: str) -> web.Response:
    return error(400, "bad_request", fr, en)


def _when(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    value = datetime.fromisoformat(text)
    return (value if value.tzinfo else value.replace(tzinfo=PARIS)).astimezone(timezone.utc)


class AgendaAPI:
    def __init__(self, database: Database, referrals: ReferralService,
                 sealing_key: str = "", allow_http_webhooks: bool = False) -> None:
        self.db = database
        self.referrals = referrals
        self.sealing_key = sealing_key
        self.allow_http = allow_http_webhooks  # tests and development receivers only

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(PREFIX + "/Schedule", self.schedules),
            web.get(PREFIX + "/Slot", self.slots),
            web.post(PREFIX + "/Slot", self.publish),
            web.delete(PREFIX + "/Slot/{id}", self.withdraw),
            web.get(PREFIX + "/Appointment", self.appointments),
            web.post(PREFIX + "/Appointment", self.book),
            web.delete(PREFIX + "/Appointment/{id}", self.cancel),
            web.put("/api/v1/webhook", self.webhook),
        ]

    async def webhook(self, request: web.Request) -> web.Response:
        """Declare where appointment events go; answers the HMAC secret once."""
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        national_id, url = body.get("practitioner"), body.get("url")
        schemes = ("https://", "http://") if self.allow_http else ("https://",)
        if not isinstance(national_id, str) or not (
                url is None or (isinstance(url, str) and url.startswith(schemes)
                                and 10 <= len(url) <= 500 and " " not in url)):
            return _bad("practitioner (identifiant national) et url https:// (ou null pour "
                        "supprimer).", "practitioner and an https:// url (or null).")
        if isinstance(token := await self._scoped(request, national_id), web.Response):
            return token
        secret = await configure_webhook(self.db, self.sealing_key, national_id, url)
        return web.json_response({"practitioner": national_id, "url": url, "secret": secret,
                                  "signature": "v1=HMAC-SHA256(secret, id.timestamp.body)"})

    # -- authorisation --------------------------------------------------------------------
    async def _token(self, request: web.Request) -> ApiToken | web.Response:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return error(401, "unauthorized", "Jeton d'accès manquant (en-tête Authorization).",
                         "Missing bearer token.")
        token = await token_for(self.db, header[7:].strip())
        if token is None:
            return error(403, "forbidden", "Jeton d'accès invalide ou révoqué.",
                         "Invalid or revoked token.")
        return token

    async def _allowed(self, token: ApiToken, national_id: str) -> bool:
        if token.scope_kind == "practitioner":
            return national_id == token.scope_value
        if token.scope_kind == "organisation":
            async with self.db.session() as session:
                profile = await session.get(AgendaProfile, national_id[:32])
            return profile is not None and profile.organisation == token.scope_value
        return False

    async def _scoped(self, request: web.Request, national_id: str
                      ) -> ApiToken | web.Response:
        token = await self._token(request)
        if isinstance(token, web.Response):
            return token
        if not national_id or not await self._allowed(token, national_id):
            return error(403, "out_of_scope", "Ce jeton ne donne pas accès à l'agenda de ce "
                         "praticien.", "This token does not cover this practitioner's agenda.")
        return token

    async def _body(self, request: web.Request) -> dict | web.Response:
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            return error(413, "too_large", "Corps de requête trop grand.", "Body too large.")
        try:
            body = json.loads(raw)
        except ValueError:
            return _bad("Corps JSON invalide.", "Invalid JSON body.")
        return body if isinstance(body, dict) else _bad("Un objet JSON est attendu.",
                                                         "A JSON object is expected.")

    # -- schedules and slots ---------------------------------------------------------------
    async def schedules(self, request: web.Request) -> web.Response:
        national_id = request.query.get("actor", "").removeprefix("Practitioner/")
        if isinstance(token := await self._scoped(request, national_id), web.Response):
            return token
        places = await agenda.places_of(self.db, national_id)
        return web.json_response(fhir.bundle([
            fhir.schedule_resource(national_id, p.id, p.name) for p in places]))

    async def slots(self, request: web.Request) -> web.Response:
        q = request.query
        schedule = q.get("schedule", "").removeprefix("Schedule/")
        national_id, _, place = schedule.partition("-")
        if isinstance(token := await self._scoped(request, national_id), web.Response):
            return token
        try:
            place_id = int(place) if place else None
            motif_id = int(q["service-type"]) if q.get("service-type") else None
            now = utcnow()
            start = max(_when(q.get("start"), now), now)
            end = _when(q.get("end"), start + timedelta(days=14))
            if motif_id is None or end <= start or end - start > MAX_RANGE:
                raise ValueError
        except (ValueError, OverflowError):
            return _bad("Paramètres : schedule=<id>, service-type=<motif>, start/end ISO 8601 "
                        "(62 jours au plus).", "schedule, service-type, start/end (≤ 62 days).")
        async with self.db.session() as session:
            motif = await session.get(AgendaMotif, motif_id)
            found = await free_slots(session, national_id, motif_id=motif_id,
                                     place_id=place_id, start=start, end=end, now=now)
        label = motif.label if motif else ""
        return web.json_response(fhir.bundle([fhir.slot_resource(s, label)
                                              for s in found[:200]]))

    async def publish(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        try:
            slot = fhir.validate_slot(body)
            schedule = slot["schedule"]["reference"].removeprefix("Schedule/")
            national_id, _, place = schedule.partition("-")
            place_id = int(place) if place else None
            start = _when(slot["start"], utcnow())
            end = _when(slot["end"], utcnow())
            if slot.get("status") != "free" or end <= start or end - start > timedelta(hours=12):
                raise ValueError
        except (ValidationError, KeyError, ValueError, TypeError, OverflowError):
            return _bad("Slot FHIR invalide : status free, schedule, start < end (12 h au "
                        "plus).", "Invalid FHIR Slot.")
        if isinstance(token := await self._scoped(request, national_id), web.Response):
            return token
        if place_id is not None and not await self._owns(AgendaPlace, place_id, national_id):
            return error(404, "not_found", "Lieu inconnu pour ce praticien.", "Unknown place.")
        row_id = await agenda.publish_slot(self.db, national_id, start, end, place_id)
        return web.json_response(fhir.published_resource(row_id, national_id, place_id,
                                                         start, end), status=201)

    async def withdraw(self, request: web.Request) -> web.Response:
        slot_id = request.match_info["id"]
        token = await self._token(request)
        if isinstance(token, web.Response):
            return token
        national_id = None
        if slot_id.startswith("p-") and slot_id[2:].isdigit() and len(slot_id) < 20:
            async with self.db.session() as session:
                row = await session.get(PublishedSlot, int(slot_id[2:]))
                national_id = row.national_id if row is not None else None
        if national_id is None or not await self._allowed(token, national_id):
            return error(404, "not_found", "Créneau publié inconnu.", "Unknown published slot.")
        await agenda.withdraw_slot(self.db, national_id, int(slot_id[2:]))
        return web.Response(status=204)

    async def _owns(self, model, row_id: int, national_id: str) -> bool:
        async with self.db.session() as session:
            row = await session.get(model, row_id)
        return row is not None and row.national_id == national_id

    # -- appointments ----------------------------------------------------------------------
    async def book(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        try:
            appointment = fhir.validate_appointment(body)
            reference = appointment["slot"][0]["reference"].removeprefix("Slot/")
            parsed = fhir.parse_slot_id(reference)
            if parsed is None:
                raise ValueError
            contained = [r for r in appointment.get("contained") or []
                         if r.get("resourceType") == "Patient"]
            if len(contained) != 1:
                raise ValueError
        except (ValidationError, KeyError, IndexError, ValueError, TypeError):
            return _bad("Appointment FHIR invalide : slot [Slot/s-…] et un Patient contenu.",
                        "Invalid FHIR Appointment: one slot and one contained Patient.")
        national_id, place_id, motif_id, start = parsed
        if isinstance(token := await self._scoped(request, national_id), web.Response):
            return token
        async with self.db.session() as session:
            motif = await session.get(AgendaMotif, motif_id)
        if motif is None or motif.national_id != national_id:
            return error(404, "not_found", "Motif inconnu pour ce praticien.", "Unknown motif.")
        try:
            patient = fields.validate(fhir.patient_fields(contained[0]),
                                      utcnow().astimezone(PARIS).date())
        except fields.FieldError as refusal:
            return error(422, "invalid_patient", str(refusal), "Invalid patient details.")
        slot = Slot(start, start + timedelta(minutes=motif.duration_minutes), national_id,
                    place_id, motif_id)
        try:
            booked = await self.referrals.refer(
                slot, patient, referrer_id=f"api:{token.name}", source="api",
                message=str(appointment.get("comment", ""))[:4000])
        except booking.SlotTaken as taken:
            return error(409, "slot_unavailable", booking.TAKEN_FR, booking.TAKEN_EN,
                         next_slots=[fhir.slot_resource(s, motif.label)
                                     for s in taken.next_slots])
        return web.json_response(fhir.appointment_resource(
            booked.reference, "booked", slot, patient.to_json(), motif.label), status=201)

    async def appointments(self, request: web.Request) -> web.Response:
        national_id = request.query.get("actor", "").removeprefix("Practitioner/")
        if isinstance(token := await self._scoped(request, national_id), web.Response):
            return token
        try:
            start = _when(request.query.get("start"), utcnow() - timedelta(days=1))
            end = _when(request.query.get("end"), start + timedelta(days=31))
            if end <= start or end - start > MAX_RANGE:
                raise ValueError
        except (ValueError, OverflowError):
            return _bad("start/end ISO 8601, 62 jours au plus.", "start/end, ≤ 62 days.")
        async with self.db.session() as session:
            rows = (await session.execute(
                select(Referral, AgendaBooking, AgendaMotif)
                .join(AgendaBooking, AgendaBooking.id == Referral.booking_id)
                .outerjoin(AgendaMotif, AgendaMotif.id == AgendaBooking.motif_id)
                .where(Referral.colleague_national_id == national_id,
                       AgendaBooking.starts_at >= start, AgendaBooking.starts_at < end)
                .order_by(AgendaBooking.starts_at).limit(500))).all()
        resources = []
        for referral, row, motif in rows:
            slot = Slot(aware(row.starts_at), aware(row.ends_at), row.national_id,
                        row.place_id, row.motif_id)
            patient = self.referrals.patient_of(referral)
            resources.append(fhir.appointment_resource(
                referral.reference, "booked" if referral.status == "booked" else "cancelled",
                slot, patient.to_json() if patient else None, motif.label if motif else ""))
        return web.json_response(fhir.bundle(resources))

    async def cancel(self, request: web.Request) -> web.Response:
        reference = request.match_info["id"]
        token = await self._token(request)
        if isinstance(token, web.Response):
            return token
        async with self.db.session() as session:
            referral = await session.scalar(select(Referral).where(
                Referral.reference == reference[:32]))
        if referral is None or not await self._allowed(token,
                                                       referral.colleague_national_id):
            return error(404, "not_found", "Rendez-vous inconnu.", "Unknown appointment.")
        if not await self.referrals.cancel(reference,
                                           national_id=referral.colleague_national_id):
            return error(409, "already_cancelled", "Rendez-vous déjà annulé.",
                         "Appointment already cancelled.")
        return web.Response(status=204)
