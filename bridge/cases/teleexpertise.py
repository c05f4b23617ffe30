"""Where a téléexpertise request stands: demandée → acceptée | refusée → répondue → close.

Only the specialist accepts, refuses and answers; only the requester closes (an answer
received, or a request nobody took). A refused request is over (the requester may ask someone
else). Stored with the case row (`cases.state`), never with clinical content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.cases.models import Case
from bridge.storage.models import utcnow

REQUESTED, ACCEPTED, REFUSED, ANSWERED, CLOSED = (
    "demandee", "acceptee", "refusee", "repondue", "close")
URGENCIES = ("standard", "48h", "urgent")
# (from, to) -> who may make the move
TRANSITIONS = {
    (REQUESTED, ACCEPTED): "specialist",
    (REQUESTED, REFUSED): "specialist",
    (ACCEPTED, ANSWERED): "specialist",
    (ANSWERED, CLOSED): "requester",
    (REQUESTED, CLOSED): "requester",
    (ACCEPTED, CLOSED): "requester",
}
LABELS_FR = {REQUESTED: "demandée", ACCEPTED: "acceptée", REFUSED: "refusée",
             ANSWERED: "répondue", CLOSED: "close"}


class TransitionRefused(ValueError):
    """A move the state machine does not allow; `fr`/`en` for the practitioner."""

    def __init__(self, fr: str, en: str) -> None:
        super().__init__(en)
        self.fr, self.en = fr, en


def check_transition(current: str, target: str, role: str) -> None:
    """Raise TransitionRefused unless `role` (requester | specialist) may go there."""
    allowed = TRANSITIONS.get((current, target))
    if allowed is None:
        raise TransitionRefused(
            f"Une téléexpertise {LABELS_FR.get(current, current)} ne peut pas devenir "
            f"{LABELS_FR.get(target, target)}.",
            f"A teleexpertise in state {current} cannot become {target}.")
    if allowed != role:
        who = "le spécialiste sollicité" if allowed == "specialist" else "le demandeur"
        raise TransitionRefused(f"Seul {who} peut faire ce changement.",
                                f"Only the {allowed} may make this change.")


async def move(session: AsyncSession, case_id: str, actor: str, target: str,
               *, now: datetime | None = None) -> Case:
    """Apply a transition in the caller's transaction (row locked on PostgreSQL)."""
    case = (await session.execute(select(Case).where(
        Case.case_id == case_id, Case.kind == "teleexpertise").with_for_update())).scalar_one()
    role = "specialist" if actor == case.specialist else \
        "requester" if actor == case.creator else "other"
    check_transition(case.state or REQUESTED, target, role)
    case.state, case.state_changed_at = target, now or utcnow()
    if target == CLOSED:
        case.closed_at = case.state_changed_at
    return case
