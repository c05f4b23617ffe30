"""Stand-in users for guests, and what the access rules are told about them.

- a directory guest: `@<ghost_prefix><national id>` (`bridge/directory/ghosts.py`);
- an e-mail guest (not in the directory): `@<ghost_prefix>invite-<random>`, made when the
  invitation is recorded; the rules know it as a guest ("ghost") only while a pending
  invitation names it, else "unknown" — so nobody can invite a made-up stand-in.

`with_guest_states(state_of, database, ...)` wraps the service's state look-up for the
module (`InternalAPI`): the lead wires it in `ConfrereService.start_http`. While a promotion
runs, a stand-in's state carries `promoted_to`: the one account it may invite (handing its
seat over); the module allows a stand-in no other invitation.
"""

from __future__ import annotations

import secrets
from typing import Awaitable, Callable

from sqlalchemy import select

from bridge.guests.models import GuestInvitation, GuestPromotion
from bridge.storage.database import Database

EMAIL_STANDIN = "invite-"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"

StateOf = Callable[[str], Awaitable[dict]]


def email_stand_in(ghost_prefix: str, server_name: str) -> str:
    """A fresh stand-in id for an e-mail guest (60 random bits)."""
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"@{ghost_prefix}{EMAIL_STANDIN}{tail}:{server_name}"


def is_email_stand_in(ghost_prefix: str, user_id: str) -> bool:
    return user_id.startswith(f"@{ghost_prefix}{EMAIL_STANDIN}")


def with_guest_states(state_of: StateOf, database: Database, ghost_prefix: str) -> StateOf:
    """The service's look-up, completed for stand-ins (see module docstring)."""

    async def state(user_id: str) -> dict:
        if not user_id.startswith(f"@{ghost_prefix}"):
            return await state_of(user_id)
        async with database.session() as session:
            invitation = (await session.execute(select(GuestInvitation).where(
                GuestInvitation.stand_in == user_id).limit(1))).scalar_one_or_none()
            promotion = None
            if invitation is not None:
                promotion = (await session.execute(select(GuestPromotion).where(
                    GuestPromotion.guest_key == invitation.guest_key,
                    GuestPromotion.done_at.is_(None)).limit(1))).scalar_one_or_none()
        if is_email_stand_in(ghost_prefix, user_id):
            answer = {"user_id": user_id,
                      "verification": "ghost" if invitation is not None else "unknown"}
        else:
            answer = await state_of(user_id)
        if promotion is not None:
            answer["promoted_to"] = promotion.user_id
        return answer

    return state
