"""Identity rules that live in the database and in pure functions: the unique national id
(with its migration of existing duplicates), titles stripped from typed names, and which
directory entry a declared number may link to."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bridge.accounts.models import Account
from bridge.accounts.validation import strip_titles, validate_signup
from bridge.identity.directory_link import link_declared, national_id_of_declared
from bridge.storage.database import MIGRATIONS_DIR, Database
from bridge.verification.models import AuditEntry, VerificationRequest
from bridge.verification.service import NationalIdTaken, VerificationService
from tests.signup.client import valid_form


def _upgrade(target: str):
    def run(connection) -> None:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, target)
    return run


def account(n: int, national_id: str | None, state: str = "verified") -> Account:
    now = datetime.now(timezone.utc)
    return Account(user_id=f"@u{n}:localhost", first_name="Camille", last_name="Bernard",
                   email=f"u{n}@exemple.fr", exercise_mode="liberal", terms_version="t",
                   terms_accepted_at=now, privacy_version="p", privacy_accepted_at=now,
                   verification_state=state, national_id=national_id)


@pytest.mark.rule("national_id_one_account")
async def test_migration_keeps_the_first_holder_and_sends_duplicates_to_review(database_url):
    """Installations that ran with the hole may hold duplicates: the index cannot be created
    over them, so the later accounts lose the link and go back to an administrator."""
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_upgrade("0011"))
            for n in (1, 2, 3):
                await conn.execute(text(
                    "INSERT INTO accounts (user_id, first_name, last_name, email, exercise_mode,"
                    " terms_version, terms_accepted_at, privacy_version, privacy_accepted_at, "
                    "created_at, verification_state, national_id, welcome_pending) VALUES "
                    f"('@u{n}:localhost', 'C', 'B', 'u{n}@x.fr', 'liberal', 't', :now, 'p', "
                    ":now, :now, 'verified', :nid, false)"),
                    {"now": datetime.now(timezone.utc),
                     "nid": "810000100007" if n < 3 else "810000575141"})
        await db.migrate()
        async with db.session() as session:
            rows = {a.user_id: (a.national_id, a.verification_state) for a in
                    (await session.execute(select(Account))).scalars()}
            requests = (await session.execute(select(VerificationRequest))).scalars().all()
            audit = (await session.execute(select(AuditEntry))).scalars().all()
        assert rows == {"@u1:localhost": ("810000100007", "verified"),
                        "@u2:localhost": (None, "pending"),
                        "@u3:localhost": ("810000575141", "verified")}
        assert [(r.user_id, r.status) for r in requests] == [("@u2:localhost", "pending")]
        assert requests[0].evidence == {"duplicate_of": "810000100007"}
        assert [(a.user_id, a.action) for a in audit] == [("@u2:localhost", "duplicate")]
        with pytest.raises(IntegrityError):
            async with db.session() as session, session.begin():
                session.add(account(4, "810000100007"))
    finally:
        await db.close()


@pytest.mark.rule("national_id_one_account")
async def test_verify_refuses_an_identifier_another_account_holds(database):
    verification = VerificationService(database)
    decisions = []

    async def listener(decision) -> None:
        decisions.append(decision)
    verification.listen("test.listener", listener)
    async with database.session() as session, session.begin():
        session.add_all([account(1, "810000100007"), account(2, None, "pending")])
    with pytest.raises(NationalIdTaken) as taken:
        await verification.verify("@u2:localhost", "onfido", "onfido",
                                  national_id="810000100007")
    assert taken.value.holder == "@u1:localhost"
    assert "déjà lié" in taken.value.message_fr and "already linked" in taken.value.message_en
    assert (await verification.account("@u2:localhost")).verification_state == "pending"
    [conflict] = await verification.conflicts()
    assert conflict.evidence["holder"] == "@u1:localhost" and conflict.user_id == "@u2:localhost"
    assert [(d.state, d.user_id) for d in decisions] == [("conflict", "@u2:localhost")]
    assert "@u1" not in decisions[0].reason, "the holder is not named to the practitioner"
    # the holder itself may be verified again (e.g. after a revocation) with its own number
    await verification.verify("@u1:localhost", "psc", "psc", national_id="810000100007")


@pytest.mark.rule("onboarding_room_is_the_bots")
async def test_the_module_is_told_only_the_bots_own_conversation(database):
    verification = VerificationService(database)
    async with database.session() as session, session.begin():
        session.add(account(1, None, "revoked"))
    assert (await verification.state_for_rules("@u1:localhost"))["onboarding_rooms"] == []
    await verification.set_onboarding_room("@u1:localhost", "!own:localhost")
    state = await verification.state_for_rules("@u1:localhost")
    assert state["onboarding_rooms"] == ["!own:localhost"] and state["verification"] == "revoked"
    assert (await verification.state_for_rules("@nobody:localhost"))["onboarding_rooms"] == []


@pytest.mark.rule("titles_stripped")
@pytest.mark.parametrize("typed,kept", [
    ("Dr Camille", "Camille"), ("dr. camille", "camille"), ("Pr. Pr Jean", "Jean"),
    ("Docteur  Marie", "Marie"), ("PROFESSEUR Anne", "Anne"), ("Prof. Luc", "Luc"),
    ("DR.BERNARD", "BERNARD"), ("Drissa", "Drissa"), ("Prosper", "Prosper"),
    ("Docteur", ""), ("Dr", ""),
])
def test_titles_are_stripped_from_typed_names(typed, kept):
    assert strip_titles(typed) == kept


@pytest.mark.rule("titles_stripped")
def test_signup_form_keeps_no_title():
    result = validate_signup(valid_form(first_name="Dr Camille", last_name="Pr Bernard"))
    assert result.profile is not None
    assert (result.profile.first_name, result.profile.last_name) == ("Camille", "Bernard")
    only_title = validate_signup(valid_form(first_name="Docteur"))
    assert only_title.profile is None and "first_name" in only_title.errors


class FakeDirectory:
    """The national directory sample's Camille Bernard, as `DirectoryService.get` answers."""

    async def get(self, national_id: str):
        if national_id == "810000100007":
            return SimpleNamespace(national_id=national_id, first_name="Camille",
                                   last_name="BERNARD", retired=False)
        return None


@pytest.mark.rule("onfido_clear_needs_directory")
@pytest.mark.parametrize("first,last,declared,linked", [
    ("Camille", "Bernard", "10000100007", "810000100007"),
    ("Camille", "Bernard", None, None),
    ("Camille", "Bernard", "10001045367", None),  # valid number, not in the directory
    ("Paul", "Bernard", "10000100007", None),  # the entry is someone else's
    ("Camille", "Martin", "10000100007", None),
])
async def test_a_declared_number_links_only_an_entry_with_the_same_names(first, last, declared,
                                                                         linked):
    link = await link_declared(FakeDirectory(), SimpleNamespace(
        first_name=first, last_name=last, declared_identifier=declared))
    assert link.national_id == linked
    assert bool(link.reason_fr) == (linked is None) and bool(link.reason_en) == (linked is None)


@pytest.mark.rule("onfido_clear_needs_directory")
def test_declared_numbers_become_national_identifiers():
    assert national_id_of_declared("10000100007") == "810000100007"
    assert national_id_of_declared("751234567") == "0751234567"
    assert national_id_of_declared("123") is None and national_id_of_declared(None) is None
