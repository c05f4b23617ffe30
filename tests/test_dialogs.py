"""The durable dialog engine on both back-ends: steps, refusals, annuler, retour, restart,
expiry, sealing at rest."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from bridge.dialogs import Answer, Dialog, DialogContext, DialogEngine, GoTo, Invalid, Step
from bridge.storage.sealing import SealedBox
from tests.security.canaries import canary

USER, ROOM = "@camille:localhost", "!dm:localhost"


def _name(answer: Answer, context: DialogContext) -> str:
    value = (answer.text or "").strip()
    if len(value) < 2:
        raise Invalid("Le nom doit compter au moins deux lettres.")
    return value


def _birth(answer: Answer, context: DialogContext) -> str:
    try:
        day, month, year = (int(x) for x in (answer.text or "").split("/"))
        return date(year, month, day).isoformat()
    except ValueError:
        raise Invalid("Date invalide : écrivez-la JJ/MM/AAAA.") from None


def _yes_no(answer: Answer, context: DialogContext) -> bool:
    word = (answer.text or "").strip().casefold()
    if word not in ("oui", "non"):
        raise Invalid("Répondez oui ou non.")
    return word == "oui"


finished: list[dict] = []
released: list[str] = []


async def _finish(context: DialogContext):
    if context.data["name"] == "Complet":
        raise GoTo("name", "Ce nom n'est plus disponible : choisissez-en un autre.")
    finished.append(dict(context.data))
    return f"Enregistré : {context.data['name']}."


async def _release(context: DialogContext) -> None:
    released.append(context.data.get("name", "?"))


DEMO = Dialog(
    name="demo", title="Démonstration", finish=_finish, on_cancel=_release,
    expires_after=timedelta(minutes=30),
    steps=(
        Step("name", "Quel est le nom ?", _name),
        Step("birth", "Date de naissance (JJ/MM/AAAA) ?", _birth),
        Step("in_france", "Né(e) en France ?", _yes_no,
             next=lambda c: "city" if c.data["in_france"] else "country"),
        Step("city", lambda c: f"Ville de naissance de {c.data['name']} ?", _name,
             next=lambda c: "__finish__"),
        Step("country", "Pays de naissance ?", _name),
    ),
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


class Conversation:
    def __init__(self, engine: DialogEngine) -> None:
        self.engine = engine
        self.replies: list[str] = []

    async def reply(self, text: str, html: str | None = None) -> None:
        self.replies.append(text)

    async def say(self, text: str) -> str:
        consumed = await self.engine.handle(USER, ROOM, Answer(text=text), self.reply)
        assert consumed
        return self.replies[-1]


def _engine(database, clock) -> DialogEngine:
    engine = DialogEngine(database, SealedBox("clé-de-test", "dialogs"), clock=clock)
    engine.declare(DEMO)
    return engine


@pytest.fixture
def clock():
    finished.clear()
    released.clear()
    return Clock()


async def test_a_dialog_runs_its_steps_refuses_bad_answers_and_branches(database, clock):
    talk = Conversation(_engine(database, clock))
    assert await talk.engine.start("demo", USER, ROOM, talk.reply)
    assert talk.replies[-1] == "Quel est le nom ?"
    assert "au moins deux lettres" in await talk.say("x")
    assert "Date de naissance" in await talk.say("Durand")
    assert "JJ/MM/AAAA" in await talk.say("31/02/1980"), "an impossible date is refused"
    assert "Né(e) en France" in await talk.say("12/03/1980")
    assert await talk.say("oui") == "Ville de naissance de Durand ?"
    assert await talk.say("Lille") == "Enregistré : Durand."
    assert finished == [{"name": "Durand", "birth": "1980-03-12", "in_france": True,
                         "city": "Lille"}]
    assert await talk.engine.active(USER, ROOM) is None
    assert not await talk.engine.handle(USER, ROOM, Answer(text="encore"), talk.reply)


async def test_retour_goes_back_and_annuler_drops_everything(database, clock):
    talk = Conversation(_engine(database, clock))
    await talk.engine.start("demo", USER, ROOM, talk.reply)
    assert "première question" in await talk.say("retour") or \
        "première question" in talk.replies[-2]
    await talk.say("Durand")
    await talk.say("12/03/1980")
    assert await talk.say("retour") == "Date de naissance (JJ/MM/AAAA) ?"
    await talk.say("13/03/1980")
    assert await talk.say("non") == "Pays de naissance ?"
    assert "annulée" in await talk.say("!annuler")
    assert released == ["Durand"], "on_cancel releases what the dialog held"
    assert await talk.engine.active(USER, ROOM) is None
    assert finished == []


async def test_a_restarted_service_carries_on_where_the_practitioner_was(database, clock):
    first = Conversation(_engine(database, clock))
    await first.engine.start("demo", USER, ROOM, first.reply)
    await first.say("Durand")
    await first.say("12/03/1980")
    restarted = Conversation(_engine(database, clock))  # a new process on the same database
    assert await restarted.engine.active(USER, ROOM) == "demo"
    assert await restarted.say("non") == "Pays de naissance ?"
    assert await restarted.say("Belgique") == "Enregistré : Durand."
    assert finished[-1]["country"] == "Belgique" and finished[-1]["birth"] == "1980-03-12"


async def test_answers_are_sealed_at_rest(database, clock):
    patient = canary("patient")
    talk = Conversation(_engine(database, clock))
    await talk.engine.start("demo", USER, ROOM, talk.reply)
    await talk.say(patient)
    async with database.session() as session:
        stored = (await session.execute(text("SELECT sealed_data FROM dialog_sessions"))).scalar()
    assert patient not in stored
    other_key = DialogEngine(database, SealedBox("autre-clé", "dialogs"), clock=clock)
    other_key.declare(DEMO)
    lost = Conversation(other_key)
    assert "n'ai pas pu relire" in await lost.say("12/03/1980"), "a foreign key opens nothing"


async def test_an_abandoned_dialog_expires_with_a_message(database, clock):
    talk = Conversation(_engine(database, clock))
    await talk.engine.start("demo", USER, ROOM, talk.reply)
    await talk.say("Durand")
    told: list[tuple[str, str]] = []

    async def notify(room_id: str, message: str) -> None:
        told.append((room_id, message))

    assert await talk.engine.expire_due(notify) == 0
    clock.now += timedelta(minutes=31)
    assert await talk.engine.active(USER, ROOM) is None
    assert not await talk.engine.handle(USER, ROOM, Answer(text="12/03/1980"), talk.reply)
    assert await talk.engine.expire_due(notify) == 1
    assert told and told[0][0] == ROOM and "faute de réponse" in told[0][1]
    assert released == ["Durand"]


async def test_one_dialog_at_a_time_and_the_right_kind_of_answer(database, clock):
    talk = Conversation(_engine(database, clock))
    assert await talk.engine.start("demo", USER, ROOM, talk.reply)
    assert not await talk.engine.start("demo", USER, ROOM, talk.reply)
    assert "déjà en cours" in talk.replies[-1]
    await talk.engine.handle(USER, ROOM, Answer(attachment=object()), talk.reply)
    assert "réponse écrite" in talk.replies[-1]
    assert await talk.say("Complet") == "Date de naissance (JJ/MM/AAAA) ?"
    await talk.say("12/03/1980")
    await talk.say("oui")
    assert await talk.say("Lille") == "Quel est le nom ?", "finish sent us back to a step"
    assert "plus disponible" in talk.replies[-2]
    await talk.say("Martin")
    assert await talk.say("12/03/1980") == "Né(e) en France ?", "later answers asked again"
