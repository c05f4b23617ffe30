"""Pure rule predicates about what an event or a room creation request may contain.

One state-event predicate serves both a `createRoom` request (each of its fields is turned into
the state event it will become) and every later event, so a setting refused later cannot be
slipped in at creation. Everything here applies to every local account, verified or not; the
bot only gets our own `fr.confrere.*` state types on top. The decisions (see README, "Access
rules") in short:

- join rules stay `invite`; history never `world_readable`; guest access `forbidden`;
- encryption is Megolm with rotation within 7 days and 100 messages;
- no room aliases, no room-directory publication, no federation, no 3pid invites, no knocks;
- no room avatar (the image would sit unencrypted on the server), no per-room profile;
- power levels never give anyone more than the sender has, never give power to every joiner,
  never put security settings below moderator level;
- any state type not on the list is refused: unknown state is clear text on the server;
- non-state events are Megolm ciphertext (`m.room.encrypted`) or redactions of messages;
  no free-text `reason` anywhere in clear.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from bridge.synapse_module.refusals import (
    ALIASES_DISABLED,
    CLEAR_REASON,
    FEDERATION_DISABLED,
    GHOST_ACTION,
    GUEST_ACCESS,
    HISTORY_WORLD_READABLE,
    JOIN_RULE_NOT_INVITE,
    KNOCK_REFUSED,
    MEMBER_IN_INITIAL_STATE,
    MEMBERSHIP_REFUSED,
    NOT_MEGOLM_CIPHERTEXT,
    PER_ROOM_PROFILE,
    POWER_ESCALATION,
    PUBLICATION_DISABLED,
    REDACT_STATE,
    ROOM_AVATAR_REFUSED,
    ROOM_TYPE_REFUSED,
    ROTATION_OUT_OF_BOUNDS,
    STATE_TYPE_REFUSED,
    THIRD_PARTY_INVITE,
    UNENCRYPTED_MESSAGE,
    UNENCRYPTED_ROOM,
    Refusal,
)
from bridge.synapse_module.typed_state import (  # noqa: F401 - re-exported for callers
    CASE_ROOM,
    CASE_ROOM_TYPES,
    CASE_STATE,
    RETENTION,
    TELEEXPERTISE_ROOM,
    case_state_refusal,
    retention_refusal,
    space_link_refusal,
)

MEGOLM = "m.megolm.v1.aes-sha2"
MAX_ROTATION_MS = 7 * 24 * 3600 * 1000
MAX_ROTATION_MSGS = 100
MODERATOR = 50
MAX_LEVEL = 100
OUR_NAMESPACE = "fr.confrere."
ROOM_TYPES = ("m.space",)  # plus our own `fr.confrere.*` types; absent = a conversation
HISTORY_VISIBILITIES = ("invited", "joined", "shared")

# State types a client may set, with the state key they live at ("" or per user/room).
SINGLETON_STATE = frozenset({
    "m.room.create", "m.room.name", "m.room.topic", "m.room.avatar", "m.room.pinned_events",
    "m.room.power_levels", "m.room.encryption", "m.room.join_rules",
    "m.room.history_visibility", "m.room.guest_access", "m.room.canonical_alias",
    "m.room.tombstone",
})
KEYED_STATE = frozenset({"m.room.member", "m.space.child", "m.space.parent"})
# Settings that carry a room's security: never redacted, never below moderator level.
SECURITY_STATE = frozenset({
    "m.room.create", "m.room.power_levels", "m.room.encryption", "m.room.join_rules",
    "m.room.history_visibility", "m.room.guest_access", "m.room.member",
    "m.room.server_acl", "m.room.tombstone", "m.room.third_party_invite",
})

_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_MEGOLM_MESSAGE_VERSION = 3
_MIN_MEGOLM_BYTES = 1 + 2 + 8 + 64  # version, index, MAC and signature at least
_CIPHERTEXT_KEYS = frozenset({"algorithm", "ciphertext", "session_id", "sender_key",
                              "device_id", "m.relates_to"})
_RELATION_KEYS = frozenset({"rel_type", "event_id", "key", "is_falling_back", "m.in_reply_to"})
MAX_REACTION_KEY = 32


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- state ---------------------------------------------------------------------------------

def state_refusal(event_type: str, state_key: str, content: dict, *,
                  bot: bool = False, room_type: str | None = None,
                  retention: tuple[int, int] | None = None) -> Refusal | None:
    """Which state anyone may set, and to what. Membership and power levels need the room's
    current state and are checked by `membership_refusal` and `power_levels_refusal`.

    `room_type` is the room's `m.room.create` type (the case id lives only in case rooms);
    `retention` the (min, max) lifetime in ms a room may ask for, None when the module was
    given no bounds (then `m.room.retention` is refused). Who may set it (administrators
    only) needs power levels and is checked by the module."""
    if not isinstance(content, dict):
        return STATE_TYPE_REFUSED
    if event_type == CASE_STATE:  # for everyone, bot included: an opaque id and nothing else
        return case_state_refusal(state_key, content, room_type)
    if bot and event_type.startswith(OUR_NAMESPACE):
        return None
    if event_type == RETENTION:
        if state_key != "" or retention is None:
            return STATE_TYPE_REFUSED
        return retention_refusal(content, *retention)
    if event_type in ("m.space.child", "m.space.parent"):
        return space_link_refusal(state_key, content)
    if event_type in ("m.room.canonical_alias", "m.room.aliases"):
        return None if event_type == "m.room.canonical_alias" and not (
            content.get("alias") or content.get("alt_aliases")) else ALIASES_DISABLED
    if event_type == "m.room.third_party_invite":
        return THIRD_PARTY_INVITE
    if event_type in SINGLETON_STATE:
        if state_key != "":
            return STATE_TYPE_REFUSED
    elif event_type not in KEYED_STATE:
        return STATE_TYPE_REFUSED
    checker = _STATE_CONTENT.get(event_type)
    return checker(content) if checker else None


def encryption_refusal(content: dict) -> Refusal | None:
    """Megolm only; rotation, when given, at least weekly and every 100 messages."""
    if content.get("algorithm") != MEGOLM:
        return UNENCRYPTED_ROOM
    if "rotation_period_ms" in content:
        period = _int(content["rotation_period_ms"])
        if period is None or not 0 < period <= MAX_ROTATION_MS:
            return ROTATION_OUT_OF_BOUNDS
    if "rotation_period_msgs" in content:
        count = _int(content["rotation_period_msgs"])
        if count is None or not 0 < count <= MAX_ROTATION_MSGS:
            return ROTATION_OUT_OF_BOUNDS
    return None


def create_refusal(content: dict) -> Refusal | None:
    """A room never federates and is a conversation, a space or one of our typed rooms."""
    if content.get("m.federate", False) is not False:
        return FEDERATION_DISABLED
    room_type = content.get("type")
    if room_type is None or room_type in ROOM_TYPES or (
            isinstance(room_type, str) and room_type.startswith(OUR_NAMESPACE)):
        return None
    return ROOM_TYPE_REFUSED


def _join_rules(content: dict) -> Refusal | None:
    return None if content.get("join_rule") == "invite" else JOIN_RULE_NOT_INVITE


def _history(content: dict) -> Refusal | None:
    return None if content.get("history_visibility") in HISTORY_VISIBILITIES \
        else HISTORY_WORLD_READABLE


def _guest_access(content: dict) -> Refusal | None:
    return None if content.get("guest_access") == "forbidden" else GUEST_ACCESS


def _avatar(content: dict) -> Refusal | None:
    return ROOM_AVATAR_REFUSED if content.get("url") or content.get("info") else None


def _pinned(content: dict) -> Refusal | None:
    pinned = content.get("pinned", [])
    ok = isinstance(pinned, list) and all(isinstance(p, str) and p.startswith("$")
                                          for p in pinned)
    return None if ok else STATE_TYPE_REFUSED


_STATE_CONTENT = {
    "m.room.join_rules": _join_rules,
    "m.room.history_visibility": _history,
    "m.room.guest_access": _guest_access,
    "m.room.encryption": encryption_refusal,
    "m.room.create": create_refusal,
    "m.room.avatar": _avatar,
    "m.room.pinned_events": _pinned,
}


def power_levels_refusal(sender: str, content: dict, current: dict | None, *,
                         creators: frozenset[str] = frozenset()) -> Refusal | None:
    """Nobody raises anyone above their own level or above 100, gives power to every joiner,
    or puts the settings that carry a room's security below moderator level. `current` is
    the room's power levels before the change (None while the room is being created);
    `creators` hold unlimited power (room version 12, where they are not listed in `users`)."""
    levels = current if current is not None else content
    sender_level = MAX_LEVEL if sender in creators else _level_of(levels, sender)
    users = content.get("users", {})
    before = (current or {}).get("users") or {}
    if not isinstance(users, dict) or sender_level is None:
        return POWER_ESCALATION
    for user, level in users.items():
        level = _int(level)
        if level is None or level > MAX_LEVEL or (
                level > sender_level and before.get(user) != level):
            return POWER_ESCALATION
    users_default = _int(content.get("users_default", 0))
    state_default = _int(content.get("state_default", MODERATOR))
    if users_default is None or users_default > 0:
        return POWER_ESCALATION
    if state_default is None or state_default < MODERATOR:
        return POWER_ESCALATION
    events = content.get("events", {})
    if not isinstance(events, dict):
        return POWER_ESCALATION
    for event_type in SECURITY_STATE - {"m.room.member"}:
        if event_type in events:
            level = _int(events[event_type])
            if level is None or level < MODERATOR:
                return POWER_ESCALATION
    return None


def _level_of(levels: dict, user_id: str) -> int | None:
    users = levels.get("users") or {}
    if isinstance(users, dict) and user_id in users:
        return _int(users[user_id])
    return _int(levels.get("users_default", 0))


def membership_refusal(sender: str, state_key: str, content: dict, *, ghost: bool = False,
                       profile: tuple[str | None, str | None] | None = None) -> Refusal | None:
    """What a membership event may say, whoever sends it. `profile` is the sender's global
    (display name, avatar) for a join: a join may not carry another (no per-room profile)."""
    membership = content.get("membership")
    if membership == "knock":
        return KNOCK_REFUSED
    if ghost:
        return None if state_key == sender and membership in ("join", "leave") else GHOST_ACTION
    if membership not in ("invite", "join", "leave", "ban"):
        return MEMBERSHIP_REFUSED
    if "third_party_invite" in content:
        return THIRD_PARTY_INVITE
    if content.get("reason"):
        return CLEAR_REASON
    if membership == "join" and profile is not None:
        displayname, avatar_url = profile
        if content.get("displayname") not in (None, displayname) or \
                content.get("avatar_url") not in (None, avatar_url):
            return PER_ROOM_PROFILE
    return None


# -- room creation -------------------------------------------------------------------------

def creation_request_refusal(request: dict, *, bot: bool = False,
                             retention: tuple[int, int] | None = None) -> Refusal | None:
    """Every field of a `createRoom` request, through the rule of the event it becomes."""
    if request.get("invite_3pid"):
        return THIRD_PARTY_INVITE
    if request.get("preset") == "public_chat":
        return JOIN_RULE_NOT_INVITE
    if request.get("visibility") == "public":
        return PUBLICATION_DISABLED
    if request.get("room_alias_name"):
        return ALIASES_DISABLED
    creation = request.get("creation_content") or {}
    if not isinstance(creation, dict):
        return ROOM_TYPE_REFUSED
    # `m.federate` is not checked here: `on_create_room` forces it to false (clients such as
    # matrix-nio send `true` by default); the create event itself is checked with it.
    if (refusal := create_refusal({**creation, "m.federate": False})) is not None:
        return refusal
    override = request.get("power_level_content_override")
    if override is not None:
        if not isinstance(override, dict):
            return POWER_ESCALATION
        if (refusal := _creation_power_levels(override)) is not None:
            return refusal
    for state in request.get("initial_state") or []:
        if not isinstance(state, dict) or not isinstance(state.get("type"), str):
            return STATE_TYPE_REFUSED
        event_type, content = state["type"], state.get("content") or {}
        if event_type == "m.room.member":
            return MEMBER_IN_INITIAL_STATE
        if event_type == "m.room.power_levels":
            refusal = _creation_power_levels(content) if isinstance(content, dict) \
                else POWER_ESCALATION
        else:
            refusal = state_refusal(event_type, state.get("state_key", ""), content, bot=bot,
                                    room_type=creation.get("type"), retention=retention)
        if refusal is not None:
            return refusal
    return None


def _creation_power_levels(content: dict) -> Refusal | None:
    """At creation the creator holds all power: check the override against that."""
    return power_levels_refusal("@creator", content, None, creators=frozenset({"@creator"}))


# -- messages ------------------------------------------------------------------------------

def message_refusal(event_type: str, content: dict) -> Refusal | None:
    """Only Megolm ciphertext, redactions without a reason in clear, and reactions exactly as
    Element sends them (matrix-js-sdk never encrypts `m.reaction`: the server groups them)."""
    if event_type == "m.room.encrypted":
        return megolm_refusal(content)
    if event_type == "m.reaction":
        return reaction_refusal(content)
    if event_type == "m.room.redaction":
        if content.get("reason"):
            return CLEAR_REASON
        return None if set(content) <= {"redacts", "reason"} else NOT_MEGOLM_CIPHERTEXT
    return UNENCRYPTED_MESSAGE


def reaction_refusal(content: dict) -> Refusal | None:
    """A clear reaction holds an annotation and nothing else: the event it reacts to and a
    short key (an emoji); any other field could carry text in clear."""
    relation = content.get("m.relates_to")
    if set(content) != {"m.relates_to"} or not isinstance(relation, dict):
        return UNENCRYPTED_MESSAGE
    if set(relation) != {"rel_type", "event_id", "key"} or relation["rel_type"] != "m.annotation":
        return UNENCRYPTED_MESSAGE
    key, target = relation["key"], relation["event_id"]
    if not isinstance(key, str) or not key or len(key) > MAX_REACTION_KEY:
        return UNENCRYPTED_MESSAGE
    return None if isinstance(target, str) and target.startswith("$") else UNENCRYPTED_MESSAGE


def megolm_refusal(content: dict) -> Refusal | None:
    """`m.room.encrypted` as clients send it: Megolm, a real Megolm message in base64, a
    session id; nothing else in clear but the relation clients keep for reactions, edits,
    replies and threads."""
    if content.get("algorithm") != MEGOLM:
        return UNENCRYPTED_MESSAGE
    if not set(content) <= _CIPHERTEXT_KEYS:
        return NOT_MEGOLM_CIPHERTEXT
    ciphertext, session_id = content.get("ciphertext"), content.get("session_id")
    if not isinstance(ciphertext, str) or not isinstance(session_id, str) or not session_id:
        return NOT_MEGOLM_CIPHERTEXT
    for key in ("sender_key", "device_id"):
        if key in content and not isinstance(content[key], str):
            return NOT_MEGOLM_CIPHERTEXT
    if not _BASE64.match(ciphertext):
        return NOT_MEGOLM_CIPHERTEXT
    try:
        raw = base64.b64decode(ciphertext + "=" * (-len(ciphertext) % 4), validate=True)
    except (binascii.Error, ValueError):
        return NOT_MEGOLM_CIPHERTEXT
    if len(raw) < _MIN_MEGOLM_BYTES or raw[0] != _MEGOLM_MESSAGE_VERSION:
        return NOT_MEGOLM_CIPHERTEXT
    return _relation_refusal(content.get("m.relates_to"))


def _relation_refusal(relation: Any) -> Refusal | None:
    if relation is None:
        return None
    if not isinstance(relation, dict) or not set(relation) <= _RELATION_KEYS:
        return NOT_MEGOLM_CIPHERTEXT
    key = relation.get("key")
    if key is not None and (not isinstance(key, str) or len(key) > MAX_REACTION_KEY):
        return NOT_MEGOLM_CIPHERTEXT
    reply = relation.get("m.in_reply_to")
    if reply is not None and (not isinstance(reply, dict) or set(reply) != {"event_id"}):
        return NOT_MEGOLM_CIPHERTEXT
    return None


def redaction_target_refusal(target_type: str | None, target_is_state: bool) -> Refusal | None:
    """Redactions remove messages, never a room's state (an unknown target is refused)."""
    if target_type is None or target_is_state:
        return REDACT_STATE
    return None
