"""How a multi-step exchange with the bot is declared: a `Dialog` made of `Step`s.

A step asks one question (French first), parses the answer into a value or refuses it with a
clear message (`Invalid`), and names the step that follows. The declaration is data: the
engine (`engine.py`) does the rest — `annuler`, `retour`, persistence, expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Awaitable, Callable, Union

Message = Union[str, tuple[str, "str | None"]]  # text, or (text, html)


class Invalid(Exception):
    """An answer that cannot be accepted; `message` tells the practitioner why (French first)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GoTo(Exception):
    """Raised by `finish` (or a parser) to send the practitioner back to an earlier step,
    e.g. a slot taken meanwhile: the answers from that step on are asked again."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step
        self.message = message


@dataclass(frozen=True)
class Answer:
    """What the practitioner sent: text, or an attachment event (identity photos, documents)."""

    text: str | None = None
    attachment: Any = None


@dataclass
class DialogContext:
    """What parsers and `finish` may use: who, where, the answers so far, the services."""

    user_id: str
    room_id: str
    data: dict[str, Any]
    services: Any = None


Parser = Callable[[Answer, DialogContext], Any]  # value, or awaitable of it; raises Invalid
Question = Union[Message, Callable[[DialogContext], Message]]


@dataclass(frozen=True)
class Step:
    name: str
    question: Question
    parse: Parser
    # The step after this one: a name, a function of the context (after the value is stored),
    # or None for "the next one in the list" (the end of the list finishes the dialog).
    next: str | Callable[[DialogContext], str | None] | None = None
    # Attachment steps receive files; text steps receive text (the other kind is refused).
    wants_attachment: bool = False


FINISH = "__finish__"


@dataclass(frozen=True)
class Dialog:
    name: str  # stable: stored with each conversation's state
    title: str  # French, shown in messages ("Vérification par pièce d'identité")
    steps: tuple[Step, ...]
    finish: Callable[[DialogContext], Awaitable[Message | None]]
    on_cancel: Callable[[DialogContext], Awaitable[None]] | None = None
    expires_after: timedelta = timedelta(hours=2)
    _by_name: dict[str, Step] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for step in self.steps:
            if step.name in self._by_name or step.name == FINISH:
                raise ValueError(f"dialog {self.name}: step {step.name!r} declared twice")
            self._by_name[step.name] = step

    def step(self, name: str) -> Step:
        return self._by_name[name]

    def has_step(self, name: str) -> bool:
        return name in self._by_name

    def following(self, step: Step, context: DialogContext) -> str:
        """The name of the step after `step` (FINISH at the end)."""
        if callable(step.next):
            chosen = step.next(context)
        else:
            chosen = step.next
        if chosen is None:
            index = self.steps.index(step)
            return self.steps[index + 1].name if index + 1 < len(self.steps) else FINISH
        if chosen != FINISH and chosen not in self._by_name:
            raise ValueError(f"dialog {self.name}: unknown step {chosen!r}")
        return chosen
