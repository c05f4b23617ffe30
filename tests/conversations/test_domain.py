"""Unit and storage tests of the guest, case and téléexpertise domain (both back-ends)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bridge.cases import teleexpertise as tx
from bridge.cases.ids import new_case_id
from bridge.cases.patient import InvalidPatient, PatientIdentity
from bridge.cases.rooms import CaseRoom
from bridge.cases.store import cases_of, record
from bridge.guests.invitations import MailContext, Outcome, email_guest, record_invitation
from bridge.guests.models import GuestContact, GuestPromotion
from bridge.guests.promotion import promote_guest
from bridge.guests.standins import with_guest_states
from bridge.mail.models import OutboxMail
from bridge.storage.models import utcnow

MAIL = MailContext("https://confrere.example", "w" * 32)


def test_case_ids_are_opaque_and_distinct():
    ids = {new_case_id() for _ in range(200)}
    assert len(ids) == 200 and all(i.startswith("C-") and len(i) == 10 for i in ids)
    assert new_case_id("teleexpertise").startswith("T-")


def test_patient_identity_validated_and_hidden_from_repr():
    patient = PatientIdentity.parse("mme", "Jeanne", "Dupont", "", "12/03/1961")
    assert patient.last_name == "DUPONT" and patient.birth_name == "DUPONT"
    assert patient.birth_date == date(1961, 3, 12)
    assert "Dupont".upper() not in repr(patient) and "1961" not in repr(patient)
    content = patient.message_content("C-ABCDEFGH")
    assert "DUPONT" in content["body"] and content["fr.confrere.patient"]["case_id"] == \
        "C-ABCDEFGH"
    for bad in (("Dr", "J", "D", "", "01/01/1960"), ("M.", "J3an", "D", "", "01/01/1960"),
                ("M.", "J", "D", "", "31/02/1960"), ("M.", "J", "D", "", "01/01/2999"),
                ("M.", "J", "D", "", "1960")):
        with pytest.raises(InvalidPatient):
            PatientIdentity.parse(*bad)


def test_teleexpertise_transitions():
    tx.check_transition(tx.REQUESTED, tx.ACCEPTED, "specialist")
    tx.check_transition(tx.ACCEPTED, tx.ANSWERED, "specialist")
    tx.check_transition(tx.ANSWERED, tx.CLOSED, "requester")
    tx.check_transition(tx.REQUESTED, tx.REFUSED, "specialist")
    for current, target, role in ((tx.REQUESTED, tx.ANSWERED, "specialist"),
                                  (tx.REQUESTED, tx.ACCEPTED, "requester"),
                                  (tx.REFUSED, tx.ACCEPTED, "specialist"),
                                  (tx.CLOSED, tx.REQUESTED, "requester"),
                                  (tx.ANSWERED, tx.CLOSED, "other")):
        with pytest.raises(tx.TransitionRefused) as refused:
            tx.check_transition(current, target, role)
        assert refused.value.fr and refused.value.en


async def test_teleexpertise_stored_and_moved(database):
    room = CaseRoom(new_case_id("teleexpertise"), "teleexpertise", "!t:localhost")
    async with database.session() as session, session.begin():
        record(session, room, "@req:localhost", specialist="@spec:localhost", urgency="48h")
    async with database.session() as session, session.begin():
        with pytest.raises(tx.TransitionRefused):
            await tx.move(session, room.case_id, "@req:localhost", tx.ACCEPTED)
    async with database.session() as session, session.begin():
        await tx.move(session, room.case_id, "@spec:localhost", tx.ACCEPTED)
    async with database.session() as session:
        [case] = await cases_of(session, "@spec:localhost", "teleexpertise")
        assert case.state == tx.ACCEPTED and case.urgency == "48h"


async def test_one_mail_per_guest_per_day_and_opt_out(database):
    guest = email_guest("Guest@Example.org", "Pat", "Person")
    now = utcnow()
    outcomes = []
    for room, when in (("!a:l", now), ("!b:l", now + timedelta(hours=3)),
                       ("!c:l", now + timedelta(hours=25))):
        async with database.session() as session, session.begin():
            stand_in, outcome = await record_invitation(
                session, guest, room, "@alice:l", "Dr Alice", MAIL, ghost_prefix="confrere_",
                server_name="l", now=when)
            outcomes.append((stand_in, outcome))
    assert [o for _, o in outcomes] == [Outcome.MAILED, Outcome.ALREADY_MAILED_TODAY,
                                        Outcome.MAILED]
    assert len({s for s, _ in outcomes}) == 1  # one stand-in per e-mail guest
    async with database.session() as session, session.begin():
        (await session.get(GuestContact, "guest@example.org")).opted_out_at = now
    async with database.session() as session, session.begin():
        _, outcome = await record_invitation(
            session, guest, "!d:l", "@alice:l", "Dr Alice", MAIL, ghost_prefix="confrere_",
            server_name="l", now=now + timedelta(days=3))
    assert outcome is Outcome.OPTED_OUT
    async with database.session() as session:
        count = (await session.execute(select(func.count()).select_from(OutboxMail))).scalar()
    assert count == 2


async def test_stand_in_states_and_idempotent_promotion(database):
    async def service_state(user_id: str) -> dict:
        return {"user_id": user_id, "verification": "ghost"}

    state_of = with_guest_states(service_state, database, "confrere_")
    made_up = "@confrere_invite-aaaaaaaaaaaa:l"
    assert (await state_of(made_up))["verification"] == "unknown"
    async with database.session() as session, session.begin():
        stand_in, _ = await record_invitation(
            session, email_guest("g@example.org", "G", "H"), "!a:l", "@alice:l", "Dr A", MAIL,
            ghost_prefix="confrere_", server_name="l")
    assert (await state_of(stand_in)) == {"user_id": stand_in, "verification": "ghost"}
    assert await promote_guest(database, "@g:l", email="g@example.org") == 1
    assert await promote_guest(database, "@g:l", email="G@example.org") == 0  # idempotent
    assert (await state_of(stand_in))["promoted_to"] == "@g:l"
    async with database.session() as session:
        jobs = (await session.execute(select(func.count()).select_from(GuestPromotion))).scalar()
    assert jobs == 1
