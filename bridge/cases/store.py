"""Recording cases and listing them (ids, dates, people; never the patient)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.cases.models import Case
from bridge.cases.rooms import CaseRoom
from bridge.cases.teleexpertise import REQUESTED, URGENCIES
from bridge.storage.models import utcnow


def record(session: AsyncSession, room: CaseRoom, creator: str, *,
           specialist: str | None = None, urgency: str | None = None) -> Case:
    """Add the case row to the caller's transaction; téléexpertises start `demandee`."""
    tele = room.kind == "teleexpertise"
    if tele and urgency not in URGENCIES:
        raise ValueError("urgency must be one of " + ", ".join(URGENCIES))
    case = Case(case_id=room.case_id, kind=room.kind, room_id=room.room_id, creator=creator,
                created_at=utcnow(), specialist=specialist if tele else None,
                urgency=urgency if tele else None, state=REQUESTED if tele else None,
                state_changed_at=utcnow() if tele else None)
    session.add(case)
    return case


async def cases_of(session: AsyncSession, user_id: str, kind: str = "case") -> list[Case]:
    """Cases `user_id` created, or téléexpertises they sent or received; newest first."""
    who = or_(Case.creator == user_id, Case.specialist == user_id)
    rows = await session.execute(select(Case).where(Case.kind == kind, who)
                                 .order_by(Case.created_at.desc()))
    return list(rows.scalars())


async def by_room(session: AsyncSession, room_id: str) -> Case | None:
    return (await session.execute(select(Case).where(Case.room_id == room_id))).scalar_one_or_none()
