"""Profile look-ups outside shared rooms go through the access rules too.

Synapse's `limit_profile_requests_to_users_who_share_rooms` answers "[403] Profile isn't
available" to anyone who shares no room with the target — which hides a colleague's badge from
the practitioner about to write to them (Element's start-chat dialog and `#/user/@…`). Turning
it off would show every profile to every account, unverified ones included. The module API has
no profile callback, so the module wraps `ProfileHandler.check_profile_query_allowed`, the one
check every `/profile/{user}` request (and its `displayname` / `avatar_url` / custom-field
variants) goes through: Synapse's own rule runs first (shared room, own profile, internal
look-ups); only when it refuses is `decide` asked, and its refusal is what the client sees.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from bridge.synapse_module.refusals import Refusal

logger = logging.getLogger(__name__)

Decide = Callable[[str, str], Awaitable[Refusal | None]]
Refuse = Callable[[Refusal], Exception]


def guard_profile_queries(handler: Any, decide: Decide, refuse: Refuse) -> None:
    """Replace `handler.check_profile_query_allowed` by Synapse's check, then ours."""
    original = handler.check_profile_query_allowed
    if getattr(original, "_confrere_guarded", False):
        return

    async def check_profile_query_allowed(target_user: Any, requester: Any = None) -> None:
        try:
            await original(target_user, requester)
            return
        except Exception as exc:  # noqa: BLE001 - only Synapse's 403 is ours to reconsider
            if getattr(exc, "code", None) != 403 or requester is None:
                raise
        refusal = await decide(requester.to_string(), target_user.to_string())
        if refusal is not None:
            raise refuse(refusal)

    check_profile_query_allowed._confrere_guarded = True  # type: ignore[attr-defined]
    handler.check_profile_query_allowed = check_profile_query_allowed
