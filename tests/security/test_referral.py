"""Adversarial cases of the referral (adressage) on both back-ends: scoped, forged and revoked
integrator tokens; double booking; booking in the past, outside opening hours, on a holiday;
disguised and oversized documents; feed token guessing and revocation; webhook signatures
checked by a receiver (forged, replayed, stale); patient data absent from plaintext columns
and logs."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from sqlalchemy import text

from bridge.agenda import booking, feed
from bridge.agenda import service as agenda_service
from bridge.agenda.slots import PARIS, Slot, free_slots
from bridge.integrator_api.fhir import slot_id
from bridge.integrator_api.tokens import create_token, revoke_token
from bridge.referral.service import ReferralService
from bridge.webhooks import signing
from tests.referral.agenda_fixture import COLLEAGUE, make_agenda
from tests.referral.api_app import ApiServer
from tests.referral.test_api import PATIENT, appointment, call
from tests.referral.test_dialog import PDF, Clock, Talk
from tests.referral.test_referral import KEY, a_patient, patient_name
from tests.security.canaries import plant

UTC = timezone.utc
MONDAY = datetime(2027, 3, 1, tzinfo=PARIS)


def at(day: datetime, hhmm: str, motif_id: int, place_id: int, minutes: int = 30) -> Slot:
    hours, mins = (int(x) for x in hhmm.split(":"))
    start = day.replace(hour=hours, minute=mins).astimezone(UTC)
    return Slot(start, start + timedelta(minutes=minutes), COLLEAGUE, place_id, motif_id)


async def _api_status(database, tmp_path, token, method, path, body=None):
    async with ApiServer(database, KEY, tmp_path) as api, aiohttp.ClientSession() as http:
        return await call(http, method, api.base + path, token, body)


@pytest.mark.rule("out_of_scope")
async def test_a_token_of_another_practitioner_or_organisation_is_refused(database, tmp_path):
    agenda = await make_agenda(database, organisation="ORG1")
    slot = at(MONDAY, "09:00", agenda.motif_id, agenda.place_id)
    for kind, value in (("practitioner", "810000000099"), ("organisation", "ORG2"),
                        ("all", None)):
        token = plant(await create_token(database, f"t-{kind}", kind, value))
        for method, path, body in (
                ("GET", f"/fhir/Slot?schedule={COLLEAGUE}&service-type=1", None),
                ("POST", "/fhir/Appointment", appointment(slot_id(slot))),
                ("GET", f"/fhir/Appointment?actor={COLLEAGUE}", None)):
            status, answer = await _api_status(database, tmp_path, token, method, path, body)
            assert status == 403 and answer["error"]["code"] == "out_of_scope", (kind, path)
    async with database.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM referrals"))).scalar() == 0


@pytest.mark.rule("forbidden")
async def test_forged_and_revoked_tokens_are_refused(database, tmp_path):
    await make_agenda(database)
    token = plant(await create_token(database, "cabinet", "practitioner", COLLEAGUE))
    path = f"/fhir/Slot?schedule={COLLEAGUE}&service-type=1"
    for forged in ("cfr_" + "A" * 43, token[:-2] + "xx", token.upper(), "", "x" * 500):
        status, _ = await _api_status(database, tmp_path, forged, "GET", path)
        assert status in (401, 403), forged
    assert (await _api_status(database, tmp_path, token, "GET", path))[0] == 200
    await revoke_token(database, "cabinet")
    assert (await _api_status(database, tmp_path, token, "GET", path))[0] == 403


@pytest.mark.rule("slot_unavailable")
async def test_a_slot_cannot_be_booked_twice_nor_outside_the_agenda(database, tmp_path):
    agenda = await make_agenda(database)
    token = plant(await create_token(database, "cabinet", "practitioner", COLLEAGUE))
    ok = at(MONDAY, "09:00", agenda.motif_id, agenda.place_id)
    assert (await _api_status(database, tmp_path, token, "POST", "/fhir/Appointment",
                              appointment(slot_id(ok))))[0] == 201
    refused = {
        "twice": ok,
        "past": at(datetime(2025, 3, 3, tzinfo=PARIS), "09:00", agenda.motif_id,
                   agenda.place_id),
        "evening": at(MONDAY, "19:00", agenda.motif_id, agenda.place_id),
        "saturday": at(datetime(2027, 3, 6, tzinfo=PARIS), "09:00", agenda.motif_id,
                       agenda.place_id),
        "holiday (Easter Monday 29/03/2027)": at(datetime(2027, 3, 29, tzinfo=PARIS),
                                                 "09:00", agenda.motif_id, agenda.place_id),
        "off the grid": at(MONDAY, "09:10", agenda.motif_id, agenda.place_id),
        "before opening": at(MONDAY, "08:45", agenda.motif_id, agenda.place_id),
        "a published slot straddling the booking": at(MONDAY, "09:15", agenda.motif_id,
                                                      agenda.place_id),
    }
    straddle = refused["a published slot straddling the booking"]
    await agenda_service.publish_slot(database, COLLEAGUE, straddle.starts_at,
                                      straddle.ends_at, agenda.place_id)
    for why, slot in refused.items():
        status, body = await _api_status(database, tmp_path, token, "POST",
                                         "/fhir/Appointment", appointment(slot_id(slot)))
        assert status == 409 and body["error"]["code"] == "slot_unavailable", why
        with pytest.raises(booking.SlotTaken):
            await ReferralService(database, KEY).refer(slot, a_patient(), referrer_id="@x:l")
    async with database.session() as session:
        assert (await session.execute(text("SELECT count(*) FROM agenda_bookings"))
                ).scalar() == 1


@pytest.mark.rule("document_type")
async def test_disguised_and_oversized_documents_are_refused(database):
    agenda = await make_agenda(database)
    talk = Talk(database, Clock(), agenda, [])
    await talk.start()
    for answer in ("1", "1", "1", "Mme", "Camille", "Durand", "-", "12/03/1980", "oui", "Lyon",
                   "12 rue des Lilas", "69003", "Lyon", "0612345678", "c@example.fr", "non",
                   "aucun", "oui"):
        await talk.say(answer)
    for name, data in (("scan.pdf", b"MZ\x90\x00" + b"\x00" * 64),  # a Windows program
                       ("photo.jpg", b"<html><script>alert(1)</script>"),
                       ("image.png", b"GIF89a" + b"\x00" * 32),
                       ("vide.pdf", b"")):
        assert "PDF, JPEG et PNG" in await talk.say(attachment={"bytes": data, "name": name})
    assert "trop lourd" in await talk.say(attachment={"bytes": PDF * 6, "name": "big.pdf"})
    assert "Un autre" in await talk.say(attachment={"bytes": PDF, "name": "ok.pdf"})


@pytest.mark.rule("feed_token")
async def test_feed_tokens_cannot_be_guessed_and_die_when_revoked(database):
    agenda = await make_agenda(database)
    token = plant(await feed.rotate(database, agenda.national_id))
    assert await feed.owner_of(database, token) == agenda.national_id
    for guess in (token[:-1], token + "a", "cfa_", "cfa_" + "0" * 43, token.replace("cfa_", "")):
        assert await feed.owner_of(database, guess) is None
    async with database.session() as session:
        stored = (await session.execute(text("SELECT token_hash FROM agenda_feed_tokens"))
                  ).scalars().all()
    assert token not in stored and all(len(h) == 64 for h in stored), "stored hashed"
    await feed.revoke(database, agenda.national_id)
    assert await feed.owner_of(database, token) is None


@pytest.mark.rule("webhook_signature")
def test_a_receiver_rejects_forged_replayed_or_stale_webhooks():
    secret, body = "secret-du-logiciel", json.dumps({"id": "e1", "type": "x"}).encode()
    now = time.time()
    headers = signing.headers(secret, "e1", body, now=now)
    assert signing.verify(secret, headers, body, now=now)
    assert not signing.verify("autre", headers, body, now=now)
    assert not signing.verify(secret, headers, body.replace(b"x", b"y"), now=now)
    assert not signing.verify(secret, {**headers, signing.ID_HEADER: "e2"}, body, now=now)
    assert not signing.verify(secret, {**headers, signing.TIMESTAMP_HEADER: str(int(now) + 1)},
                              body, now=now), "the timestamp is signed"
    assert not signing.verify(secret, headers, body, now=now + 301), "stale: replay refused"
    assert not signing.verify(secret, {}, body, now=now)


@pytest.mark.rule("patient_data_at_rest")
async def test_patient_data_is_absent_from_plaintext_columns_and_logs(database, tmp_path,
                                                                       caplog):
    caplog.set_level("INFO")
    agenda = await make_agenda(database)
    name = patient_name()
    token = plant(await create_token(database, "cabinet", "practitioner", COLLEAGUE))
    async with database.session() as session:
        slot = (await free_slots(session, COLLEAGUE, motif_id=agenda.motif_id, start=MONDAY,
                                 end=MONDAY + timedelta(days=1), now=datetime.now(UTC)))[0]
    patient = {**PATIENT, "name": [{"family": name, "given": ["Camille"], "prefix": ["Mme"]}]}
    status, booked = await _api_status(database, tmp_path, token, "POST", "/fhir/Appointment",
                                       appointment(slot_id(slot), patient))
    assert status == 201
    talk = Talk(database, Clock(), agenda, [])  # and a dialog left half-way
    await talk.start()
    for answer in ("1", "1", "1", "Mme", name):
        await talk.say(answer)
    async with database.engine.connect() as conn:
        tables = [r[0] for r in (await conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table'" if database.dialect == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname='public'"))).all()]
        for table in tables:
            for row in (await conn.execute(text(f'SELECT * FROM "{table}"'))).all():
                flat = repr(row)
                assert name not in flat and "33612345678" not in flat, table
    assert name not in caplog.text and "33612345678" not in caplog.text


# -- through the bot, on the real stack ------------------------------------------------------
BOT_UNVERIFIED = "réservés aux praticiens dont l'identité est vérifiée"


@pytest.mark.e2e
@pytest.mark.rule("referral-verified-only")
async def test_an_unverified_account_can_neither_refer_nor_read_an_agenda(stack):
    from tests.e2e.test_documents import onboarding

    client, dm = await onboarding(stack, "unvref")
    for command in ("!adresser 1", "!refer Karimo", "!agenda semaine", "!agenda flux"):
        answer = (await client.ask(dm, stack.bot_id, command)).body
        assert BOT_UNVERIFIED in answer, (command, answer)
    assert await stack.service.dialogs.active(client.user_id, dm) is None


@pytest.mark.e2e
@pytest.mark.rule("feed_token")
async def test_a_feed_url_is_refused_once_revoked_through_the_bot(stack):
    from tests.e2e.referral_flow import colleague_entry, link

    owner = await stack.practitioner("feedowner", verified=True)
    national_id = await colleague_entry(stack)
    await link(stack, owner, national_id)
    try:
        await _feed_urls_die(stack, owner)
    finally:
        await stack.free_national_id(national_id)  # others expect this entry not on Confrère


async def _feed_urls_die(stack, owner) -> None:
    dm = await owner.open_dm(stack.bot_id)
    first = (await owner.ask(dm, stack.bot_id, "!agenda flux")).body
    old_url = plant(first.split("\n")[1].strip())
    second = (await owner.ask(dm, stack.bot_id, "!agenda flux")).body
    new_url = plant(second.split("\n")[1].strip())
    async with aiohttp.ClientSession() as http:
        async with http.get(old_url) as response:
            assert response.status == 404, "a rotated URL is dead"
        async with http.get(new_url) as response:
            assert response.status == 200
        assert "révoquée" in (await owner.ask(dm, stack.bot_id, "!agenda flux revoquer")).body
        async with http.get(new_url) as response:
            assert response.status == 404, "a revoked URL is dead"


@pytest.mark.e2e
@pytest.mark.rule("document_type")
async def test_a_disguised_document_sent_to_the_bot_is_refused(stack):
    from tests.e2e.referral_flow import (
        SEARCH,
        agenda_of,
        colleague_entry,
        patient_answers,
        send_file,
    )
    from tests.documents.images import png

    await agenda_of(stack, await colleague_entry(stack))
    referrer = await stack.practitioner("disguise", verified=True)
    dm = await referrer.open_dm(stack.bot_id)
    for answer in (f"!adresser {SEARCH}", "1", "1",
                   *patient_answers(patient_name(), "p@example.org"), "aucun", "oui"):
        reply = (await referrer.ask(dm, stack.bot_id, answer)).body
    assert "Envoyez le document" in reply
    exe = b"MZ\x90\x00" + b"\x00" * 200
    assert "PDF, JPEG et PNG" in await send_file(referrer, stack, dm, exe, "bilan.pdf")
    # a real PNG under a .pdf name: the type comes from the bytes, so it is accepted
    assert "Document reçu" in await send_file(referrer, stack, dm, png("blue"), "radio.pdf")
    assert "annulée" in (await referrer.ask(dm, stack.bot_id, "annuler")).body
