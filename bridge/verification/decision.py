"""A verification decision, as announced to the listeners (badge, messages, document photos…).

Its own module so that the service that takes decisions and the worker that retries their
follow-ups (`followups.py`) both import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from bridge.accounts.states import Method, State


@dataclass(frozen=True)
class Decision:
    user_id: str
    state: State  # CONFLICT: the national identifier belongs to another account
    method: Method | str | None
    actor: str
    reason: str | None = None
    national_id: str | None = None


Listener = Callable[[Decision], Awaitable[None]]


