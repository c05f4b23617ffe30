"""The bot explains, in a person's conversation with it, an action the access rules refused.

Element shows an unverified practitioner only "Certains de vos messages n'ont pas été envoyés";
the homeserver's reason never reaches the screen. The Synapse module reports each refusal (user
id and refusal code only, `synapse_module/refusal_notice.py`) to the internal API; here the
bot says what was refused, why and what to do, at most once per kind of refusal and person
every `QUIET` — the rest is dropped, and so is everything beyond a global rate (a flood).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from bridge.synapse_module import refusals

log = logging.getLogger(__name__)

QUIET = 5 * 60.0  # seconds between two notices of one kind to one person
GLOBAL_PER_MINUTE = 60  # notices the bot sends at most per minute, everyone together
MAX_REMEMBERED = 10_000

KNOWN = {value.code: value for value in vars(refusals).values()
         if isinstance(value, refusals.Refusal)}
# Refusals caused by the service or the server itself, not by what the person did: no notice.
SILENT = {"service_unreachable", "internal_error"}

LEAD_FR = {
    "not_verified": ("Votre dernière action (message, invitation ou nouvelle conversation) n'a "
                     "pas abouti : votre identité n'est pas encore vérifiée. D'ici là, vous ne "
                     "pouvez écrire qu'ici, au robot Confrère. Pour la faire vérifier, écrivez "
                     "!verifier.\n(Your last action was refused: your identity is not verified "
                     "yet. Type !verify here to get verified.)"),
}
GENERIC_FR = ("Le serveur Confrère a refusé votre dernière action : {fr}\n"
              "(The Confrère server refused your last action: {en})")


def is_notice(body: str) -> bool:
    """Whether a bot message is one of these notices (for clients and tests that wait for the
    answer to a command)."""
    return body.startswith((LEAD_FR["not_verified"][:40], GENERIC_FR[:40]))


def notice_text(code: str) -> str:
    """What the bot says for a refusal code (French first, then English)."""
    if code in LEAD_FR:
        return LEAD_FR[code]
    refusal = KNOWN[code]
    return GENERIC_FR.format(fr=refusal.fr, en=refusal.en)


class RefusalNotices:
    """Throttles, then sends in the background; `report` never waits for the bot."""

    def __init__(self, services: Any, *, quiet: float = QUIET,
                 per_minute: int = GLOBAL_PER_MINUTE) -> None:
        self.services = services
        self.quiet = quiet
        self.per_minute = per_minute
        self._until: dict[tuple[str, str], float] = {}
        self._minute: tuple[int, int] = (0, 0)
        self._tasks: set[asyncio.Task] = set()
        self.sent = 0
        self.dropped = 0

    def accepts(self, code: str) -> bool:
        return code in KNOWN and code not in SILENT

    def report(self, user_id: str, code: str) -> bool:
        """True when a notice will be sent; False when throttled or dropped."""
        now = time.monotonic()
        key = (user_id, code)
        if self._until.get(key, 0.0) > now:
            self.dropped += 1
            return False
        minute, count = self._minute
        if int(now // 60) != minute:
            minute, count = int(now // 60), 0
        if count >= self.per_minute:
            self.dropped += 1
            log.warning("refusal notices: more than %d a minute, the rest dropped",
                        self.per_minute)
            return False
        self._minute = (minute, count + 1)
        if len(self._until) >= MAX_REMEMBERED:
            self._until = {k: t for k, t in self._until.items() if t > now}
        self._until[key] = now + self.quiet
        task = asyncio.create_task(self._send(user_id, code))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _send(self, user_id: str, code: str) -> None:
        try:
            account = await self.services.verification.account(user_id)
            bot = getattr(self.services, "bot", None)
            if account is None or not account.onboarding_room_id or bot is None:
                return
            await bot.send_text(account.onboarding_room_id, notice_text(code))
            self.sent += 1
            log.info("refusal notice sent (%s)", code)
        except Exception as exc:  # noqa: BLE001 - a notice is best effort
            log.warning("refusal notice (%s) not sent: %s", code, type(exc).__name__)
