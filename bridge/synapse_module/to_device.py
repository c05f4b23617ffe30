"""To-device messages (Olm key shares, verification requests, custom types) go through the
access rules too.

Synapse's module API has no to-device callback, so the module wraps the one method every
`/sendToDevice` request goes through, `DeviceMessageHandler.send_device_message`, on the
homeserver (main process or worker) it is loaded into. The wrapper asks `decide` which
recipients the sender may reach: messages to the others are dropped; when none is left the
request is refused with the first reason, so the client shows why.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from bridge.synapse_module.refusals import Refusal

logger = logging.getLogger(__name__)

Decide = Callable[[str, list[str]], Awaitable[dict[str, Refusal | None]]]
Refuse = Callable[[Refusal], Exception]


def guard_to_device(handler: Any, decide: Decide, refuse: Refuse) -> None:
    """Replace `handler.send_device_message` by a version that applies `decide` first."""
    original = handler.send_device_message
    if getattr(original, "_confrere_guarded", False):
        return

    async def send_device_message(requester: Any, message_type: str,
                                  messages: dict[str, dict[str, Any]]) -> None:
        sender = requester.user.to_string()
        verdicts = await decide(sender, list(messages))
        allowed = {user: by_device for user, by_device in messages.items()
                   if verdicts.get(user, _MISSING) is None}
        refused = [verdicts[user] for user in messages if verdicts.get(user) is not None]
        if refused:
            logger.info("to-device %s: %d of %d recipients refused (%s)", message_type,
                        len(refused), len(messages), refused[0].code)
        if not allowed and refused:
            raise refuse(refused[0])
        if allowed:
            await original(requester, message_type, allowed)

    send_device_message._confrere_guarded = True  # type: ignore[attr-defined]
    handler.send_device_message = send_device_message


_MISSING = object()
