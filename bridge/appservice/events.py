"""Appservice events as typed objects, and hooks that receive only the kind they want.

Synapse pushes raw JSON (persisted first: `transactions.py`); a feature declares
`event_hooks=lambda context: [on(InviteToGhost, handler, context.settings)]` and its handler
gets an `InviteToGhost`, never a dict. A handler that raises is retried with back-off by the
`EventProcessor`, for hours — longer than a Synapse restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypeVar

from bridge.directory.ghosts import national_id_of
from bridge.appservice.transactions import EventHook
from bridge.config import Settings


@dataclass(frozen=True)
class Event:
    """Any event: its type, room and sender, and the raw JSON for what is not typed yet."""

    event_type: str
    room_id: str
    sender: str
    event_id: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class MembershipChange(Event):
    """`m.room.member`: `target` joined, left, was invited, kicked or banned."""

    target: str = ""
    membership: str = ""
    display_name: str | None = None


@dataclass(frozen=True)
class InviteToGhost(MembershipChange):
    """Someone invited a directory ghost: the practitioner it stands for is not on Confrère."""

    national_id: str = ""


@dataclass(frozen=True)
class Message(Event):
    """`m.room.message` (an encrypted room's messages arrive as `Event`, unreadable)."""

    msgtype: str = ""
    body: str = ""


def parse(raw: dict[str, Any], settings: Settings) -> Event:
    """The most precise type for a raw event (never raises on odd input)."""
    content = raw.get("content") if isinstance(raw.get("content"), dict) else {}
    common = dict(event_type=str(raw.get("type", "")), room_id=str(raw.get("room_id", "")),
                  sender=str(raw.get("sender", "")), event_id=raw.get("event_id"), raw=raw)
    if common["event_type"] == "m.room.member" and isinstance(raw.get("state_key"), str):
        target, membership = raw["state_key"], str(content.get("membership", ""))
        name = content.get("displayname") if isinstance(content.get("displayname"), str) \
            else None
        national_id = national_id_of(settings.appservice.ghost_prefix, target,
                                     settings.server_name)
        if membership == "invite" and national_id is not None:
            return InviteToGhost(**common, target=target, membership=membership,
                                 display_name=name, national_id=national_id)
        return MembershipChange(**common, target=target, membership=membership,
                                display_name=name)
    if common["event_type"] == "m.room.message":
        return Message(**common, msgtype=str(content.get("msgtype", "")),
                       body=str(content.get("body", "")))
    return Event(**common)


E = TypeVar("E", bound=Event)


def on(kind: type[E], handler: Callable[[E], Awaitable[None]], settings: Settings) -> EventHook:
    """An `EventHook` that calls `handler` with the events of type `kind` (subtypes too)."""
    async def hook(raw: dict[str, Any]) -> None:
        event = parse(raw, settings)
        if isinstance(event, kind):
            await handler(event)
    hook.__qualname__ = f"on({kind.__name__}, {getattr(handler, '__qualname__', handler)})"
    return hook
