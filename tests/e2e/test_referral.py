"""A referral end to end on a real Synapse, through the bot's encrypted DM: directory search,
`!adresser 1`, every answer (one PDF as an encrypted attachment), a restart of the service in
the middle, `confirmer`; then the colleague's message with the document, the patient's e-mail
and SMS in the development sinks, the colleague's iCalendar feed and a signed webhook.
And `annuler` releases the slot held while the details are typed."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
import pytest
from nio.crypto.attachments import decrypt_attachment

from bridge.agenda.slots import free_slots
from bridge.storage.models import utcnow
from bridge.webhooks import signing
from bridge.webhooks.outbox import configure_webhook
from tests.e2e.harness import wait
from tests.e2e.referral_flow import (
    SEARCH,
    agenda_of,
    colleague_entry,
    keep_files,
    link,
    patient_answers,
    send_file,
)
from tests.referral.receivers import Receiver, free_port
from tests.referral.test_referral import patient_name

pytestmark = pytest.mark.e2e

PDF = (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"% lettre\n" * 200
       + b"trailer << /Root 1 0 R >>\n%%EOF\n")


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def first_free(stack, agenda):
    async with stack.service.database.session() as session:
        found = await free_slots(session, agenda.national_id, motif_id=agenda.motif_id,
                                 place_id=agenda.place_id, start=utcnow(),
                                 end=utcnow() + timedelta(days=60), now=utcnow())
    return found[0]


async def test_a_full_referral_between_two_verified_practitioners(stack):
    national_id = await colleague_entry(stack)
    colleague = await stack.practitioner("colref", verified=True)
    await link(stack, colleague, national_id)
    colleague_dm = await stack.onboarding_dm(colleague)
    files = keep_files(colleague)
    agenda = await agenda_of(stack, national_id)
    receiver = Receiver(free_port())
    await receiver.start()
    secret = await configure_webhook(stack.service.database, stack.settings.secrets.sealing_key,
                                     national_id, receiver.url)
    try:
        referrer = await stack.practitioner("referrer", verified=True)
        dm = await referrer.open_dm(stack.bot_id)
        bot = stack.bot_id
        assert SEARCH.upper() in (await referrer.ask(dm, bot, f"!annuaire {SEARCH}")).body
        assert "Quel motif" in (await referrer.ask(dm, bot, "!adresser 1")).body
        assert "Prochains créneaux libres" in (await referrer.ask(dm, bot, "1")).body
        assert "civilité" in (await referrer.ask(dm, bot, "1")).body
        last_name, email = patient_name(), f"patient.{utcnow():%H%M%S%f}@example.org"
        answers = patient_answers(last_name, email)
        for answer in answers[:3]:
            await referrer.ask(dm, bot, answer)
        await stack.restart_service()  # the dialog is durable: it goes on where it was
        for answer in answers[3:]:
            reply = await referrer.ask(dm, bot, answer, timeout=40)
            assert "annuler pour abandonner" not in reply.body, (answer, reply.body)
        assert "message pour votre confrère" in reply.body
        assert "documents" in (await referrer.ask(dm, bot, "Merci de le recevoir.")).body
        assert "Envoyez le document" in (await referrer.ask(dm, bot, "oui")).body
        assert "Document reçu" in await send_file(referrer, stack, dm, PDF, "courrier.pdf")
        summary = (await referrer.ask(dm, bot, "non")).body
        assert "Récapitulatif" in summary and "Documents : 1" in summary
        done = (await referrer.ask(dm, bot, "confirmer", timeout=40)).body
        assert "Rendez-vous réservé" in done, done
        reference = re.search(r"réf\. ([0-9a-f]+)", done).group(1)

        # the colleague: the bot's message, then the document, decrypted by their client
        told = await colleague.next_message_from(bot, colleague_dm, 0, timeout=30)
        mark = colleague.messages.index((colleague_dm, told))
        while "Nouveau rendez-vous" not in told.body:
            mark += 1
            told = await colleague.next_message_from(bot, colleague_dm, mark, timeout=30)
        assert last_name in told.body and "Merci de le recevoir." in told.body
        await colleague.wait_for(lambda: any(room == colleague_dm for room, _ in files), 30,
                                 "the forwarded document")
        event = next(e for room, e in files if room == colleague_dm)
        download = await colleague.client.download(event.url)
        assert decrypt_attachment(download.body, event.key["k"], event.hashes["sha256"],
                                  event.iv) == PDF

        # the patient: e-mail in the catcher, SMS in the dev sink (no name in the SMS)
        mails = await stack.service.mail.catcher.wait_for(email, timeout=30)
        assert "rendez-vous" in mails[0].subject.casefold()
        sms_url = f"{stack.settings.service.url}/_dev/sms.json"

        async def sms_arrived() -> bool:
            status, body = await _get(sms_url)
            return status == 200 and reference in body
        assert await wait(sms_arrived, 30), "no SMS in /_dev/sms"
        assert last_name not in (await _get(sms_url))[1]

        # the colleague's agenda and private feed
        week = (await colleague.ask(colleague_dm, bot, "!agenda semaine")).body
        assert last_name in week or "Aucun" not in week
        feed_reply = (await colleague.ask(colleague_dm, bot, "!agenda flux")).body
        assert "secret" in feed_reply
        url = re.search(r"(https?://\S+\.ics)", feed_reply).group(1)
        status, calendar = await _get(url)
        assert status == 200 and "BEGIN:VEVENT" in calendar and last_name not in calendar

        # the practice software: a signed webhook
        assert await wait(lambda: _true(receiver.received), 30), "no webhook"
        headers, body = receiver.received[0]
        assert signing.verify(secret, headers, body)
        assert reference.encode() in body
    finally:
        await receiver.stop()
        await configure_webhook(stack.service.database, stack.settings.secrets.sealing_key,
                                national_id, None)
        await stack.free_national_id(national_id)  # others expect this entry not on Confrère


async def _true(value) -> bool:
    return bool(value)


async def test_a_favourite_is_referred_by_number_and_annuler_releases_the_held_slot(stack):
    national_id = await colleague_entry(stack)
    agenda = await agenda_of(stack, national_id)
    referrer = await stack.practitioner("holder", verified=True)
    dm = await referrer.open_dm(stack.bot_id)
    bot = stack.bot_id
    before = await first_free(stack, agenda)
    await referrer.ask(dm, bot, f"!annuaire {SEARCH}")
    await referrer.ask(dm, bot, "!favori 1")
    assert SEARCH.upper() in (await referrer.ask(dm, bot, "!favoris")).body
    assert "Quel motif" in (await referrer.ask(dm, bot, "!adresser 1")).body  # favourite 1
    await referrer.ask(dm, bot, "1")
    assert "civilité" in (await referrer.ask(dm, bot, "1")).body
    assert (await first_free(stack, agenda)).starts_at != before.starts_at, "the slot is held"
    assert "annulée" in (await referrer.ask(dm, bot, "annuler")).body
    assert (await first_free(stack, agenda)).starts_at == before.starts_at, "released"


async def test_a_practitioner_declares_an_agenda_by_command_and_is_addressed(stack):
    from tests.e2e.referral_flow import link

    found = await stack.service.directory.search("ruytoor", page_size=2)
    assert found.total == 1
    national_id = found.results[0].national_id
    owner = await stack.practitioner("agendaowner", verified=True)
    await link(stack, owner, national_id)
    bot = stack.bot_id
    try:
        dm = await owner.open_dm(bot)
        refused = (await owner.ask(dm, bot, "!agenda horaires lun-ven 09:00-12:00")).body
        assert "d'abord votre lieu" in refused
        assert "Code postal" in (await owner.ask(dm, bot, "!agenda lieu Cabinet; 1 rue A; "
                                                           "123; Lille")).body
        declared = await owner.ask(dm, bot, "!agenda lieu Cabinet Vauban; 1 rue Solférino; "
                                            "59000; Lille")
        assert "Lieu enregistré" in declared.body
        assert "Jours" in (await owner.ask(dm, bot, "!agenda horaires ven-lun 09:00-12:00")).body
        assert "du lundi au samedi" in (await owner.ask(
            dm, bot, "!agenda horaires lun-sam 08:30-18:00")).body
        assert "Motif enregistré" in (await owner.ask(dm, bot, "!agenda motif Bilan; 45")).body
        referrer = await stack.practitioner("toruytoor", verified=True)
        rdm = await referrer.open_dm(bot)
        assert "Quel motif ?\n1. Bilan (45 min)" in (await referrer.ask(
            rdm, bot, "!adresser ruytoor")).body
        assert "Prochains créneaux libres" in (await referrer.ask(rdm, bot, "1")).body
        assert "annulée" in (await referrer.ask(rdm, bot, "annuler")).body
    finally:
        await stack.free_national_id(national_id)
