"""What follows a decision is not lost when Synapse or the bot is briefly away.

A listener that fails (badge, message to the practitioner, module cache…) leaves a row here;
`FollowUpWorker` runs it again with back-off until it succeeds. The decision itself was
committed before any listener ran, so retrying only the effect is safe.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bridge.accounts.states import State
from bridge.background import PollingWorker, backoff
from bridge.storage.models import Base, utcnow
from bridge.verification.decision import Decision

if TYPE_CHECKING:
    from bridge.verification.service import VerificationService

log = logging.getLogger(__name__)

MAX_DELAY = timedelta(minutes=10)


class PendingFollowUp(Base):
    __tablename__ = "verification_followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    listener: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    actor: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    national_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# Rows written before listeners had declared names carry the function's __qualname__.
FORMER_NAMES = {
    "VerificationEffects.forget_cached_state": "verification.module-cache",
    "VerificationEffects.set_badge": "verification.badge",
    "VerificationEffects.tell_practitioner": "verification.tell-practitioner",
    "VerificationEffects.tell_administrators": "verification.tell-administrators",
    "DocumentChecks.on_decision": "identity.delete-documents",
}


def _delay(attempts: int) -> timedelta:
    return timedelta(seconds=backoff(attempts, MAX_DELAY.total_seconds(), first=10))


async def remember(verification: "VerificationService", name: str, decision: Decision) -> None:
    """Keep a failed follow-up under its listener's declared name, due after a back-off."""
    async with verification.db.session() as session, session.begin():
        session.add(PendingFollowUp(
            listener=name, user_id=decision.user_id, state=decision.state,
            method=decision.method, actor=decision.actor, reason=decision.reason,
            national_id=decision.national_id, due_at=utcnow() + _delay(1)))


class FollowUpWorker(PollingWorker):
    """Retries failed follow-ups of verification decisions, oldest first."""

    name = "verification-followups"
    poll_seconds = 5.0

    def __init__(self, verification: "VerificationService") -> None:
        super().__init__()
        self.verification = verification

    async def retry_now(self) -> None:
        """Make every pending follow-up due now (the bot has just started) and wake up."""
        async with self.verification.db.session() as session, session.begin():
            await session.execute(update(PendingFollowUp).values(due_at=utcnow()))
        self.poke()

    async def run_once(self) -> int:
        listeners = self.verification.listeners
        now = datetime.now(timezone.utc)
        done = 0
        async with self.verification.db.session() as session:
            due = (await session.execute(select(PendingFollowUp).order_by(PendingFollowUp.id)
                                         )).scalars().all()
            for row in due:
                due_at = row.due_at if row.due_at.tzinfo else row.due_at.replace(tzinfo=timezone.utc)
                listener = listeners.get(FORMER_NAMES.get(row.listener, row.listener))
                if due_at > now or listener is None:
                    continue
                decision = Decision(row.user_id, State(row.state), row.method, row.actor, row.reason,
                                    row.national_id)
                try:
                    await listener(decision)
                except Exception as exc:  # noqa: BLE001 - still away: try later
                    row.attempts += 1
                    row.due_at = now + _delay(row.attempts)
                    log.warning("follow-up %s still failing (%s), attempt %d", row.listener,
                                type(exc).__name__, row.attempts)
                else:
                    await session.delete(row)
                    done += 1
                await session.commit()
        return done
