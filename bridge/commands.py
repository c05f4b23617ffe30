"""The bot's command router: declared commands, French names with English aliases.

Handlers live in `bridge/handlers/`, one module per feature; each module exposes
`register(router)` and declares its commands with `Command(...)`. Help is generated from
these declarations, so a command cannot exist without its help line.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

log = logging.getLogger(__name__)

PREFIX = "!"


class Replier(Protocol):
    async def __call__(self, text: str, html: str | None = None) -> None: ...


@dataclass
class CommandContext:
    """What a handler gets: who asked, where, the arguments, and how to answer."""

    sender: str
    room_id: str
    args: str
    reply: Replier
    services: Any = None
    router: "CommandRouter | None" = None


Handler = Callable[[CommandContext], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    help_fr: str
    help_en: str
    aliases: tuple[str, ...] = ()
    usage: str = ""
    section: str = "Général"


@dataclass
class CommandRouter:
    """Maps `!name` (and aliases) to handlers; unknown commands get a helpful answer."""

    services: Any = None
    commands: list[Command] = field(default_factory=list)
    _by_name: dict[str, Command] = field(default_factory=dict)

    def register(self, command: Command) -> None:
        for name in (command.name, *command.aliases):
            key = name.lower()
            if key in self._by_name:
                raise ValueError(f"command !{name} registered twice")
            self._by_name[key] = command
        self.commands.append(command)

    def lookup(self, name: str) -> Command | None:
        return self._by_name.get(name.lower())

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name.lower(), list(self._by_name), n=1, cutoff=0.6)
        return close[0] if close else None

    async def dispatch(self, sender: str, room_id: str, text: str, reply: Replier) -> bool:
        """Run the command in `text`; return False when `text` is not a command at all."""
        text = text.strip()
        if not text.startswith(PREFIX) or len(text) == 1:
            return False
        name, _, args = text[len(PREFIX):].partition(" ")
        command = self.lookup(name)
        if command is None:
            await reply(*unknown_command_message(name, self.suggest(name)))
            return True
        context = CommandContext(sender=sender, room_id=room_id, args=args.strip(), reply=reply,
                                 services=self.services, router=self)
        try:
            await command.handler(context)
        except Exception:  # noqa: BLE001 - one failing command must not stop the bot
            log.exception("command !%s failed", command.name)
            await reply(
                "Désolé, une erreur interne a empêché de traiter votre commande. "
                "Réessayez dans un instant ; si cela persiste, contactez le support.\n"
                "(Sorry, an internal error occurred; please try again.)"
            )
        return True


def unknown_command_message(name: str, suggestion: str | None) -> tuple[str, str]:
    hint = f" Vouliez-vous dire !{suggestion} ?" if suggestion else ""
    hint_en = f" Did you mean !{suggestion}?" if suggestion else ""
    text = (
        f"Commande inconnue : !{name}.{hint} Tapez !aide pour la liste des commandes.\n"
        f"(Unknown command !{name}.{hint_en} Type !help for the list.)"
    )
    html = (
        f"Commande inconnue : <code>!{_escape(name)}</code>.{_escape(hint)} "
        "Tapez <code>!aide</code> pour la liste des commandes.<br>"
        f"<em>(Unknown command.{_escape(hint_en)} Type <code>!help</code> for the list.)</em>"
    )
    return text, html


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
