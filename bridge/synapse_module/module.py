"""Registers the access-rules callbacks with Synapse; every callback fails closed."""

from __future__ import annotations

import functools
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from twisted.web.resource import Resource

from bridge.synapse_module import rules
from bridge.synapse_module.rules import INTERNAL_ERROR, Parties, Refusal, UserState
from bridge.synapse_module.state_client import UserStateClient

logger = logging.getLogger(__name__)

INVALIDATE_PATH = "/_synapse/client/confrere/invalidate"
STATS_PATH = "/_synapse/client/confrere/stats"


@dataclass(frozen=True)
class AccessRulesConfig:
    service_url: str
    secret: str
    bot_user_id: str
    exempt_users: tuple[str, ...]
    ghost_prefix: str
    cache_seconds: float = 30.0
    timeout_seconds: float = 5.0


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


class AccessRules:
    """Synapse module: asks the Confrère service who users are, then applies `rules`."""

    def __init__(self, config: AccessRulesConfig, api: Any) -> None:
        from synapse.module_api import NOT_SPAM
        from synapse.module_api.errors import Codes

        self._config = config
        self._api = api
        self._not_spam = NOT_SPAM
        self._forbidden = Codes.FORBIDDEN
        self._parties = Parties(config.bot_user_id, config.ghost_prefix)
        self.states = UserStateClient(
            api.http_client, config.service_url, config.secret, config.cache_seconds,
            config.timeout_seconds, clock=getattr(api, "_clock", None),
        )
        api.register_spam_checker_callbacks(
            user_may_create_room=self.user_may_create_room,
            user_may_invite=self.user_may_invite,
            user_may_join_room=self.user_may_join_room,
            check_event_for_spam=self.check_event_for_spam,
        )
        api.register_third_party_rules_callbacks(on_create_room=self.on_create_room)
        api.register_web_resource(INVALIDATE_PATH, _InvalidateResource(self.states, config.secret))
        api.register_web_resource(STATS_PATH, _InvalidateResource(self.states, config.secret,
                                                                  stats=True))

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
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"confrere access rules: invalid config ({exc})") from exc

    def _exempt(self, user_id: str) -> bool:
        return (user_id == self._config.bot_user_id or user_id in self._config.exempt_users
                or self._parties.is_ghost(user_id))

    def _deny(self, refusal: Refusal) -> tuple[Any, dict]:
        return (self._forbidden, refusal.error_fields())

    async def _verdict(self, user_id: str,
                       rule: Callable[[UserState | None], Refusal | None]) -> Any:
        """Apply `rule`; before refusing, ask once more without the cache (states change)."""
        refusal = rule(await self.states.get(user_id))
        if refusal is not None and refusal is not rules.SERVICE_UNREACHABLE:
            refusal = rule(await self.states.get(user_id, fresh=True))
        return self._not_spam if refusal is None else self._deny(refusal)

    @_fail_closed
    async def user_may_create_room(self, user_id: str, room_config: dict) -> Any:
        if self._exempt(user_id):
            return self._not_spam
        return await self._verdict(
            user_id, lambda actor: rules.may_create_room(actor, room_config, self._parties))

    @_fail_closed
    async def user_may_invite(self, inviter: str, invitee: str, room_id: str) -> Any:
        if self._exempt(inviter):
            return self._not_spam
        invitee_state = None
        if self._parties.is_ghost(invitee) or not (self._exempt(invitee)
                                                   or not self._api.is_mine(invitee)):
            invitee_state = await self.states.get(invitee)
        return await self._verdict(
            inviter, lambda actor: rules.may_invite(actor, invitee, invitee_state, self._parties))

    @_fail_closed
    async def user_may_join_room(self, user_id: str, room_id: str, is_invited: bool) -> Any:
        if self._exempt(user_id):
            return self._not_spam
        return await self._verdict(user_id, lambda actor: rules.may_join(actor, room_id))

    @_fail_closed
    async def check_event_for_spam(self, event: Any) -> Any:
        if not self._api.is_mine(event.sender) or self._exempt(event.sender):
            return self._not_spam
        content = dict(event.content) if event.content else {}
        return await self._verdict(
            event.sender,
            lambda actor: rules.may_send(actor, event.room_id, event.type, content))

    async def on_create_room(self, requester: Any, request: dict, is_admin: bool) -> None:
        """Every room is created encrypted: add Megolm when the request has no encryption."""
        from synapse.api.errors import SynapseError

        try:
            refusal = rules.room_request_encryption(request)
        except Exception:  # noqa: BLE001 - fail closed
            refusal = INTERNAL_ERROR
        if refusal is not None:
            fields = refusal.error_fields()
            raise SynapseError(403, fields["error"], self._forbidden, additional_fields=fields)
        initial_state = request.setdefault("initial_state", [])
        if not any(isinstance(s, dict) and s.get("type") == "m.room.encryption"
                   for s in initial_state):
            initial_state.append({"type": "m.room.encryption", "state_key": "",
                                  "content": {"algorithm": rules.MEGOLM}})


class _InvalidateResource(Resource):
    """`POST …/confrere/invalidate {"user_id": ...}` from the service drops a cached state;
    `GET …/confrere/stats` reports cache hits and misses. Both need the shared secret."""

    isLeaf = True

    def __init__(self, states: UserStateClient, secret: str, stats: bool = False) -> None:
        super().__init__()
        self._stats = stats
        self._states = states
        self._secret = f"Bearer {secret}".encode()

    def render(self, request: Any) -> bytes:
        request.setHeader(b"Content-Type", b"application/json")
        header = request.getHeader(b"Authorization") or b""
        if not hmac.compare_digest(header if isinstance(header, bytes) else header.encode(),
                                   self._secret):
            request.setResponseCode(403)
            return b'{"errcode":"M_FORBIDDEN"}'
        if self._stats:  # GET: cache counters, for the benchmark and the health view
            return json.dumps({"hits": self._states.hits, "misses": self._states.misses}).encode()
        if request.method != b"POST":
            request.setResponseCode(405)
            return b'{"errcode":"M_UNRECOGNIZED"}'
        try:
            body = json.loads(request.content.read() or b"{}")
            self._states.forget(body.get("user_id"))
        except (ValueError, AttributeError):
            request.setResponseCode(400)
            return b'{"errcode":"M_NOT_JSON"}'
        return b"{}"

