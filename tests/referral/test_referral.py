"""The referral transaction and its notices, on both back-ends: sealed patient details,
e-mail, SMS through a real local HTTP provider (down then up), signed webhooks, cancellation,
retention purge."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update

from bridge.agenda.models import AgendaProfile
from bridge.agenda.slots import PARIS, free_slots
from bridge.mail.models import OutboxMail
from bridge.referral import patient as fields
from bridge.referral.models import Referral
from bridge.referral.service import ReferralService
from bridge.sms.models import OutboxSms
from bridge.sms.outbox import SmsWorker
from bridge.sms.provider import HttpSmsProvider
from bridge.storage.sealing import SealedBox
from bridge.webhooks import signing
from bridge.webhooks.outbox import OutboxWebhook, WebhookWorker
from tests.referral.agenda_fixture import make_agenda
from tests.referral.receivers import Receiver, free_port
from tests.security.canaries import canary, plant

KEY = "clé-de-test-referral"
UTC = timezone.utc
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def patient_name() -> str:
    """A canary patient name that is also a valid name (letters only)."""
    return plant(canary("patient").translate(str.maketrans("0123456789", "abcdefghij")),
                 "patient")


def a_patient(last_name: str | None = None) -> fields.Patient:
    return fields.validate({
        "civility": "Mme", "first_name": "Camille", "last_name": last_name or "Durand",
        "birth_name": "", "birth_date": "12/03/1980", "born_in_france": "oui",
        "birth_place": "Lyon", "address": "12 rue des Lilas", "postal_code": "69003",
        "city": "Lyon", "mobile": "06 12 34 56 78", "email": "camille@example.fr",
        "already_patient": "non"}, date(2026, 6, 1))


async def first_slot(db, agenda):
    async with db.session() as session:
        return (await free_slots(session, agenda.national_id, motif_id=agenda.motif_id,
                                 start=datetime(2026, 6, 3, tzinfo=PARIS),
                                 end=datetime(2026, 6, 4, tzinfo=PARIS), now=NOW))[0]


async def with_webhook(db, national_id: str, url: str, secret: str) -> None:
    async with db.session() as session, session.begin():
        profile = await session.get(AgendaProfile, national_id)
        profile.webhook_url = url
        profile.webhook_secret_sealed = SealedBox(KEY, "webhook-secret").seal(secret.encode())


def test_field_validation_speaks_french():
    assert fields.mobile("06 12 34 56 78") == "+33612345678"
    assert fields.mobile("+33 6 98 76 54 32") == "+33698765432"
    for bad in ("01 23 45 67 89", "12345", "+44 7911 123456"):
        with pytest.raises(fields.FieldError, match="mobile français"):
            fields.mobile(bad)
    with pytest.raises(fields.FieldError, match="JJ/MM/AAAA"):
        fields.birth_date("31/02/1980", date(2026, 1, 1))
    with pytest.raises(fields.FieldError, match="plausible"):
        fields.birth_date("01/01/2030", date(2026, 1, 1))
    assert fields.postal_code("2A004") == "2A004" and fields.postal_code("97400") == "97400"
    with pytest.raises(fields.FieldError, match="Code postal"):
        fields.postal_code("00999")
    with pytest.raises(fields.FieldError, match="e-mail"):
        fields.email("camille@")
    with pytest.raises(fields.FieldError, match="manquant"):
        fields.validate({"civility": "Mme"}, date(2026, 1, 1))


async def test_a_referral_seals_the_patient_and_tells_everyone(database, caplog):
    caplog.set_level("INFO")
    agenda = await make_agenda(database)
    name = patient_name()
    receiver = Receiver(free_port())
    await receiver.start()
    await with_webhook(database, agenda.national_id, receiver.url, "secret-du-logiciel")
    service = ReferralService(database, KEY)
    slot = await first_slot(database, agenda)
    booked = await service.refer(slot, a_patient(name), referrer_id="@alice:localhost",
                                 message=f"Bilan pour {name}", source="api", now=NOW)
    async with database.session() as session:
        referral = await session.scalar(select(Referral))
        assert service.patient_of(referral).last_name == name
        mails = list(await session.scalars(select(OutboxMail)))
        sms = list(await session.scalars(select(OutboxSms).order_by(OutboxSms.id)))
    assert [m.kind for m in mails] == ["referral_booked"]
    assert name not in mails[0].body_text, "the e-mail does not name the patient"
    assert [s.kind for s in sms] == ["booked", "reminder"]
    assert sms[1].next_attempt_at.replace(tzinfo=UTC) == slot.starts_at - timedelta(hours=24)
    # No plaintext trace of the patient in any row of any table, nor in the logs.
    async with database.engine.connect() as conn:
        tables = [r[0] for r in (await conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table'" if database.dialect == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname='public'"))).all()]
        for table in tables:
            for row in (await conn.execute(text(f'SELECT * FROM "{table}"'))).all():
                assert name not in repr(row) and "+33612345678" not in repr(row), table
    assert name not in caplog.text
    # The webhook arrives signed and verifiable, once.
    worker = WebhookWorker(database, KEY)
    await worker.run_once()
    await worker.run_once()
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert signing.verify("secret-du-logiciel", headers, body)
    assert not signing.verify("autre-secret", headers, body)
    assert not signing.verify("secret-du-logiciel", headers, body + b" ")
    event = json.loads(body)
    assert event["type"] == "appointment.booked" and event["data"]["reference"] == \
        booked.reference and event["id"] == headers[signing.ID_HEADER]
    await receiver.stop()
    # Cancelling frees the slot, withdraws the reminder, tells the patient again.
    assert await service.cancel(booked.reference)
    assert not await service.cancel(booked.reference)
    async with database.session() as session:
        kinds = [(s.kind, s.cancelled_at is not None) for s in await session.scalars(
            select(OutboxSms).order_by(OutboxSms.id))]
        assert kinds == [("booked", False), ("reminder", True), ("cancelled", False)]
        assert (await session.scalar(select(OutboxWebhook).where(
            OutboxWebhook.kind == "appointment.cancelled"))) is not None
    assert await first_slot(database, agenda) == slot, "the slot is free again"


async def test_sms_survive_a_provider_outage_and_are_never_sent_twice(database):
    agenda = await make_agenda(database)
    service = ReferralService(database, KEY)
    await service.refer(await first_slot(database, agenda), a_patient(),
                        referrer_id="@alice:localhost", now=NOW)
    provider = Receiver(free_port())  # not started: the provider is down
    worker = SmsWorker(database, SealedBox(KEY, "sms"), HttpSmsProvider(provider.url, "t"))
    await worker.run_once()
    async with database.session() as session:
        row = await session.scalar(select(OutboxSms).where(OutboxSms.kind == "booked"))
        assert row.attempts == 1 and row.sent_at is None and row.last_error
    await provider.start()
    provider.status = 503  # up but failing: still retried
    async with database.session() as session, session.begin():
        await session.execute(update(OutboxSms).where(OutboxSms.kind == "booked")
                              .values(next_attempt_at=NOW))
    await worker.run_once()
    provider.status = 200
    async with database.session() as session, session.begin():
        await session.execute(update(OutboxSms).where(OutboxSms.kind == "booked")
                              .values(next_attempt_at=NOW))
    await worker.run_once()
    await worker.run_once()
    bodies = [json.loads(body) for _, body in provider.received]
    assert [b["to"] for b in bodies] == ["+33612345678"] * 2
    assert bodies[0]["id"] == bodies[1]["id"], "a retry carries the same id (dedup)"
    async with database.session() as session:
        sent = list(await session.scalars(select(OutboxSms).where(
            OutboxSms.sent_at.is_not(None))))
    assert [s.kind for s in sent] == ["booked"] and sent[0].sealed_payload == ""
    await provider.stop()


async def test_patient_details_are_purged_after_retention(database):
    agenda = await make_agenda(database)
    service = ReferralService(database, KEY, retention_days=30)
    slot = await first_slot(database, agenda)
    await service.refer(slot, a_patient(), referrer_id="@alice:localhost", now=NOW)
    assert await service.purge_due(slot.ends_at + timedelta(days=29)) == 0
    assert await service.purge_due(slot.ends_at + timedelta(days=31)) == 1
    async with database.session() as session:
        referral = await session.scalar(select(Referral))
    assert referral.sealed_details is None and service.patient_of(referral) is None
