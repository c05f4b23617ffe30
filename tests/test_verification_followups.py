"""A decision's follow-ups (badge, messages) are retried until they succeed, not lost."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select, update

from bridge.accounts.models import Account
from bridge.verification.followups import FollowUpWorker, PendingFollowUp
from bridge.verification.service import VerificationService


class FlakyBadge:
    """Fails while "Synapse is down", then succeeds."""

    def __init__(self) -> None:
        self.down = True
        self.done: list[str] = []

    async def set_badge(self, decision) -> None:
        if self.down:
            raise ConnectionError("synapse down")
        self.done.append(f"{decision.user_id}:{decision.state}:{decision.national_id}")


async def _account(database, user_id: str) -> None:
    now = datetime.now(timezone.utc)
    async with database.session() as session, session.begin():
        session.add(Account(user_id=user_id, first_name="Léa", last_name="Roux",
                            email="lea@example.org", exercise_mode="liberal", terms_version="1",
                            terms_accepted_at=now, privacy_version="1", privacy_accepted_at=now,
                            verification_state="unverified"))


async def _pending(database) -> int:
    async with database.session() as session:
        return (await session.execute(select(func.count(PendingFollowUp.id)))).scalar()


async def test_failed_follow_up_is_retried_until_done(database):
    await _account(database, "@lea:localhost")
    verification = VerificationService(database)
    badge = FlakyBadge()
    verification.listen("test.badge", badge.set_badge)
    await verification.verify("@lea:localhost", "manual", "@admin:localhost",
                              national_id="810000100007")
    assert (await verification.account("@lea:localhost")).verification_state == "verified"
    assert await _pending(database) == 1 and badge.done == []

    worker = FollowUpWorker(verification)
    async with database.session() as session, session.begin():  # make it due now
        await session.execute(update(PendingFollowUp).values(due_at=datetime(2000, 1, 1,
                                                                             tzinfo=timezone.utc)))
    assert await worker.run_once() == 0  # still down: kept, attempts counted
    async with database.session() as session:
        row = (await session.execute(select(PendingFollowUp))).scalar_one()
    assert row.attempts == 2
    badge.down = False
    async with database.session() as session, session.begin():
        await session.execute(update(PendingFollowUp).values(due_at=datetime(2000, 1, 1,
                                                                             tzinfo=timezone.utc)))
    assert await worker.run_once() == 1
    assert badge.done == ["@lea:localhost:verified:810000100007"]
    assert await _pending(database) == 0


async def test_follow_ups_wait_for_their_time(database):
    await _account(database, "@lea:localhost")
    verification = VerificationService(database)
    badge = FlakyBadge()
    verification.listen("test.badge", badge.set_badge)
    await verification.revoke("@lea:localhost", "@admin:localhost", "test")
    badge.down = False
    assert await FollowUpWorker(verification).run_once() == 0, "not due yet (back-off)"
    assert await _pending(database) == 1


async def _make_due(database) -> None:
    async with database.session() as session, session.begin():
        await session.execute(update(PendingFollowUp).values(due_at=datetime(2000, 1, 1,
                                                                             tzinfo=timezone.utc)))


async def test_a_pending_follow_up_survives_a_rename_of_its_function(database):
    """Stored under the declared name, not the function's: the renamed code still runs it."""
    await _account(database, "@lea:localhost")
    verification = VerificationService(database)
    verification.listen("test.badge", FlakyBadge().set_badge)  # down
    await verification.revoke("@lea:localhost", "@admin:localhost", "test")
    async with database.session() as session:
        assert (await session.execute(select(PendingFollowUp.listener))).scalar_one() \
            == "test.badge"

    class Renamed:  # the next release: another class, another method name, same declaration
        done: list[str] = []

        async def put_display_name(self, decision) -> None:
            self.done.append(decision.state)

    restarted = VerificationService(database)
    renamed = Renamed()
    restarted.listen("test.badge", renamed.put_display_name)
    await _make_due(database)
    assert await FollowUpWorker(restarted).run_once() == 1
    assert renamed.done == ["revoked"] and await _pending(database) == 0


async def test_rows_written_under_a_former_qualname_still_run(database):
    await _account(database, "@lea:localhost")
    async with database.session() as session, session.begin():
        session.add(PendingFollowUp(listener="VerificationEffects.set_badge",
                                    user_id="@lea:localhost", state="verified", method="manual",
                                    actor="@admin:localhost"))
    verification = VerificationService(database)
    seen = []

    async def badge(decision) -> None:
        seen.append(decision.state)

    verification.listen("verification.badge", badge)
    await _make_due(database)
    assert await FollowUpWorker(verification).run_once() == 1 and seen == ["verified"]


async def test_two_listeners_cannot_share_a_name(database):
    verification = VerificationService(database)

    async def one(decision) -> None: ...

    async def other(decision) -> None: ...

    verification.listen("test.same", one)
    verification.listen("test.same", one)  # the same registration twice is harmless
    try:
        verification.listen("test.same", other)
    except ValueError:
        return
    raise AssertionError("a second listener under the same name was accepted")
