"""The tantivy index: its schema, one document per person, and generations on disk.

Layout under `<data>/directory/`: one `index-<generation>/` per import and a `CURRENT` file
naming the one readers use. An import builds a new directory and then replaces `CURRENT`
atomically (`os.replace`), so a reader sees the old directory or the new one, never a half.

Text is folded by the index analyser (simple words, lowercase, ASCII folding) exactly as
`text.words` folds query words. Each document stores the person's JSON so that a result page
is served from the index alone (`payload` format).
"""

from __future__ import annotations

import contextlib
import fcntl
import operator
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import tantivy

from .payload import P, PersonRecord, S, encode
from .text import MAX_WORD

ANALYZER = "fr_folded"
# `all` holds every searchable word and is what a query word must match (one posting list
# per word keeps multi-word queries fast); the others serve ranking (names) and filters.
TEXT_FIELDS = ("all", "last", "first", "prof", "spec", "place")
POINTER = "CURRENT"
WRITER_HEAP = 256_000_000


class DirectoryBusy(Exception):
    """Another import or CPTS update holds the directory."""


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("nid", stored=True, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=ANALYZER, index_option="basic")
    builder.add_bytes_field("doc", stored=True)
    return builder.build()


SCHEMA = _schema()


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_WORD))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def open_index(path: Path) -> tantivy.Index:
    """Open (or create) the index in `path` with our analyser registered."""
    path.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
    index.register_tokenizer(ANALYZER, _analyzer())
    return index


_ORG = operator.itemgetter(S["raison_sociale"], S["enseigne"])
_PLACE = operator.itemgetter(S["city"], S["cedex"], S["postal_code"], S["dept_code"], S["dept"])
_NAMES = operator.itemgetter(
    P["national_id"], P["last_name"], P["first_name"], P["prof"], P["prof_code"]
)


def document(
    record: PersonRecord, cpts: list[str] | tuple[str, ...] = (), payload: str | None = None
) -> tantivy.Document:
    """The index document of one person (CPTS names come from the service's own table).

    `payload` is `encode(record)` when the caller already has it (and `cpts` is empty).
    """
    nid, last, first, prof, prof_code = _NAMES(record.person)
    doc = tantivy.Document()
    doc.add_text("nid", nid)
    doc.add_text("last", last)
    doc.add_text("first", first)
    profession = f"{prof} {prof_code}"
    doc.add_text("prof", profession)
    everything = [last, first, profession]
    if record.specialties:
        specialties = " ".join(f"{s[1]} {s[0]}" for s in record.specialties)
        doc.add_text("spec", specialties)
        everything.append(specialties)
    sites = record.sites
    if sites:
        if len(sites) == 1:
            orgs = " ".join(_ORG(sites[0]))
            places = " ".join(_PLACE(sites[0]))
        else:
            orgs = " ".join({x for s in sites for x in _ORG(s)})
            places = " ".join({x for s in sites for x in _PLACE(s)})
        doc.add_text("place", places)
        everything += (orgs, places)
    if cpts:
        everything.append(" ".join(cpts))
        payload = encode(record, cpts)
    elif payload is None:
        payload = encode(record)
    doc.add_text("all", " ".join(everything))
    doc.add_bytes("doc", payload.encode())
    return doc


class IndexBuilder:
    """Writes one generation (or updates the current one, for CPTS changes)."""

    def __init__(self, path: Path, *, heap: int = WRITER_HEAP, threads: int = 0) -> None:
        self.path = path
        self.index = open_index(path)
        self.writer = self.index.writer(heap_size=heap, num_threads=threads)

    def add(
        self,
        record: PersonRecord,
        cpts: list[str] | tuple[str, ...] = (),
        payload: str | None = None,
    ) -> None:
        self.writer.add_document(document(record, cpts, payload))

    def delete(self, national_id: str) -> None:
        self.writer.delete_documents_by_term("nid", national_id)

    def commit(self) -> None:
        self.writer.commit()
        self.writer.wait_merging_threads()

    def abort(self) -> None:
        """Drop what was added; failures are moot since the directory is thrown away."""
        with contextlib.suppress(Exception):
            self.writer.rollback()


class IndexGenerations:
    """The generations of the index under one root and the pointer to the current one."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, generation: int) -> Path:
        return self.root / f"index-{generation}"

    @property
    def pointer(self) -> Path:
        return self.root / POINTER

    def current(self) -> Path | None:
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.root / name
        return path if name and path.is_dir() else None

    def publish(self, generation: int) -> None:
        """Point readers at `generation` in one atomic rename."""
        tmp = self.root / f".{POINTER}.tmp"
        tmp.write_text(self.path_for(generation).name + "\n", encoding="utf-8")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.pointer)

    def discard(self, generation: int) -> None:
        shutil.rmtree(self.path_for(generation), ignore_errors=True)

    def prune(self) -> None:
        """Remove every generation but the current one (open readers keep their files)."""
        current = self.current()
        for path in self.root.glob("index-*"):
            if path != current:
                shutil.rmtree(path, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Only one writer (import or CPTS update) at a time, across processes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DirectoryBusy(
                    "Une mise à jour de l'annuaire est déjà en cours. / "
                    "A directory update is already running."
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def size_bytes(self) -> int:
        current = self.current()
        if current is None:
            return 0
        return sum(f.stat().st_size for f in current.rglob("*") if f.is_file())
