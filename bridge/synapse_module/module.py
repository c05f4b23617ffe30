"""Registers the access-rules callbacks with Synapse; every callback fails closed.

Where each rule is enforced:
- `on_create_room` (third-party rules, every creator including server admins): every field of
  a creation request (`events.creation_request_refusal`); then the request is completed so
  the room is Megolm-encrypted, guest-free and never federated.
- `user_may_create_room`, `user_may_invite`, `user_may_join_room` (spam checker): who may,
  with the service's answer (`rules`), before Synapse builds any event.
- `check_event_allowed` (third-party rules): every event created on this server, including
  each event a `createRoom` request turns into, goes through `events` and `rules`.
- `user_may_create_room_alias`, `user_may_publish_room`, `user_may_send_3pid_invite`: refused.
- `to_device.guard_to_device`: `/sendToDevice`, which has no module callback.
- `check_username_for_spam` (spam checker): who appears in Synapse's user directory search;
  `profiles.guard_profile_queries`: profiles outside shared rooms (no module callback);
  `uploads.answer_oversized_uploads`: an upload over the cap gets 413, not a cut connection.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bridge.synapse_module import events, rules
from bridge.synapse_module.refusal_notice import RefusalNotifier
from bridge.synapse_module.refusals import (
    ALIASES_DISABLED,
    GHOST_ACTION,
    INTERNAL_ERROR,
    POWER_LOCKED,
    PUBLICATION_DISABLED,
    REMOTE_USER,
    THIRD_PARTY_INVITE,
    Refusal,
)
from bridge.synapse_module.room_state import CREATE, POWER_LEVELS, admin_only, bounds, \
    creating as _creating, room_type as _room_type
from bridge.synapse_module.rules import Parties, UserState
from bridge.synapse_module.state_client import UserStateClient
from bridge.synapse_module.people import PeopleRules
from bridge.synapse_module.profiles import guard_profile_queries
from bridge.synapse_module.to_device import guard_to_device
from bridge.synapse_module.uploads import answer_oversized_uploads
from bridge.synapse_module.web import INVALIDATE_PATH, STATS_PATH, InvalidateResource

logger = logging.getLogger(__name__)

__all__ = ["AccessRules", "AccessRulesConfig", "INVALIDATE_PATH", "STATS_PATH"]



@dataclass(frozen=True)
class AccessRulesConfig:
    service_url: str
    secret: str
    bot_user_id: str
    exempt_users: tuple[str, ...]
    ghost_prefix: str
    cache_seconds: float = 30.0
    timeout_seconds: float = 5.0
    # Bounds of `m.room.retention` a room administrator may set (ms); None refuses it.
    retention_bounds: tuple[int, int] | None = None


def _fail_closed(callback: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """An exception inside a rule denies instead of letting Synapse fall back to allowing."""

    @functools.wraps(callback)
    async def guarded(self: "AccessRules", *args: Any, **kwargs: Any) -> Any:
        try:
            return await callback(self, *args, **kwargs)
        except Exception:  # noqa: BLE001 - deliberate: any failure refuses
            logger.exception("access rule %s failed; refusing", callback.__name__)
            return self._deny(INTERNAL_ERROR)

    return guarded


class AccessRules(PeopleRules):
    """Synapse module: asks the Confrère service who users are, then applies the rules."""

    def __init__(self, config: AccessRulesConfig, api: Any) -> None:
        from synapse.module_api import NOT_SPAM
        from synapse.module_api.errors import Codes

        self._config = config
        self._api = api
        self._not_spam = NOT_SPAM
        self._forbidden = Codes.FORBIDDEN
        self._parties = Parties(config.bot_user_id, config.ghost_prefix,
                                config.retention_bounds)
        self.states = UserStateClient(
            api.http_client, config.service_url, config.secret, config.cache_seconds,
            config.timeout_seconds, clock=getattr(api, "_clock", None),
        )
        # the bot explains refusals in the person's conversation with it (fire-and-forget)
        live = getattr(api, "_clock", None) is not None  # not in unit tests
        self.notices = RefusalNotifier(
            api.http_client, config.service_url, config.secret,
            background=api.run_as_background_process if live else None)
        api.register_spam_checker_callbacks(
            user_may_create_room=self.user_may_create_room,
            user_may_invite=self.user_may_invite,
            user_may_join_room=self.user_may_join_room,
            user_may_create_room_alias=self.user_may_create_room_alias,
            user_may_publish_room=self.user_may_publish_room,
            user_may_send_3pid_invite=self.user_may_send_3pid_invite,
            check_username_for_spam=self.check_username_for_spam,
        )
        api.register_third_party_rules_callbacks(
            on_create_room=self.on_create_room,
            check_event_allowed=self.check_event_allowed,
        )
        api.register_web_resource(INVALIDATE_PATH, InvalidateResource(self.states, config.secret))
        api.register_web_resource(STATS_PATH, InvalidateResource(self.states, config.secret,
                                                                 stats=True))
        homeserver = getattr(api, "_hs", None)
        if homeserver is not None:
            guard_to_device(homeserver.get_device_message_handler(), self.to_device_verdicts,
                            self._error)
            guard_profile_queries(homeserver.get_profile_handler(), self.profile_refusal,
                                  self._error)
            answer_oversized_uploads()

    @staticmethod
    def parse_config(config: dict) -> AccessRulesConfig:
        from synapse.module_api.errors import ConfigError

        try:
            return AccessRulesConfig(
                service_url=str(config["service_url"]),
                secret=str(config["secret"]),
                bot_user_id=str(config["bot_user_id"]),
                exempt_users=tuple(config.get("exempt_users", ())),
                ghost_prefix=str(config["ghost_prefix"]),
                cache_seconds=float(config.get("cache_seconds", 30)),
                timeout_seconds=float(config.get("timeout_seconds", 5)),
                retention_bounds=bounds(config.get("retention_min_ms"),
                                         config.get("retention_max_ms")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"confrere access rules: invalid config ({exc})") from exc

    # -- who is who ----------------------------------------------------------------------
    def _privileged(self, user_id: str) -> bool:
        """The bot and the appservice sender: no verification needed, our state types."""
        return user_id == self._config.bot_user_id or user_id in self._config.exempt_users

    def _ghost(self, user_id: str) -> bool:
        return self._parties.is_ghost(user_id)

    def _local(self, user_id: str) -> bool:
        """Whether a user id (from a client, maybe malformed) belongs to this server."""
        try:
            return bool(self._api.is_mine(user_id))
        except Exception:  # noqa: BLE001 - a malformed id is nobody of ours
            return False

    def _deny(self, refusal: Refusal) -> tuple[Any, dict]:
        return (self._forbidden, refusal.error_fields())

    def _error(self, refusal: Refusal) -> Exception:
        from synapse.api.errors import SynapseError

        fields = refusal.error_fields()
        return SynapseError(403, fields["error"], self._forbidden, additional_fields=fields)

    async def _verdict(self, user_id: str,
                       rule: Callable[[UserState | None], Refusal | None]) -> Refusal | None:
        """Apply `rule`; before refusing, ask once more without the cache (states change)."""
        refusal = rule(await self.states.get(user_id))
        if refusal is not None and refusal is not rules.SERVICE_UNREACHABLE:
            refusal = rule(await self.states.get(user_id, fresh=True))
            if refusal is not None and refusal is not rules.SERVICE_UNREACHABLE:
                self.notices.notify(user_id, refusal.code)  # background, never raises
        return refusal

    def _spam_answer(self, refusal: Refusal | None) -> Any:
        return self._not_spam if refusal is None else self._deny(refusal)

    async def _other_state(self, user_id: str) -> UserState | None:
        """An invitee's or recipient's state (the bot and our service users need none)."""
        if self._privileged(user_id) and not self._ghost(user_id):
            return None
        return await self.states.get(user_id)

    # -- spam-checker callbacks ----------------------------------------------------------
    @_fail_closed
    async def user_may_create_room(self, user_id: str, room_config: dict) -> Any:
        if self._ghost(user_id):
            return self._deny(GHOST_ACTION)
        if self._privileged(user_id):
            return self._spam_answer(events.creation_request_refusal(
                room_config, bot=True, retention=self._config.retention_bounds))
        return self._spam_answer(await self._verdict(
            user_id, lambda actor: rules.may_create_room(actor, room_config, self._parties)))

    @_fail_closed
    async def user_may_invite(self, inviter: str, invitee: str, room_id: str) -> Any:
        if not self._local(invitee):
            return self._deny(REMOTE_USER)
        if self._ghost(inviter):
            return self._spam_answer(await self._hand_over_refusal(inviter, invitee))
        if self._privileged(inviter):
            return self._not_spam
        invitee_state = await self._other_state(invitee)
        return self._spam_answer(await self._verdict(
            inviter, lambda actor: rules.may_invite(actor, invitee, invitee_state,
                                                    self._parties)))

    @_fail_closed
    async def user_may_join_room(self, user_id: str, room_id: str, is_invited: bool) -> Any:
        if self._privileged(user_id) or self._ghost(user_id):
            return self._not_spam
        return self._spam_answer(await self._verdict(
            user_id, lambda actor: rules.may_join(actor, room_id)))

    async def user_may_create_room_alias(self, user_id: str, room_alias: Any) -> Any:
        return self._deny(ALIASES_DISABLED)

    async def user_may_publish_room(self, user_id: str, room_id: str) -> Any:
        return self._deny(PUBLICATION_DISABLED)

    async def user_may_send_3pid_invite(self, inviter: str, medium: str, address: str,
                                        room_id: str) -> Any:
        return self._deny(THIRD_PARTY_INVITE)

    # -- third-party rules callbacks -----------------------------------------------------
    async def on_create_room(self, requester: Any, request: dict, is_admin: bool) -> None:
        """Check every field (server admins too), then complete the request: Megolm
        encryption and guest access forbidden unless given (then checked), never federated."""
        try:
            refusal = events.creation_request_refusal(
                request, bot=requester is not None and self._privileged(
                    requester.user.to_string()),
                retention=self._config.retention_bounds)
        except Exception:  # noqa: BLE001 - fail closed
            logger.exception("room creation check failed; refusing")
            refusal = INTERNAL_ERROR
        if refusal is not None:
            raise self._error(refusal)
        initial_state = request.setdefault("initial_state", [])
        given = {state.get("type") for state in initial_state}
        if "m.room.encryption" not in given:
            initial_state.append({"type": "m.room.encryption", "state_key": "",
                                  "content": {"algorithm": rules.MEGOLM}})
        if "m.room.guest_access" not in given:
            initial_state.append({"type": "m.room.guest_access", "state_key": "",
                                  "content": {"guest_access": "forbidden"}})
        request.setdefault("creation_content", {})["m.federate"] = False

    async def check_event_allowed(self, event: Any, state_events: Any) -> tuple[bool, None]:
        """Every event created here. A refusal is raised as a `SynapseError`, which Synapse
        passes on to the client with our bilingual reason."""
        try:
            refusal = await self._event_refusal(event, state_events)
        except Exception:  # noqa: BLE001 - fail closed
            logger.exception("access rule on an event failed; refusing")
            refusal = INTERNAL_ERROR
        if refusal is not None:
            raise self._error(refusal)
        return True, None

    async def _event_refusal(self, event: Any, state: Any) -> Refusal | None:
        sender = event.sender
        if not self._local(sender):
            return REMOTE_USER
        content = dict(event.content or {})
        if event.type == "m.room.member" and event.is_state():
            return await self._member_refusal(event, state, content)
        if self._ghost(sender):
            return GHOST_ACTION
        privileged = self._privileged(sender)
        if event.is_state():
            refusal = events.state_refusal(
                event.type, event.state_key, content, bot=privileged,
                room_type=_room_type(event, state), retention=self._config.retention_bounds)
            if refusal is None and event.type == "m.room.power_levels" and not privileged:
                refusal = self._power_levels_refusal(sender, content, state)
            if refusal is None and event.type == events.RETENTION and not privileged:
                refusal = admin_only(sender, state)
            if refusal is not None or privileged:
                return refusal
            return await self._verdict(sender, lambda actor: rules.may_act_in_room(
                actor, event.room_id, creating=_creating(sender, state)))
        if not privileged:
            refusal = await self._verdict(
                sender, lambda actor: rules.may_act_in_room(actor, event.room_id))
            if refusal is not None:
                return refusal
        refusal = events.message_refusal(event.type, content)
        if refusal is None and event.type == "m.room.redaction":
            refusal = await self._redaction_refusal(event, state)
        return refusal

    def _power_levels_refusal(self, sender: str, content: dict, state: Any) -> Refusal | None:
        create = state.get(CREATE)
        if create is not None and create.sender == self._config.bot_user_id and \
                create.content.get("type") is None:
            return POWER_LOCKED  # the bot's own conversations; its case rooms have co-creators
        current = state.get(POWER_LEVELS)
        creators = set()
        if create is not None:
            creators.add(create.sender)
            additional = create.content.get("additional_creators")
            if isinstance(additional, (list, tuple)):
                creators.update(str(user) for user in additional)
        return events.power_levels_refusal(
            sender, content, dict(current.content) if current is not None else None,
            creators=frozenset(creators))

    async def _member_refusal(self, event: Any, state: Any, content: dict) -> Refusal | None:
        sender, target = event.sender, event.state_key
        membership = content.get("membership")
        privileged, ghost = self._privileged(sender), self._ghost(sender)
        profile = None
        if membership == "join" and target == sender and not (privileged or ghost):
            info = await self._api.get_profile_for_user(self._localpart(sender))
            profile = (getattr(info, "display_name", None), getattr(info, "avatar_url", None))
        if ghost and membership == "invite" and set(content) <= {"membership", "displayname",
                                                                  "avatar_url"}:
            return await self._hand_over_refusal(sender, target)
        refusal = events.membership_refusal(sender, target, content, ghost=ghost,
                                            profile=profile)
        if refusal is None and membership == "invite" and not self._local(target):
            refusal = REMOTE_USER
        if refusal is not None or ghost or privileged:
            return refusal
        if membership == "invite":
            invitee = await self._other_state(target)
            return await self._verdict(sender, lambda actor: rules.may_invite(
                actor, target, invitee, self._parties))
        if membership == "leave" and target == sender:
            return None
        if membership == "join":
            before = state.get(("m.room.member", sender))
            if before is not None and before.content.get("membership") == "join":
                return None  # a profile update Synapse makes in every room
        return await self._verdict(sender, lambda actor: rules.may_act_in_room(
            actor, event.room_id, creating=_creating(sender, state)))

    async def _redaction_refusal(self, event: Any, state: Any) -> Refusal | None:
        redacts = getattr(event, "redacts", None) or event.content.get("redacts")
        if any(current.event_id == redacts for current in state.values()):
            return events.redaction_target_refusal("state", True)
        target = await self._api._store.get_event(redacts, allow_none=True,
                                                  allow_rejected=True)
        if target is None:
            return events.redaction_target_refusal(None, False)
        return events.redaction_target_refusal(target.type, target.is_state())

    def _localpart(self, user_id: str) -> str:
        return user_id[1:].split(":", 1)[0]

    # -- to-device -----------------------------------------------------------------------
    async def to_device_verdicts(self, sender: str,
                                 recipients: list[str]) -> dict[str, Refusal | None]:
        """Which recipients `sender` may reach with to-device messages."""
        try:
            return await self._to_device_verdicts(sender, recipients)
        except Exception:  # noqa: BLE001 - fail closed
            logger.exception("to-device rule failed; refusing")
            return {recipient: INTERNAL_ERROR for recipient in recipients}

    async def _to_device_verdicts(self, sender: str,
                                  recipients: list[str]) -> dict[str, Refusal | None]:
        if self._ghost(sender):
            return {recipient: GHOST_ACTION for recipient in recipients}
        if self._privileged(sender):
            return {recipient: None if self._local(recipient) else REMOTE_USER
                    for recipient in recipients}
        actor = await self.states.get(sender)
        verdicts = await self._to_device_for(actor, sender, recipients)
        if actor is not None and any(v is rules.NOT_VERIFIED for v in verdicts.values()):
            fresh = await self.states.get(sender, fresh=True)  # a state may have just changed
            if fresh is not None and fresh.verified:
                verdicts = await self._to_device_for(fresh, sender, recipients)
        return verdicts

    async def _to_device_for(self, actor: UserState | None, sender: str,
                             recipients: list[str]) -> dict[str, Refusal | None]:
        verdicts: dict[str, Refusal | None] = {}
        for recipient in recipients:
            remote = not self._local(recipient)
            other = None
            if not (remote or recipient == sender or self._parties.is_bot(recipient)
                    or actor is None or not actor.verified):
                other = await self._other_state(recipient)
            verdicts[recipient] = rules.may_send_to_device(sender, actor, recipient, other,
                                                           self._parties, remote=remote)
        return verdicts

