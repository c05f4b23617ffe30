"""The directory as the bot, the integrator API and the appservice look-up use it.

Searches are answered from the tantivy index alone (in a worker thread, off the event loop);
`get` reads the database, which also knows the people retired from the extract. Imports and
CPTS updates go through here too, so that the reader notices them at once in this process.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge.config import Settings
from bridge.storage.database import Database

from .cpts import CptsReport, import_cpts
from .favourites import add_favourite, list_favourites, remove_favourite
from .importer import ImportReport, import_extract, reconcile
from .index import IndexGenerations
from .practitioner import Practitioner, SearchPage
from .query import Filters, IndexReader
from .store import DirectoryStore
from .text import normalise_id


class UnknownPractitioner(LookupError):
    """No entry with this national identifier in the directory."""


def directory_root(settings: Settings) -> Path:
    return settings.data_dir / "directory"


class DirectoryService:
    """Search, look-up, favourites and imports of the national directory."""

    def __init__(self, settings_or_root: Settings | Path, database: Database) -> None:
        root = (
            directory_root(settings_or_root)
            if isinstance(settings_or_root, Settings)
            else Path(settings_or_root)
        )
        self.root = root
        self.database = database
        self.generations = IndexGenerations(root)
        self.reader = IndexReader(self.generations)
        self.store = DirectoryStore(database)

    async def search(
        self,
        text: str,
        *,
        profession: str | None = None,
        specialty: str | None = None,
        city: str | None = None,
        page: int = 1,
        page_size: int = 10,
    ) -> SearchPage:
        """A page of practitioners matching `text` and the filters (never raises on odd text).

        `city` takes a city name, a postal code or a département code.
        """
        filters = Filters(
            profession=profession or None, specialty=specialty or None, city=city or None
        )
        return await asyncio.to_thread(
            self.reader.search, text or "", filters, page=page, page_size=page_size
        )

    async def get(self, national_id: str) -> Practitioner | None:
        """The entry with its sites and CPTS, or None; `retired` is set if it left the extract."""
        found = await self.get_many([normalise_id(national_id)])
        return found[0] if found else None

    async def get_many(self, national_ids: list[str]) -> list[Practitioner]:
        """Entries in the order asked; unknown identifiers are left out."""
        rows = await self.store.people(national_ids)
        cpts = await self.store.cpts_map([n for n in national_ids if n in rows])
        out = []
        for nid in national_ids:
            if nid in rows:
                payload, retired = rows[nid]
                out.append(
                    Practitioner.from_payload(
                        payload, cpts=tuple(cpts.get(nid, ())), retired=retired
                    )
                )
        return out

    async def count(self) -> int:
        """Number of searchable (not retired) people."""
        return await asyncio.to_thread(self.reader.count)

    # -- favourites ---------------------------------------------------------------------
    async def add_favourite(self, user_id: str, national_id: str) -> bool:
        """Raises UnknownPractitioner if not in the directory; False if already a favourite."""
        national_id = normalise_id(national_id)
        if not await self.store.people([national_id]):
            raise UnknownPractitioner(national_id)
        return await add_favourite(self.database, user_id, national_id)

    async def remove_favourite(self, user_id: str, national_id: str) -> bool:
        return await remove_favourite(self.database, user_id, normalise_id(national_id))

    async def favourite_ids(self, user_id: str) -> list[str]:
        return await list_favourites(self.database, user_id)

    async def favourites(self, user_id: str) -> list[Practitioner]:
        """The user's favourites, oldest first (retired ones included, flagged)."""
        return await self.get_many(await self.favourite_ids(user_id))

    # -- imports ------------------------------------------------------------------------
    async def reconcile(self) -> bool:
        """At start-up: repair the index pointer after a crash between the two switches."""
        with self.generations.lock():
            moved = await reconcile(self.database, self.generations)
        self.reader.invalidate()
        return moved

    async def import_extract(self, path: Path, progress: bool = True) -> ImportReport:
        """Import, then re-link verified accounts and queue their badges' refresh."""
        from bridge.verification.relink import after_import  # accounts depend on the directory

        try:
            report = await import_extract(self.database, self.root, Path(path), progress=progress)
        finally:
            self.reader.invalidate()
        await after_import(self.database, self)
        return report

    async def import_cpts(self, path: Path) -> CptsReport:
        try:
            return await import_cpts(self.database, self.root, Path(path))
        finally:
            self.reader.invalidate()
