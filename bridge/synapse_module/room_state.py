"""Small readings of a room's current state the module's rules need (pure, no Synapse)."""

from __future__ import annotations

from typing import Any

from bridge.synapse_module.events import MAX_LEVEL
from bridge.synapse_module.refusals import RETENTION_ADMIN_ONLY, Refusal

POWER_LEVELS = ("m.room.power_levels", "")
CREATE = ("m.room.create", "")


def creating(sender: str, state: Any) -> bool:
    """True for the events of a room its creator is creating: Synapse builds them before the
    room has power levels (every room gets them at creation)."""
    if POWER_LEVELS in state:
        return False
    create = state.get(CREATE)
    return create is None or create.sender == sender


def room_type(event: Any, state: Any) -> str | None:
    """The room's `m.room.create` type (the create event itself carries it)."""
    if event.type == "m.room.create":
        return event.content.get("type")
    create = state.get(CREATE)
    return create.content.get("type") if create is not None else None


def admin_only(sender: str, state: Any) -> Refusal | None:
    """The room's creator, or a user at level 100: a room's retention is an admin's call."""
    if creating(sender, state):
        return None
    create, levels = state.get(CREATE), state.get(POWER_LEVELS)
    if create is not None and (create.sender == sender or sender in (
            create.content.get("additional_creators") or ())):
        return None
    users = (levels.content.get("users") or {}) if levels is not None else {}
    return None if users.get(sender) == MAX_LEVEL else RETENTION_ADMIN_ONLY


def bounds(low: Any, high: Any) -> tuple[int, int] | None:
    return None if low is None or high is None else (int(low), int(high))
