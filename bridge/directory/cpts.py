"""CPTS memberships: not in the extract, so imported from a simple CSV the service keeps.

File: one member per line, `CPTS name, national identifier` (comma, semicolon or tab; an
optional header line; an 11-digit RPPS number is accepted for its national id "8" + RPPS).
A file replaces the member lists of the CPTS it names and leaves the others alone. The people
concerned are re-indexed in place (one tantivy commit), so "CPTS Grand Douai" finds them.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert, select

from bridge.storage.database import Database

from .extract import BadRow
from .index import IndexBuilder, IndexGenerations
from .models import CptsMembership
from .payload import clean_cpts, decode
from .store import DirectoryStore
from .text import normalise_id

MAX_NAME = 255


class CptsFileError(Exception):
    """The file has no usable line at all."""


@dataclass
class CptsReport:
    cpts: list[str]
    members: int
    reindexed: int
    unknown: list[str] = field(default_factory=list)
    bad_lines: list[BadRow] = field(default_factory=list)

    def to_json(self) -> dict:
        out = asdict(self)
        out["bad_lines"] = [asdict(b) for b in self.bad_lines]
        return out

    def to_text(self) -> str:
        lines = [
            f"CPTS importées : {len(self.cpts)} ({', '.join(self.cpts)})",
            f"  membres : {self.members}, praticiens réindexés : {self.reindexed}",
        ]
        if self.unknown:
            lines.append(
                f"  identifiants absents de l'annuaire : {len(self.unknown)} "
                f"({', '.join(self.unknown[:20])})"
            )
        lines += [f"  ligne {b.line} ignorée : {b.reason}" for b in self.bad_lines[:20]]
        return "\n".join(lines)


def parse_cpts(content: str) -> tuple[dict[str, list[str]], list[BadRow]]:
    """`{cpts name: [national ids]}` and the lines that could not be used."""
    content = content.lstrip("\ufeff")
    first = content.split("\n", 1)[0]
    delimiter = max(",;\t|", key=first.count)
    members: dict[str, list[str]] = {}
    bad: list[BadRow] = []
    for line_no, cells in enumerate(csv.reader(io.StringIO(content), delimiter=delimiter), 1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            bad.append(BadRow(line_no, "deux colonnes attendues / two columns expected"))
            continue
        name, ident = clean_cpts(cells[0]), cells[1]
        if any(c.isdigit() for c in name) and not any(c.isdigit() for c in ident):
            name, ident = ident, name  # columns given the other way round
        if not any(c.isdigit() for c in ident):
            if line_no == 1:
                continue  # header
            bad.append(BadRow(line_no, "identifiant invalide / invalid identifier"))
            continue
        ident = normalise_id(ident)
        if len(name) > MAX_NAME or len(ident) > 32:
            bad.append(BadRow(line_no, "valeur trop longue / value too long"))
            continue
        listed = members.setdefault(name, [])
        if ident not in listed:
            listed.append(ident)
    return members, bad


async def import_cpts(database: Database, root: Path, path: Path) -> CptsReport:
    """Replace the members of the CPTS named in `path` and re-index the people concerned."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CptsFileError(
            f"Fichier illisible / unreadable file: {path} ({exc.strerror})"
        ) from exc
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:
        content = raw.decode("latin-1")
    members, bad = parse_cpts(content)
    if not members:
        raise CptsFileError(
            "Aucune ligne « CPTS, identifiant » exploitable / no usable 'CPTS, identifier' line"
        )
    generations = IndexGenerations(root)
    store = DirectoryStore(database)
    with generations.lock():
        async with database.session() as session:
            before = await session.scalars(
                select(CptsMembership.national_id).where(CptsMembership.cpts.in_(list(members)))
            )
            affected = set(before)
            await session.execute(
                delete(CptsMembership).where(CptsMembership.cpts.in_(list(members)))
            )
            await session.execute(
                insert(CptsMembership),
                [
                    {"cpts": name, "national_id": nid}
                    for name, ids in members.items()
                    for nid in ids
                ],
            )
            await session.commit()
        for ids in members.values():
            affected.update(ids)
        people = await store.people(sorted(affected))
        cpts = await store.cpts_map(sorted(affected))
        reindexed = 0
        current = generations.current()
        if current is not None and people:
            reindexed = await asyncio.to_thread(_reindex, current, people, cpts)
    known = set(people)
    unknown = [nid for ids in members.values() for nid in ids if nid not in known]
    return CptsReport(
        cpts=list(members),
        members=sum(len(v) for v in members.values()),
        reindexed=reindexed,
        unknown=unknown,
        bad_lines=bad,
    )


def _reindex(path: Path, people: dict[str, tuple[str, bool]], cpts: dict[str, list[str]]) -> int:
    builder = IndexBuilder(path, heap=50_000_000, threads=1)
    count = 0
    for nid, (payload, retired) in people.items():
        builder.delete(nid)
        if not retired:
            record, _ = decode(payload)
            builder.add(record, cpts.get(nid, ()), payload)
            count += 1
    builder.commit()
    return count
