"""The booking dialog declaration driven through `DialogEngine` directly (no bot), on both
back-ends: full run, paging, retour, annuler releases the hold, a slot taken meanwhile,
a restart mid-way, refused documents."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bridge.agenda import booking
from bridge.agenda.models import AgendaBooking
from bridge.dialogs import Answer, DialogEngine
from bridge.referral.dialog import REFERRAL_DIALOG, ReferralDialogServices
from bridge.referral.models import Referral
from bridge.referral.service import ReferralService
from bridge.storage.sealing import SealedBox
from tests.referral.agenda_fixture import make_agenda
from tests.referral.test_referral import KEY, patient_name

USER, ROOM = "@alice:localhost", "!dm:localhost"
PDF = b"%PDF-1.7\n" + b"x" * 1000
UTC = timezone.utc


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Talk:
    def __init__(self, database, clock, agenda, notified: list) -> None:
        async def find(text, context):
            return {"national_id": agenda.national_id, "name": "Dr Martin"} \
                if text in ("1", "Martin") else None

        async def read(attachment, cap):
            return attachment["bytes"], attachment["name"], {"url": "mxc://x/" + attachment["name"]}

        async def notify(context, booked, data):
            notified.append((booked.reference, data["last_name"], len(data.get("documents", []))))

        services = SimpleNamespace(referral=ReferralDialogServices(
            db=database, referrals=ReferralService(database, KEY), find_colleague=find,
            read_attachment=read, notify_colleague=notify, max_document_bytes=5000,
            clock=clock))
        self.engine = DialogEngine(database, SealedBox(KEY, "dialogs"), services, clock=clock)
        self.engine.declare(REFERRAL_DIALOG)
        self.replies: list[str] = []

    async def reply(self, text, html=None):
        self.replies.append(text)

    async def start(self) -> str:
        assert await self.engine.start("referral", USER, ROOM, self.reply)
        return self.replies[-1]

    async def say(self, text=None, attachment=None) -> str:
        assert await self.engine.handle(USER, ROOM, Answer(text=text, attachment=attachment),
                                        self.reply)
        return self.replies[-1]


PATIENT_ANSWERS = ["Mme", "Camille", None, "-", "12/03/1980", "oui", "Lyon", "12 rue des Lilas",
                   "69003", "Lyon", "06 12 34 56 78", "camille@example.fr", "non"]


async def fill_patient(talk: Talk, last_name: str) -> str:
    for answer in PATIENT_ANSWERS:
        reply = await talk.say(answer or last_name)
    return reply


async def holds(database) -> list[AgendaBooking]:
    async with database.session() as session:
        return list(await session.scalars(select(AgendaBooking).where(
            AgendaBooking.active_slot.is_not(None))))


@pytest.fixture
def clock():
    return Clock()


async def test_a_full_referral_with_paging_and_a_document(database, clock):
    agenda = await make_agenda(database)
    notified: list = []
    talk = Talk(database, clock, agenda, notified)
    assert "quel confrère" in (await talk.start())
    assert "ne trouve pas" in await talk.say("Dupont")
    assert "Quel motif" in await talk.say("Martin")  # one place: no place question
    first = await talk.say("1")
    assert "1. lundi 01/06 à 10:30" in first, "starts after now (10:00 Paris), 30-min slots"
    assert "1. mardi 02/06 à 10:00" in await talk.say("plus")
    jump = await talk.say("autre date 15/06")
    assert "1. lundi 15/06 à 09:00" in jump
    assert "civilité" in await talk.say("2")
    [held] = await holds(database)
    assert held.kind == "hold"
    name = patient_name()
    assert "Mme ou M." in await talk.say("x"), "a refused answer keeps the step"
    assert "message" in await fill_patient(talk, name)
    assert "Joindre" in await talk.say("Merci de le recevoir")
    assert "Envoyez" in await talk.say("oui")
    assert "J'attends un fichier" in await talk.say("fin")
    disguised = {"bytes": b"MZ\x90\x00" + b"x" * 100, "name": "bilan.pdf"}
    assert "PDF, JPEG et PNG" in await talk.say(attachment=disguised)
    assert "trop lourd" in await talk.say(attachment={"bytes": PDF * 10, "name": "gros.pdf"})
    assert "Un autre" in await talk.say(attachment={"bytes": PDF, "name": "bilan.pdf"})
    summary = await talk.say("non")
    assert "Récapitulatif" in summary and "lundi 15/06 à 09:30" in summary and name in summary
    assert "Tapez confirmer" in await talk.say("ok")
    done = await talk.say("confirmer")
    assert "Rendez-vous réservé : lundi 15/06 à 09:30" in done
    assert notified and notified[0][1:] == (name, 1)
    [booked] = await holds(database)
    assert booked.kind == "booking" and booked.id == held.id, "the hold became the booking"
    async with database.session() as session:
        referral = await session.scalar(select(Referral))
    assert name not in (referral.sealed_details or "")


async def test_annuler_releases_the_hold_and_retour_goes_back(database, clock):
    agenda = await make_agenda(database)
    talk = Talk(database, clock, agenda, [])
    await talk.start()
    await talk.say("1")
    await talk.say("1")
    await talk.say("1")
    assert len(await holds(database)) == 1
    assert "Prochains créneaux" in await talk.say("retour")
    assert "civilité" in await talk.say("2")
    assert len(await holds(database)) == 1, "choosing again replaced the hold"
    assert "annulée" in await talk.say("annuler")
    assert await holds(database) == []


async def test_a_slot_taken_meanwhile_sends_back_to_the_slots(database, clock):
    agenda = await make_agenda(database)
    talk = Talk(database, clock, agenda, [])
    await talk.start()
    await talk.say("1")
    offer = await talk.say("1")
    assert "1. lundi 01/06 à 10:30" in offer
    await talk.say("1")
    await fill_patient(talk, "Durand")
    await talk.say("aucun")
    await talk.say("non")
    clock.now += timedelta(minutes=11)  # the hold expired while typing…
    [held] = await holds(database)
    slot = booking.Slot(held.starts_at.replace(tzinfo=UTC), held.ends_at.replace(tzinfo=UTC),
                        held.national_id, held.place_id, held.motif_id)
    await booking.book(database, slot, source="api", now=clock.now)  # …and someone booked it
    reply = await talk.say("confirmer")
    assert "pris entre-temps" in talk.replies[-2]
    assert "lundi 01/06 à 10:30" not in reply and "1. lundi 01/06 à 11:00" in reply
    assert "civilité" in await talk.say("1")


async def test_a_restart_carries_on_with_the_hold(database, clock):
    agenda = await make_agenda(database)
    talk = Talk(database, clock, agenda, [])
    await talk.start()
    await talk.say("1")
    await talk.say("1")
    await talk.say("1")
    await talk.say("Mme")
    restarted = Talk(database, clock, agenda, [])  # a new process, same database
    assert await restarted.say("Camille") == "Nom ?"
    await restarted.say("Durand")
    for answer in PATIENT_ANSWERS[3:]:
        await restarted.say(answer)
    await restarted.say("aucun")
    await restarted.say("non")
    assert "Rendez-vous réservé" in await restarted.say("confirmer")


async def test_an_abandoned_dialog_expires_and_releases_its_hold(database, clock):
    agenda = await make_agenda(database)
    talk = Talk(database, clock, agenda, [])
    await talk.start()
    for answer in ("1", "1", "1", "Mme"):
        await talk.say(answer)
    assert len(await holds(database)) == 1
    told: list[str] = []

    async def notify(room_id, text):
        told.append(text)

    clock.now += timedelta(minutes=31)
    assert await talk.engine.expire_due(notify) == 1
    assert await holds(database) == [] and "interrompue" in told[0]
