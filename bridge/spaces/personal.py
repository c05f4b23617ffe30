"""Each practitioner's three spaces, and filing a room into the right one.

The bot creates the spaces (`m.room.create` `type: m.space`, encrypted and invite-only like
every room) with the practitioner as co-creator, so they can tidy them too; it files a room by
sending `m.space.child` in the space (Element then lists the room under that tab). The spaces'
ids are kept in `personal_spaces` so a restart never makes a second set."""

from __future__ import annotations

from datetime import datetime

from nio import AsyncClient, RoomPutStateResponse
from sqlalchemy import DateTime, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from bridge.cases.rooms import RoomBuildError, create_room
from bridge.storage.database import Database
from bridge.storage.models import Base, utcnow
from bridge.synapse_module.events import CASE_ROOM, MEGOLM, TELEEXPERTISE_ROOM

SPACES = {"discussions": "Discussions", "cases": "Cas patients",
          "teleexpertises": "Téléexpertises"}


class PersonalSpace(Base):
    __tablename__ = "personal_spaces"
    __table_args__ = (UniqueConstraint("user_id", "kind", name="uq_personal_space"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    room_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def kind_of(room_type: str | None) -> str:
    """Which tab a room belongs to, from its `m.room.create` type."""
    return {CASE_ROOM: "cases", TELEEXPERTISE_ROOM: "teleexpertises"}.get(room_type or "",
                                                                           "discussions")


async def ensure_spaces(database: Database, bot: AsyncClient, user_id: str) -> dict[str, str]:
    """The practitioner's spaces by kind, creating the missing ones (idempotent)."""
    async with database.session() as session:
        rows = (await session.execute(select(PersonalSpace).where(
            PersonalSpace.user_id == user_id))).scalars()
        spaces = {row.kind: row.room_id for row in rows}
    for kind, name in SPACES.items():
        if kind in spaces:
            continue
        room_id = await create_room(bot, {
            "name": name, "invite": [user_id], "preset": "private_chat",
            "creation_content": {"type": "m.space", "m.federate": False,
                                 "additional_creators": [user_id]},
            "initial_state": [{"type": "m.room.encryption", "state_key": "",
                               "content": {"algorithm": MEGOLM}}],
        })
        async with database.session() as session, session.begin():
            session.add(PersonalSpace(user_id=user_id, kind=kind, room_id=room_id))
        spaces[kind] = room_id
    return spaces


async def file_room(database: Database, bot: AsyncClient, user_id: str, room_id: str,
                    room_type: str | None, server_name: str) -> str:
    """Put `room_id` under the right space of `user_id`; returns the space's id."""
    space_id = (await ensure_spaces(database, bot, user_id))[kind_of(room_type)]
    answer = await bot.room_put_state(space_id, "m.space.child", {"via": [server_name]},
                                      state_key=room_id)
    if not isinstance(answer, RoomPutStateResponse):
        raise RoomBuildError(getattr(answer, "message", str(answer)))
    return space_id
