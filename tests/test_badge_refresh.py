"""Every directory import re-links verified accounts and queues their badge (#16 item 2);
`!badge` does the same on request, `!verifier` points a bare name to it."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

from sqlalchemy import select

from bridge.accounts.models import Account
from bridge.directory.sample import SAMPLE_EXTRACT
from bridge.directory.service import DirectoryService
from bridge.features import build_router
from bridge.verification.effects import VerificationEffects
from bridge.verification.followups import PendingFollowUp
from bridge.verification.relink import BADGE_LISTENER, after_import
from bridge.verification.service import VerificationService

FAURE = "810000575141"  # Dr Emmanuel FAURE in the bundled sample


async def _verified(database, user_id, first, last, declared, national_id=None) -> None:
    now = datetime.now(timezone.utc)
    async with database.session() as session, session.begin():
        session.add(Account(user_id=user_id, first_name=first, last_name=last,
                            email=f"{user_id[1:5]}@example.org", exercise_mode="liberal",
                            terms_version="1", terms_accepted_at=now, privacy_version="1",
                            privacy_accepted_at=now, verification_state="verified",
                            declared_identifier=declared, national_id=national_id))


async def _queued(database) -> list[tuple[str, str, str | None]]:
    async with database.session() as session:
        rows = (await session.execute(select(PendingFollowUp))).scalars().all()
    return sorted((r.listener, r.user_id, r.national_id) for r in rows)


async def _national_id(database, user_id):
    async with database.session() as session:
        return await session.scalar(select(Account.national_id).where(Account.user_id == user_id))


def test_queued_rows_name_the_badge_effect():
    effects = VerificationEffects.__new__(VerificationEffects)  # only its listener table
    assert effects.listeners()[BADGE_LISTENER].__func__ is VerificationEffects.set_badge


async def test_import_links_verified_accounts_and_queues_badges(database, tmp_path):
    await _verified(database, "@faure:localhost", "Emmanuel", "Faure", FAURE[1:])
    await _verified(database, "@other:localhost", "Léa", "Roux", FAURE[1:])  # names differ
    directory = DirectoryService(tmp_path / "directory", database)
    await directory.import_extract(SAMPLE_EXTRACT, progress=False)  # runs after_import
    assert await _national_id(database, "@faure:localhost") == FAURE
    assert await _national_id(database, "@other:localhost") is None
    assert await _queued(database) == [(BADGE_LISTENER, "@faure:localhost", FAURE)]
    report = await after_import(database, directory)  # a second import: nothing doubled
    assert report.linked == 0 and report.refreshes == 0
    assert len(await _queued(database)) == 1


async def _ask(database, directory, sender: str, text: str) -> str:
    services = SimpleNamespace(database=database, directory=directory, extra={},
                               verification=VerificationService(database),
                               settings=SimpleNamespace(administrators=()))
    answers: list[str] = []

    async def reply(body: str, html: str | None = None) -> None:
        answers.append(body)

    await build_router(services).dispatch(sender, "!dm:localhost", text, reply)
    return answers[0]


async def test_badge_command_and_verifier_hint(database, tmp_path):
    directory = DirectoryService(tmp_path / "directory", database)
    await _verified(database, "@faure:localhost", "Emmanuel", "Faure", FAURE[1:])
    answer = await _ask(database, directory, "@faure:localhost", "!verifier")
    assert "déjà vérifiée" in answer and "!badge" in answer  # empty directory: bare name
    answer = await _ask(database, directory, "@faure:localhost", "!badge")
    assert "sans spécialité" in answer
    await directory.import_extract(SAMPLE_EXTRACT, progress=False)
    answer = await _ask(database, directory, "@faure:localhost", "!badge")
    assert "d'après l'annuaire national" in answer
    assert await _national_id(database, "@faure:localhost") == FAURE
    answer = await _ask(database, directory, "@faure:localhost", "!verifier")
    assert "déjà vérifiée" in answer and "!badge" not in answer
    assert "Le badge" in await _ask(database, directory, "@nobody:localhost", "!badge")
