"""When the bot tells a sender it could not decrypt their message.

A missing room key usually concerns a whole Megolm session (every message of one device until
it rotates), and in a group every member's undecryptable message would draw a notice: that is
spam. So: at most one notice per (room, sender, session), and in a room with more than two
members at most one notice per room per `group_interval` seconds. The room-key request is sent
every time regardless (it is what actually repairs things).
"""

from __future__ import annotations

import time
from typing import Callable


class UndecryptableNotices:
    def __init__(self, group_interval: float = 300.0,
                 clock: Callable[[], float] = time.monotonic, capacity: int = 5000) -> None:
        self.group_interval = group_interval
        self.clock = clock
        self.capacity = capacity
        self._noticed: dict[tuple[str, str, str], None] = {}
        self._room_last: dict[str, float] = {}

    def should_notify(self, room_id: str, sender: str, session_id: str, *, direct: bool) -> bool:
        key = (room_id, sender, session_id)
        if key in self._noticed:
            return False
        now = self.clock()
        if not direct:
            last = self._room_last.get(room_id)
            if last is not None and now - last < self.group_interval:
                return False
            self._room_last[room_id] = now
        self._noticed[key] = None
        if len(self._noticed) > self.capacity:
            self._noticed.pop(next(iter(self._noticed)))
        if len(self._room_last) > self.capacity:
            self._room_last.pop(next(iter(self._room_last)))
        return True
