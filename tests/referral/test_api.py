"""The FHIR agenda API over real HTTP on both back-ends: publish/withdraw, search, book, list,
cancel, scopes; the 200-way race mixing API calls and dialog holds; Schemathesis against
openapi.json (no 5xx, no response contradicting the schema)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest

from bridge.agenda import booking
from bridge.integrator_api.fhir import parse_slot_id
from bridge.integrator_api.tokens import create_token
from tests.referral.agenda_fixture import COLLEAGUE, make_agenda
from tests.referral.api_app import ApiServer
from tests.referral.test_referral import KEY
from tests.security.canaries import plant

PATIENT = {
    "resourceType": "Patient", "name": [{"family": "Durand", "given": ["Camille"],
                                         "prefix": ["Mme"]}],
    "birthDate": "1980-03-12",
    "telecom": [{"system": "phone", "value": "+33612345678"},
                {"system": "email", "value": "camille@example.fr"}],
    "address": [{"line": ["12 rue des Lilas"], "postalCode": "69003", "city": "Lyon"}],
    "extension": [{"url": "https://confrere.fr/fhir/StructureDefinition/birth-place",
                   "valueString": "Lyon"}]}


def appointment(slot_id: str, patient: dict | None = None) -> dict:
    return {"resourceType": "Appointment", "status": "proposed",
            "slot": [{"reference": f"Slot/{slot_id}"}], "contained": [patient or PATIENT],
            "participant": [{"actor": {"reference": "#patient"}, "status": "needs-action"}]}


async def call(http, method, url, token, body=None):
    async with http.request(method, url, json=body,
                            headers={"Authorization": f"Bearer {token}"}) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None)


async def free(http, api, token, start="2027-03-01"):
    status, body = await call(http, "GET", f"{api.base}/fhir/Slot?schedule={COLLEAGUE}&"
                              f"service-type=1&start={start}T00:00:00%2B01:00", token)
    assert status == 200, body
    return [entry["resource"] for entry in body.get("entry", [])]


async def test_publish_search_book_list_cancel_and_scopes(database, tmp_path):
    agenda = await make_agenda(database)
    mine = await create_token(database, "cabinet", "practitioner", COLLEAGUE)
    org = await create_token(database, "groupe", "organisation", "ORG1")
    other = await create_token(database, "autre", "practitioner", "810000000099")
    directory_only = await create_token(database, "annuaire")
    async with ApiServer(database, KEY, tmp_path) as api, aiohttp.ClientSession() as http:
        status, schedules = await call(http, "GET", f"{api.base}/fhir/Schedule?actor="
                                       f"Practitioner/{COLLEAGUE}", org)
        assert status == 200 and schedules["entry"][0]["resource"]["id"] == \
            f"{COLLEAGUE}-{agenda.place_id}"
        for token in (other, directory_only, "cfr_forged"):
            status, body = await call(http, "GET", f"{api.base}/fhir/Slot?schedule={COLLEAGUE}"
                                      "&service-type=1", token)
            assert status == 403, body
        slots = await free(http, api, mine)
        assert slots and slots[0]["start"].startswith("2027-03-01T09:00:00+01:00")
        # Saturday 05/12: nothing, until the software publishes a slot.
        published = {"resourceType": "Slot", "status": "free",
                     "schedule": {"reference": f"Schedule/{COLLEAGUE}-{agenda.place_id}"},
                     "start": "2027-03-06T10:00:00+01:00", "end": "2027-03-06T10:30:00+01:00"}
        assert (await call(http, "POST", f"{api.base}/fhir/Slot", other, published))[0] == 403
        status, created = await call(http, "POST", f"{api.base}/fhir/Slot", mine, published)
        assert status == 201 and created["id"].startswith("p-")
        saturday = await free(http, api, mine, "2027-03-06")
        assert saturday[0]["start"] == "2027-03-06T10:00:00+01:00"
        assert (await call(http, "DELETE", f"{api.base}/fhir/Slot/{created['id']}", other)
                )[0] == 404
        assert (await call(http, "DELETE", f"{api.base}/fhir/Slot/{created['id']}", mine)
                )[0] == 204
        assert (await free(http, api, mine, "2027-03-06"))[0]["start"] != published["start"]
        # Book, then the same slot again: 409 with the next free slots.
        status, booked = await call(http, "POST", f"{api.base}/fhir/Appointment", mine,
                                    appointment(slots[0]["id"]))
        assert status == 201 and booked["status"] == "booked", booked
        status, again = await call(http, "POST", f"{api.base}/fhir/Appointment", org,
                                   appointment(slots[0]["id"]))
        assert status == 409 and again["error"]["message"] == "Ce créneau n'est plus disponible."
        assert again["next_slots"][0]["id"] == slots[1]["id"]
        bad = dict(PATIENT, telecom=[{"system": "phone", "value": "0123456789"},
                                     {"system": "email", "value": "x@example.fr"}])
        status, refused = await call(http, "POST", f"{api.base}/fhir/Appointment", mine,
                                     appointment(slots[1]["id"], bad))
        assert status == 422 and "mobile" in refused["error"]["message"]
        status, listed = await call(http, "GET", f"{api.base}/fhir/Appointment?actor="
                                    f"{COLLEAGUE}&start=2027-02-28", mine)
        assert status == 200 and listed["entry"][0]["resource"]["id"] == booked["id"]
        assert listed["entry"][0]["resource"]["contained"][0]["name"][0]["family"] == "Durand"
        assert (await call(http, "DELETE", f"{api.base}/fhir/Appointment/{booked['id']}",
                           other))[0] == 404
        assert (await call(http, "DELETE", f"{api.base}/fhir/Appointment/{booked['id']}",
                           mine))[0] == 204
        assert (await call(http, "DELETE", f"{api.base}/fhir/Appointment/{booked['id']}",
                           mine))[0] == 409
        assert (await free(http, api, mine))[0]["id"] == slots[0]["id"], "freed again"
        # The integrator declares its webhook; the secret comes back once, sealed here.
        hook = {"practitioner": COLLEAGUE, "url": "https://logiciel.example/hook"}
        assert (await call(http, "PUT", f"{api.base}/webhook", other, hook))[0] == 403
        assert (await call(http, "PUT", f"{api.base}/webhook", mine,
                           {**hook, "url": "ftp://x"}))[0] == 400
        status, declared = await call(http, "PUT", f"{api.base}/webhook", mine, hook)
        assert status == 200 and len(plant(declared["secret"])) >= 40


async def test_two_hundred_mixed_api_and_dialog_attempts_book_once(database, tmp_path):
    await make_agenda(database)
    token = await create_token(database, "cabinet", "practitioner", COLLEAGUE)
    async with ApiServer(database, KEY, tmp_path) as api, aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100)) as http:
        target = (await free(http, api, token))[0]
        nid, place, motif, start = parse_slot_id(target["id"])
        slot = booking.Slot(start, datetime.fromisoformat(target["end"]).astimezone(
            timezone.utc), nid, place, motif)

        async def by_api():
            status, body = await call(http, "POST", f"{api.base}/fhir/Appointment", token,
                                      appointment(target["id"]))
            assert status in (201, 409), body
            if status == 409:
                assert body["next_slots"], "a refusal carries the next free slots"
            return status == 201

        async def by_dialog():
            try:
                hold_id = await booking.hold(database, slot, 10)
                await api.referrals.refer(slot, _patient(), referrer_id="@a:l",
                                          hold_id=hold_id)
                return True
            except booking.SlotTaken as taken:
                assert taken.next_slots
                return False

        outcomes = await asyncio.gather(*((by_api() if i % 2 else by_dialog())
                                          for i in range(200)))
    assert outcomes.count(True) == 1 and outcomes.count(False) == 199


def _patient():
    from tests.referral.test_referral import a_patient
    return a_patient()


@pytest.mark.timeout(600)
async def test_schemathesis_finds_no_server_error_nor_schema_violation(database, tmp_path):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    await make_agenda(database)
    token = await create_token(database, "cabinet", "practitioner", COLLEAGUE)
    raw = json.loads((Path(__file__).parents[2] / "bridge/integrator_api/openapi.json")
                     .read_text(encoding="utf-8"))
    async with ApiServer(database, KEY, tmp_path) as api:
        raw["servers"] = [{"url": api.base}]
        schema = schemathesis.openapi.from_dict(raw)
        failures: list[str] = []
        calls: list[int] = []

        def run() -> None:
            for result in schema.get_all_operations():
                operation = result.ok()

                @settings(max_examples=25, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
                @given(case=operation.as_strategy())
                def check(case):
                    calls.append(1)
                    if case.query and len(calls) % 2:  # half in scope, to reach the logic
                        for key, value in (("actor", f"Practitioner/{COLLEAGUE}"),
                                           ("schedule", f"{COLLEAGUE}-1"),
                                           ("service-type", "1")):
                            if key in case.query:
                                case.query[key] = value
                    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
                    try:
                        case.call_and_validate(base_url=api.base, checks=[
                            not_a_server_error, status_code_conformance,
                            content_type_conformance, response_schema_conformance])
                    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported
                        failures.append(f"{operation.label}: {str(exc)[:300]}")

                check()

        await asyncio.to_thread(run)
    assert not failures, "\n".join(failures[:10])
    assert len(calls) >= 100, "Schemathesis did run every operation"
