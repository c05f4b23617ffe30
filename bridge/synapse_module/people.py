"""Callbacks about people rather than rooms: who appears in the user directory, whose profile
a look-up may see, and the one invitation a guest stand-in may send (handing its seat over to
the verified person it stood for). Mixed into `AccessRules`, which provides `states`,
`_parties`, `_privileged`, `_ghost` and `_local`."""

from __future__ import annotations

import logging
from typing import Any

from bridge.synapse_module import rules
from bridge.synapse_module.refusals import INTERNAL_ERROR, REMOTE_USER, Refusal

logger = logging.getLogger(__name__)


class PeopleRules:
    states: Any
    _parties: Any

    async def check_username_for_spam(self, user_profile: dict, requester_id: str) -> bool:
        """User directory search: True hides `user_profile` from `requester_id`'s results.
        Fails closed (hidden) on any error."""
        try:
            target_id = str(user_profile["user_id"])
            searcher = await self.states.get(requester_id)
            if searcher is None or not searcher.verified:
                return True
            target = None if self._privileged(target_id) or self._ghost(target_id) \
                else await self.states.get(target_id)
            return not rules.may_find_in_directory(searcher, target_id, target, self._parties)
        except Exception:  # noqa: BLE001 - fail closed: hidden
            logger.exception("user directory rule failed; hiding the entry")
            return True

    async def profile_refusal(self, requester_id: str, target_id: str) -> Refusal | None:
        """A profile look-up Synapse refused (no shared room): ours to allow or not."""
        try:
            requester = await self.states.get(requester_id)
            target = None if self._privileged(target_id) and not self._ghost(target_id) \
                else await self.states.get(target_id)
            return rules.may_see_profile(requester, target_id, target, self._parties)
        except Exception:  # noqa: BLE001 - fail closed
            logger.exception("profile rule failed; refusing")
            return INTERNAL_ERROR

    async def _hand_over_refusal(self, stand_in: str, invitee: str) -> Refusal | None:
        """A guest stand-in inviting the verified person it stood for (see rules)."""
        if not self._local(invitee):
            return REMOTE_USER
        return rules.may_hand_over(await self.states.get(stand_in, fresh=True), invitee,
                                   await self.states.get(invitee, fresh=True))
