"""`confrere directory import`: an extract becomes the next generation, then replaces the current.

Reading, grouping and indexing run in a worker thread (a batch at a time) while the previous
batch is written to the database, so the event loop stays free and both cores are used. The
new generation is invisible until complete: the database switches in one transaction, then the
index pointer is replaced. A failure at any point leaves the current directory as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bridge.storage.database import Database

from .extract import BadRow, Extract
from .index import IndexBuilder, IndexGenerations
from .payload import PersonRecord, decode, encode
from .store import DirectoryStore, row

BATCH = 10_000  # persons per database write


@dataclass
class ImportReport:
    """What an import did; `to_text()` is the French summary the CLI prints."""

    source: str
    generation: int
    rows: int
    persons: int
    added: int
    updated: int
    retired: int
    bad_count: int
    bad_rows: list[BadRow] = field(default_factory=list)
    bad_key_count: int = 0
    bad_keys: list[BadRow] = field(default_factory=list)
    encoding: str = "utf-8"
    columns: int = 0
    elapsed: float = 0.0
    index_bytes: int = 0

    @property
    def unchanged(self) -> int:
        return self.persons - self.added - self.updated

    def to_json(self, listed: int = 1000) -> dict:
        out = asdict(self)
        out["bad_rows"] = [asdict(b) for b in self.bad_rows[:listed]]
        out["bad_keys"] = [asdict(b) for b in self.bad_keys[:listed]]
        out["unchanged"] = self.unchanged
        return out

    def to_text(self, listed: int = 20) -> str:
        lines = [
            f"Import terminé : {self.source}",
            f"  lignes lues : {self.rows:,}".replace(",", " "),
            f"  praticiens : {self.persons:,}".replace(",", " "),
            (
                f"  ajoutés : {self.added}, modifiés : {self.updated}, "
                f"inchangés : {self.unchanged}, retirés : {self.retired}"
            ),
            f"  lignes rejetées : {self.bad_count}",
        ]
        lines += [f"    ligne {b.line} : {b.reason}" for b in self.bad_rows[:listed]]
        if self.bad_count > listed:
            lines.append(f"    … et {self.bad_count - listed} autres")
        lines.append(f"  clés RPPS invalides : {self.bad_key_count}")
        lines += [f"    ligne {b.line} : {b.reason}" for b in self.bad_keys[:listed]]
        if self.bad_key_count > listed:
            lines.append(f"    … et {self.bad_key_count - listed} autres")
        lines.append(f"  encodage : {self.encoding}, colonnes : {self.columns}")
        lines.append(f"  durée : {self.elapsed:.1f} s, index : {self.index_bytes / 1e6:.1f} Mo")
        return "\n".join(lines)


def content_hash(payload: str) -> int:
    """64-bit fingerprint of a person's JSON, compared between generations."""
    return int.from_bytes(
        hashlib.blake2b(payload.encode(), digest_size=8).digest(), "big", signed=True
    )


async def import_extract(
    database: Database, root: Path, path: Path, *, progress: bool = True
) -> ImportReport:
    """Import `path` (.txt or .zip) as the next generation of the directory under `root`.

    Raises:
        ExtractError: the file is not an extract (nothing was changed).
        DirectoryBusy: another import or CPTS update is running.
    """
    started = time.monotonic()
    generations = IndexGenerations(root)
    extract = Extract(path)  # refuses a non-extract before anything changes
    try:
        with generations.lock():
            return await _run(database, generations, extract, progress, started)
    finally:
        extract.close()


async def reconcile(database: Database, generations: IndexGenerations) -> bool:
    """Point the index at the database's generation if a crash fell between the two switches.

    Returns True when the pointer had to be moved.
    """
    generation = await DirectoryStore(database).current_generation()
    if generation is None:
        return False
    wanted = generations.path_for(generation)
    if generations.current() == wanted or not (wanted / "meta.json").exists():
        return False
    generations.publish(generation)
    return True


async def _run(
    database: Database,
    generations: IndexGenerations,
    extract: Extract,
    show_progress: bool,
    started: float,
) -> ImportReport:
    store = DirectoryStore(database)
    await reconcile(database, generations)
    cpts = await store.cpts_map()
    generation = await store.start_import(str(extract.path))
    builder = None
    bar = None
    pending = None
    conn = await store.bulk_connection()
    try:
        builder = await asyncio.to_thread(IndexBuilder, generations.path_for(generation))
        bar = _progress_bar(extract, show_progress)
        persons = extract.persons(bar.update_to if bar else None)
        late: list[PersonRecord] = []

        def produce() -> list[tuple] | None:
            rows: list[tuple] = []
            for record in persons:
                if record.continued:
                    late.append(record)
                    continue
                payload = encode(record)
                builder.add(record, cpts.get(record.national_id, ()), payload)
                rows.append(row(generation, record, payload, content_hash(payload)))
                if len(rows) >= BATCH:
                    return rows
            return rows or None

        pending = asyncio.ensure_future(asyncio.to_thread(produce))
        while (rows := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(produce))
            await store.insert_people(conn, rows)
        for record in late:
            await _merge_late(store, conn, builder, generation, record, cpts)
        await asyncio.to_thread(builder.commit)
        if bar is not None:
            bar.close()
        stats = extract.stats
        counts = await store.publish(
            generation,
            {
                "rows": stats.rows,
                "persons": stats.persons,
                "bad_rows": stats.bad_count,
                "bad_keys": stats.bad_key_count,
            },
        )
    except BaseException:
        if pending is not None and not pending.done():
            with contextlib.suppress(BaseException):
                await pending  # let the worker thread finish its batch before cleaning up
        if bar is not None:
            bar.close()
        if builder is not None:
            builder.abort()
        await conn.close()
        await asyncio.shield(store.fail_import(generation))
        generations.discard(generation)
        raise
    await conn.close()
    generations.publish(generation)
    await store.drop_generations_except(generation)
    generations.prune()
    stats = extract.stats
    return ImportReport(
        source=str(extract.path),
        generation=generation,
        rows=stats.rows,
        persons=stats.persons,
        bad_count=stats.bad_count,
        bad_rows=stats.bad_rows,
        bad_key_count=stats.bad_key_count,
        bad_keys=stats.bad_keys,
        encoding=stats.encoding,
        columns=stats.columns,
        elapsed=time.monotonic() - started,
        index_bytes=generations.size_bytes(),
        **counts,
    )


async def _merge_late(
    store: DirectoryStore,
    conn,
    builder: IndexBuilder,
    generation: int,
    record: PersonRecord,
    cpts: dict[str, list[str]],
) -> None:
    """Fold rows of a person that came apart from their first rows into the stored entry."""
    nid = record.national_id
    stored = await store.person_data(conn, generation, nid)
    if stored is None:
        return
    merged, _ = decode(stored)
    merged.merge(record)
    payload = encode(merged)
    await store.replace_person(conn, generation, nid, payload, content_hash(payload))
    builder.delete(nid)
    builder.add(merged, cpts.get(nid, ()), payload)


def _progress_bar(extract: Extract, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    class _Bar(tqdm):
        def update_to(self, done: int, rows: int) -> None:
            self.set_postfix_str(f"{rows:,} lignes".replace(",", " "), refresh=False)
            self.update(done - self.n)

    return _Bar(
        total=extract.size,
        unit="o",
        unit_scale=True,
        unit_divisor=1024,
        desc="Import de l'annuaire",
        mininterval=0.5,
    )
