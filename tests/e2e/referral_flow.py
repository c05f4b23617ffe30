"""Shared steps of the referral end-to-end tests and bench: a colleague with an agenda and a
linked verified account, and a referring practitioner talking to the bot in their DM."""

from __future__ import annotations

from nio import RoomEncryptedFile
from sqlalchemy import update

from bridge.accounts.models import Account
from bridge.agenda.service import motifs_of, places_of
from tests.e2e.test_documents import send_image
from tests.referral.agenda_fixture import Agenda, make_agenda

SEARCH = "karimo"  # one practitioner of the bundled directory sample


async def colleague_entry(stack) -> str:
    found = await stack.service.directory.search(SEARCH, page_size=2)
    assert found.total == 1, found.total
    return found.results[0].national_id


async def agenda_of(stack, national_id: str) -> Agenda:
    """The colleague's agenda (one place, Mon–Fri 9–12, a 30-min motif), made once per stack."""
    db = stack.service.database
    places, motifs = await places_of(db, national_id), await motifs_of(db, national_id)
    if places and motifs:
        return Agenda(national_id, places[0].id, motifs[0].id)
    return await make_agenda(db, national_id)


async def link(stack, client, national_id: str) -> None:
    """The verified account `client` holds the directory entry `national_id`."""
    await stack.free_national_id(national_id)
    async with stack.service.database.session() as session, session.begin():
        await session.execute(update(Account).where(Account.user_id == client.user_id)
                              .values(national_id=national_id))


def keep_files(client) -> list:
    """Collect the encrypted files `client` receives: (room id, event)."""
    files: list = []

    async def on_file(room, event) -> None:
        files.append((room.room_id, event))

    client.client.add_event_callback(on_file, RoomEncryptedFile)
    return files


async def send_file(client, stack, room_id: str, data: bytes, name: str,
                    mimetype: str = "application/pdf") -> str:
    mark = len(client.messages)
    await send_image(client, room_id, data, name, mimetype=mimetype, msgtype="m.file")
    return (await client.next_message_from(stack.bot_id, room_id, mark, timeout=30)).body


def patient_answers(last_name: str, email: str) -> list[str]:
    return ["Mme", "Jeanne", last_name, "-", "12/05/1980", "oui", "Lyon", "3 rue du Parc",
            "69003", "Lyon", "06 12 34 56 78", email, "non"]
