"""Pure rule predicates about people: who may create rooms, invite, join, act in a room and
send to-device messages — and why not.

Kept free of Synapse and HTTP so each rule is a small function tested directly. The module
feeds them what the Confrère service says about the users involved (`UserState`); `None`
means the service could not tell, and every rule then refuses (fail closed). The rules about
what an event may contain live in `events.py`; the refusals themselves in `refusals.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.synapse_module.events import MEGOLM, creation_request_refusal  # noqa: F401
from bridge.synapse_module.refusals import (  # noqa: F401 - re-exported for callers
    ALIASES_DISABLED,
    FEDERATION_DISABLED,
    GHOST_ACTION,
    GUEST_ACCESS,
    HISTORY_WORLD_READABLE,
    INTERNAL_ERROR,
    INVITEE_NOT_VERIFIED,
    JOIN_RULE_NOT_INVITE,
    KNOCK_REFUSED,
    MEMBER_IN_INITIAL_STATE,
    NOT_VERIFIED,
    PROFILE_HIDDEN,
    PUBLICATION_DISABLED,
    RECIPIENT_NOT_VERIFIED,
    REMOTE_USER,
    SERVICE_UNREACHABLE,
    THIRD_PARTY_INVITE,
    UNENCRYPTED_MESSAGE,
    UNENCRYPTED_ROOM,
    UNKNOWN_GHOST,
    Refusal,
)

__all__ = ["MEGOLM", "Parties", "Refusal", "UserState"]


@dataclass(frozen=True)
class UserState:
    """What the service says about a user."""

    user_id: str
    verification: str  # unverified | pending | verified | refused | revoked; ghost | unknown
    onboarding_rooms: frozenset[str] = field(default_factory=frozenset)
    administrator: bool = False
    # a guest stand-in whose person is now verified: the one account it may invite
    promoted_to: str | None = None

    @property
    def verified(self) -> bool:
        return self.verification == "verified" or self.administrator


@dataclass(frozen=True)
class Parties:
    """Users a rule may need besides the actor: the bot, and ghosts by prefix."""

    bot_user_id: str
    ghost_prefix: str
    # (min, max) lifetime in ms a room may ask for in `m.room.retention`; None refuses it.
    retention: tuple[int, int] | None = None

    def is_bot(self, user_id: str) -> bool:
        return user_id == self.bot_user_id

    def is_ghost(self, user_id: str) -> bool:
        return user_id.startswith(self.ghost_prefix)


def may_create_room(actor: UserState | None, request: dict, parties: Parties) -> Refusal | None:
    """Verified: any room whose request passes `events.creation_request_refusal`.
    Unverified: only a direct conversation with the bot."""
    if actor is None:
        return SERVICE_UNREACHABLE
    if (refusal := creation_request_refusal(request, retention=parties.retention)) is not None:
        return refusal
    if actor.verified:
        return None
    invites = request.get("invite") or []
    if list(invites) != [parties.bot_user_id]:
        return NOT_VERIFIED
    return None


def may_invite(inviter: UserState | None, invitee_id: str, invitee: UserState | None,
               parties: Parties, *, remote: bool = False) -> Refusal | None:
    """Verified may invite verified colleagues, ghosts and the bot; unverified only the bot;
    nobody invites an account of another server."""
    if remote:
        return REMOTE_USER
    if inviter is None:
        return SERVICE_UNREACHABLE
    if parties.is_bot(invitee_id):
        return None
    if not inviter.verified:
        return NOT_VERIFIED
    if invitee is None:
        return SERVICE_UNREACHABLE
    if parties.is_ghost(invitee_id):
        return None if invitee.verification == "ghost" else UNKNOWN_GHOST
    return None if invitee.verified else INVITEE_NOT_VERIFIED


def may_join(actor: UserState | None, room_id: str) -> Refusal | None:
    """Verified may join (Synapse still enforces invitations); unverified only onboarding."""
    return may_act_in_room(actor, room_id)


def may_act_in_room(actor: UserState | None, room_id: str, *,
                    creating: bool = False) -> Refusal | None:
    """Verified act in any room they are in; unverified (pending, refused, revoked) only in
    their onboarding conversation, or in the room they are creating (the creation request
    itself was checked by `may_create_room`)."""
    if actor is None:
        return SERVICE_UNREACHABLE
    if actor.verified or room_id in actor.onboarding_rooms or creating:
        return None
    return NOT_VERIFIED


def may_send_to_device(sender_id: str, sender: UserState | None, recipient_id: str,
                       recipient: UserState | None, parties: Parties, *,
                       remote: bool = False) -> Refusal | None:
    """To-device messages (key shares, verification requests…) reach the sender's own devices
    and the bot from anyone; other practitioners' devices only from and to verified users."""
    if recipient_id == sender_id:
        return None
    if parties.is_bot(recipient_id):
        return None
    if remote:
        return REMOTE_USER
    if sender is None:
        return SERVICE_UNREACHABLE
    if not sender.verified:
        return NOT_VERIFIED
    if recipient is None:
        return SERVICE_UNREACHABLE
    return None if recipient.verified else RECIPIENT_NOT_VERIFIED


def may_find_in_directory(searcher: UserState | None, target_id: str,
                          target: UserState | None, parties: Parties) -> bool:
    """Synapse's user directory ("Démarrer une discussion"): a verified practitioner finds
    verified colleagues and the bot; ghosts and unverified accounts never appear, and an
    unverified (or unknown) searcher finds no one."""
    if searcher is None or not searcher.verified:
        return False
    if parties.is_bot(target_id):
        return True
    if parties.is_ghost(target_id) or target is None:
        return False
    return target.verified


def may_see_profile(requester: UserState | None, target_id: str, target: UserState | None,
                    parties: Parties) -> Refusal | None:
    """A profile outside shared rooms: verified practitioners see verified colleagues (the
    badge is the point of a profile), the bot and directory ghosts (already answered by the
    third-party look-up); anyone else learns nothing beyond the rooms they share."""
    if requester is None:
        return SERVICE_UNREACHABLE
    if not requester.verified:
        return PROFILE_HIDDEN
    if parties.is_bot(target_id):
        return None
    if target is None:
        return PROFILE_HIDDEN
    if parties.is_ghost(target_id):
        return None if target.verification == "ghost" else PROFILE_HIDDEN
    return None if target.verified else PROFILE_HIDDEN


def may_hand_over(stand_in: UserState | None, invitee_id: str,
                  invitee: UserState | None) -> Refusal | None:
    """A guest stand-in invites nobody — except, while its promotion runs, the verified
    account of the person it stood for (it hands its seat over, then leaves)."""
    if stand_in is None or invitee is None:
        return SERVICE_UNREACHABLE
    if stand_in.promoted_to != invitee_id or not invitee.verified:
        return GHOST_ACTION
    return None
