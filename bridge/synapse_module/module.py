"""Registers the access-rules callbacks with Synapse; every callback fails closed."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bridge.synapse_module.rules import INTERNAL_ERROR, Refusal, decide
from bridge.synapse_module.state_client import UserStateClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessRulesConfig:
    service_url: str
    secret: str
    exempt_users: tuple[str, ...]
    exempt_user_prefixes: tuple[str, ...]
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
    """Synapse module: asks the Confrère service who a user is, then applies `rules.decide`."""

    def __init__(self, config: AccessRulesConfig, api: Any) -> None:
        from synapse.module_api import NOT_SPAM
        from synapse.module_api.errors import Codes

        self._config = config
        self._api = api
        self._not_spam = NOT_SPAM
        self._forbidden = Codes.FORBIDDEN
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

    @staticmethod
    def parse_config(config: dict) -> AccessRulesConfig:
        from synapse.module_api.errors import ConfigError

        try:
            return AccessRulesConfig(
                service_url=str(config["service_url"]),
                secret=str(config["secret"]),
                exempt_users=tuple(config.get("exempt_users", ())),
                exempt_user_prefixes=tuple(config.get("exempt_user_prefixes", ())),
                cache_seconds=float(config.get("cache_seconds", 30)),
                timeout_seconds=float(config.get("timeout_seconds", 5)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"confrere access rules: invalid config ({exc})") from exc

    def _exempt(self, user_id: str) -> bool:
        return user_id in self._config.exempt_users or any(
            user_id.startswith(prefix) for prefix in self._config.exempt_user_prefixes
        )

    def _deny(self, refusal: Refusal) -> tuple[Any, dict]:
        return (self._forbidden, refusal.error_fields())

    async def _check(self, action: str, user_id: str) -> Any:
        if self._exempt(user_id):
            return self._not_spam
        refusal = decide(action, await self.states.get(user_id))
        return self._not_spam if refusal is None else self._deny(refusal)

    @_fail_closed
    async def user_may_create_room(self, user_id: str, room_config: dict) -> Any:
        return await self._check("create_room", user_id)

    @_fail_closed
    async def user_may_invite(self, inviter: str, invitee: str, room_id: str) -> Any:
        return await self._check("invite", inviter)

    @_fail_closed
    async def user_may_join_room(self, user_id: str, room_id: str, is_invited: bool) -> Any:
        return await self._check("join", user_id)

    @_fail_closed
    async def check_event_for_spam(self, event: Any) -> Any:
        if not self._api.is_mine(event.sender):
            return self._not_spam
        return await self._check("send", event.sender)
