"""Which directory entries are on Confrère: verified accounts linked to a national id."""

from __future__ import annotations

from sqlalchemy import select

from bridge.accounts.states import State
from bridge.accounts.models import Account
from bridge.storage.database import Database


async def verified_members(db: Database, national_ids: list[str]) -> dict[str, str]:
    """national id → Matrix user id, for the verified practitioners among `national_ids`."""
    if not national_ids:
        return {}
    async with db.session() as session:
        rows = (await session.execute(
            select(Account.national_id, Account.user_id).where(
                Account.national_id.in_(national_ids),
                Account.verification_state == State.VERIFIED,
            ))).all()
    return {national_id: user_id for national_id, user_id in rows}
