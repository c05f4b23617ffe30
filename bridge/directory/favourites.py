"""Favourite correspondents, kept per practitioner (Matrix user id)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bridge.storage.database import Database

from .models import Favourite


async def add_favourite(database: Database, user_id: str, national_id: str) -> bool:
    """Add `national_id` to the user's favourites; False when it was already there."""
    async with database.session() as session:
        exists = await session.get(Favourite, (user_id, national_id))
        if exists is not None:
            return False
        session.add(Favourite(user_id=user_id, national_id=national_id))
        try:
            await session.commit()
        except IntegrityError:  # added concurrently: same outcome
            await session.rollback()
            return False
        return True


async def remove_favourite(database: Database, user_id: str, national_id: str) -> bool:
    """Remove it; False when it was not a favourite."""
    async with database.session() as session:
        result = await session.execute(
            delete(Favourite).where(
                Favourite.user_id == user_id, Favourite.national_id == national_id
            )
        )
        await session.commit()
        return bool(result.rowcount)


async def list_favourites(database: Database, user_id: str) -> list[str]:
    """National ids of the user's favourites, oldest first."""
    async with database.session() as session:
        rows = await session.scalars(
            select(Favourite.national_id)
            .where(Favourite.user_id == user_id)
            .order_by(Favourite.added_at, Favourite.national_id)
        )
        return list(rows)
