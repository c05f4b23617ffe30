"""Small durable facts of the service itself (`service_values`), and the names of some.

Here, at the bottom, so that any layer (the bot's trust command, the identity checks, the
verification effects, the last search results) reads and writes the same rows without
importing the others.
"""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.database import Database
from bridge.storage.models import Base

ADMIN_ROOM_KEY = "admin_room_id"  # the encrypted room where administrators give `!admin`


class ServiceValue(Base):
    """Small durable facts of the service itself (e.g. the admin room id)."""

    __tablename__ = "service_values"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


async def get_value(database: Database, key: str) -> str | None:
    async with database.session() as session:
        row = await session.get(ServiceValue, key)
        return row.value if row else None


async def set_value(database: Database, key: str, value: str) -> None:
    async with database.session() as session, session.begin():
        row = await session.get(ServiceValue, key)
        if row is None:
            session.add(ServiceValue(key=key, value=value))
        else:
            row.value = value
