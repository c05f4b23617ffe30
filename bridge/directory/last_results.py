"""The last search results shown in a conversation, kept durably: "!favori N", "!suite" (and
later "!ecrire N", "!adresser N") name a person by the number they saw, even after a restart.

One entry per (practitioner, conversation), replaced by each new search, sealed at rest with
the service's key (a search names colleagues, sometimes a town: not for a database dump).
Stored in `service_values` under a digest of the pair, so no table of its own is needed.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from bridge.storage.database import Database
from bridge.storage.sealing import SealBroken, SealedBox
from bridge.storage.values import get_value, set_value

KEY_PREFIX = "results:"


@dataclass
class LastResults:
    """A search and the page shown: `national_ids[i]` is the person numbered
    `first_number + i` on that page."""

    text: str
    page: int
    pages: int
    page_size: int = 10
    national_ids: list[str] = field(default_factory=list)

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.page_size + 1

    def numbered(self, number: int) -> str | None:
        """The national identifier shown as `number`, if it is on the page."""
        index = number - self.first_number
        return self.national_ids[index] if 0 <= index < len(self.national_ids) else None


class LastResultsStore:
    def __init__(self, database: Database, box: SealedBox) -> None:
        self.db = database
        self.box = box

    @staticmethod
    def _key(user_id: str, room_id: str) -> str:
        digest = hashlib.sha256(f"{user_id}\0{room_id}".encode()).hexdigest()
        return KEY_PREFIX + digest[:64 - len(KEY_PREFIX)]

    async def get(self, user_id: str, room_id: str) -> LastResults | None:
        """What `user_id` last saw in `room_id` (None: no search yet, or unreadable)."""
        sealed = await get_value(self.db, self._key(user_id, room_id))
        if sealed is None:
            return None
        try:
            return LastResults(**self.box.open_json(sealed))
        except (SealBroken, TypeError):
            return None

    async def put(self, user_id: str, room_id: str, results: LastResults) -> None:
        await set_value(self.db, self._key(user_id, room_id), self.box.seal_json(asdict(results)))
