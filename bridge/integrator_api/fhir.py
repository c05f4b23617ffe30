"""FHIR R4 resources of the agenda API, built and checked with `fhir.resources` (R4B models,
wire-compatible with R4 for Schedule, Slot, Appointment, Bundle, Patient).

Identifiers: a Schedule is one practitioner at one place, id `<national id>-<place id>`; a
computed free Slot is `s-<national id>-<place>-<motif>-<start, Unix minutes>` (so booking it
needs no stored row); a published Slot is `p-<row id>`; an Appointment's id is the referral's
public reference. Motifs are `serviceType` codings of system `MOTIF_SYSTEM`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot as FhirSlot

from bridge.agenda.slots import PARIS, Slot

MOTIF_SYSTEM = "https://confrere.fr/fhir/motif"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
EXT = "https://confrere.fr/fhir/StructureDefinition/"
SLOT_ID = re.compile(r"^s-(\d{1,32})-(\d{1,9})-(\d{1,9})-(\d{1,12})$")


def _checked(model, data: dict) -> dict:
    """Validate what we emit: a malformed resource is a bug, not something to send."""
    return model.model_validate(data).model_dump(mode="json", exclude_none=True)


def local_iso(moment: datetime) -> str:
    return moment.astimezone(PARIS).isoformat(timespec="seconds")


def slot_id(slot: Slot) -> str:
    minutes = int(slot.starts_at.timestamp() // 60)
    return f"s-{slot.national_id}-{slot.place_id}-{slot.motif_id}-{minutes}"


def parse_slot_id(value: str, duration_minutes: int | None = None
                  ) -> tuple[str, int, int, datetime] | None:
    match = SLOT_ID.match(value)
    if match is None:
        return None
    nid, place, motif, minutes = match.groups()
    try:
        start = datetime.fromtimestamp(int(minutes) * 60, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None
    return nid, int(place), int(motif), start


def slot_resource(slot: Slot, motif_label: str = "") -> dict:
    coding = {"system": MOTIF_SYSTEM, "code": str(slot.motif_id)}
    if motif_label:
        coding["display"] = motif_label
    return _checked(FhirSlot, {
        "resourceType": "Slot", "id": slot_id(slot), "status": "free",
        "schedule": {"reference": f"Schedule/{slot.national_id}-{slot.place_id}"},
        "serviceType": [{"coding": [coding]}] if slot.motif_id else None,
        "start": local_iso(slot.starts_at), "end": local_iso(slot.ends_at)})


def published_resource(row_id: int, national_id: str, place_id: int | None,
                       start: datetime, end: datetime) -> dict:
    return _checked(FhirSlot, {
        "resourceType": "Slot", "id": f"p-{row_id}", "status": "free",
        "schedule": {"reference": f"Schedule/{national_id}-{place_id or 0}"},
        "start": local_iso(start), "end": local_iso(end)})


def schedule_resource(national_id: str, place_id: int, place_name: str) -> dict:
    return _checked(Schedule, {
        "resourceType": "Schedule", "id": f"{national_id}-{place_id}", "active": True,
        "actor": [{"reference": f"Practitioner/{national_id}",
                   "identifier": {"system": RPPS_SYSTEM, "value": national_id}},
                  {"reference": f"Location/{place_id}", "display": place_name}]})


def appointment_resource(reference: str, status: str, slot: Slot, patient: dict | None,
                         motif_label: str = "") -> dict:
    participants = [{"actor": {"reference": f"Practitioner/{slot.national_id}"},
                     "status": "accepted"}]
    contained = None
    if patient is not None:
        participants.append({"actor": {"reference": "#patient"}, "status": "accepted"})
        contained = [patient_resource(patient)]
    return _checked(Appointment, {
        "resourceType": "Appointment", "id": reference, "status": status,
        "contained": contained, "description": motif_label or None,
        "slot": [{"reference": f"Slot/{slot_id(slot)}"}],
        "start": local_iso(slot.starts_at), "end": local_iso(slot.ends_at),
        "participant": participants})


def patient_resource(p: dict) -> dict:
    names = [{"use": "official", "family": p["last_name"], "given": [p["first_name"]],
              "prefix": [p["civility"]]}]
    if p.get("birth_name"):
        names.append({"use": "maiden", "family": p["birth_name"]})
    return {"resourceType": "Patient", "id": "patient", "name": names,
            "gender": "female" if p["civility"] == "Mme" else "male",
            "birthDate": p["birth_date"],
            "telecom": [{"system": "phone", "use": "mobile", "value": p["mobile"]},
                        {"system": "email", "value": p["email"]}],
            "address": [{"line": [p["address"]], "postalCode": p["postal_code"],
                         "city": p["city"], "country": "FR"}],
            "extension": [
                {"url": EXT + "born-in-france", "valueBoolean": p["born_in_france"]},
                {"url": EXT + "birth-place", "valueString": p["birth_place"]},
                {"url": EXT + "already-patient", "valueBoolean": p["already_patient"]}]}


def patient_fields(resource: dict) -> dict:
    """The raw fields of `bridge.referral.patient.validate` from a contained FHIR Patient."""
    names = resource.get("name") or [{}]
    official = names[0]
    maiden = next((n.get("family", "") for n in names if n.get("use") == "maiden"), "")
    telecom = resource.get("telecom") or []
    address = (resource.get("address") or [{}])[0]
    ext = {e.get("url", "").removeprefix(EXT): e for e in resource.get("extension") or []}
    civility = (official.get("prefix") or [None])[0] or \
        {"female": "Mme", "male": "M."}.get(resource.get("gender"), "")
    birth = str(resource.get("birthDate", ""))
    if re.match(r"^\d{4}-\d{2}-\d{2}$", birth):
        birth = "/".join(reversed(birth.split("-")))
    return {
        "civility": civility, "first_name": (official.get("given") or [""])[0],
        "last_name": official.get("family", ""), "birth_name": maiden, "birth_date": birth,
        "born_in_france": ext.get("born-in-france", {}).get("valueBoolean", True),
        "birth_place": ext.get("birth-place", {}).get("valueString", ""),
        "address": " ".join(address.get("line") or []),
        "postal_code": address.get("postalCode", ""), "city": address.get("city", ""),
        "mobile": next((t.get("value", "") for t in telecom if t.get("system") == "phone"), ""),
        "email": next((t.get("value", "") for t in telecom if t.get("system") == "email"), ""),
        "already_patient": ext.get("already-patient", {}).get("valueBoolean", False)}


def bundle(resources: list[dict]) -> dict:
    return _checked(Bundle, {"resourceType": "Bundle", "type": "searchset",
                             "total": len(resources),
                             "entry": [{"resource": r} for r in resources] or None})


def validate_appointment(body: dict) -> dict:
    """Parse an incoming Appointment (raises pydantic's ValidationError if malformed)."""
    return Appointment.model_validate(body).model_dump(mode="json", exclude_none=True)


def validate_slot(body: dict) -> dict:
    return FhirSlot.model_validate(body).model_dump(mode="json", exclude_none=True)
