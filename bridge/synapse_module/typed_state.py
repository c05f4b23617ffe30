"""Pure predicates for the state our conversation kinds add: the case id of case and
téléexpertise rooms, space links (personal spaces), and a room's retention period."""

from __future__ import annotations

import re
from typing import Any

from bridge.synapse_module.refusals import (
    CASE_STATE_REFUSED,
    RETENTION_OUT_OF_BOUNDS,
    SPACE_LINK_REFUSED,
    Refusal,
)

# Patient cases and téléexpertises: typed rooms whose only own state is an opaque case id.
CASE_ROOM = "fr.confrere.case"
TELEEXPERTISE_ROOM = "fr.confrere.teleexpertise"
CASE_ROOM_TYPES = (CASE_ROOM, TELEEXPERTISE_ROOM)
CASE_STATE = "fr.confrere.case"
CASE_ID = re.compile(r"^[A-Z]-[0-9A-Z]{6,16}$")
RETENTION = "m.room.retention"
_SPACE_LINK_KEYS = frozenset({"via", "suggested", "order", "canonical"})
_SPACE_ORDER = re.compile(r"^[\x20-\x7E]{0,50}$")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def case_state_refusal(state_key: str, content: dict, room_type: str | None) -> Refusal | None:
    """`fr.confrere.case` exists only in case and téléexpertise rooms, as `{"case_id": id}`
    with an opaque id (`C-7K3M9QXA`): no other field can carry a patient's name in clear."""
    if room_type not in CASE_ROOM_TYPES or state_key != "" or set(content) != {"case_id"}:
        return CASE_STATE_REFUSED
    case_id = content["case_id"]
    return None if isinstance(case_id, str) and CASE_ID.match(case_id) else CASE_STATE_REFUSED


def retention_refusal(content: dict, min_ms: int, max_ms: int) -> Refusal | None:
    """`m.room.retention`: `max_lifetime` (and `min_lifetime` if given) in ms, within bounds."""
    if not content or not set(content) <= {"max_lifetime", "min_lifetime"}:
        return RETENTION_OUT_OF_BOUNDS
    for key in content:
        value = _int(content[key])
        if value is None or not min_ms <= value <= max_ms:
            return RETENTION_OUT_OF_BOUNDS
    low = content.get("min_lifetime")
    if low is not None and low > content.get("max_lifetime", max_ms):
        return RETENTION_OUT_OF_BOUNDS
    return None


def space_link_refusal(state_key: str, content: dict) -> Refusal | None:
    """`m.space.child` / `m.space.parent`: keyed by a room id, carrying only the spec's
    fields (`via` server names, `suggested`, `canonical`, a short ASCII `order`). An empty
    content removes the link."""
    if not state_key.startswith("!") or not set(content) <= _SPACE_LINK_KEYS:
        return SPACE_LINK_REFUSED
    via = content.get("via", [])
    if not isinstance(via, list) or not all(isinstance(v, str) and len(v) <= 255 for v in via):
        return SPACE_LINK_REFUSED
    for flag in ("suggested", "canonical"):
        if flag in content and not isinstance(content[flag], bool):
            return SPACE_LINK_REFUSED
    order = content.get("order", "")
    if not isinstance(order, str) or not _SPACE_ORDER.match(order):
        return SPACE_LINK_REFUSED
    return None
