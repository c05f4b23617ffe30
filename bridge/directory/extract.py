"""Streaming reader of the "Personne_activite" extract: one row per activity, one entry per person.

Memory stays bounded: the file is read line by line (from a `.txt` or straight out of the
published `.zip`) and rows are grouped while they follow each other, which is how the ANS
publishes them. A person whose rows are scattered is yielded once per run of rows with
`continued=True` after the first; the importer merges those.

Encoding: UTF-8 with or without BOM. When the header itself is not UTF-8 the file is an old
latin-1 extract and is decoded as such; in a UTF-8 file a line that does not decode is a bad
row ("broken encoding"), skipped and reported, never guessed.
"""

from __future__ import annotations

import io
import operator
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .columns import map_header
from .payload import PERSON_FIELDS, SITE_FIELDS, SPEC_FIELDS, P, PersonRecord
from .text import luhn_valid

MEMBER_PREFIX = "PS_LibreAcces_Personne_activite"
MAX_ID = 32  # longest national identifier we store (real ones have 10 to 12 characters)
KEPT_BAD_ROWS = 1000  # listed in the report; all are counted

# Without any of these an activity row has no place: the person stays, without that site.
_WHERE = (
    "raison_sociale",
    "enseigne",
    "postal_code",
    "city",
    "phone",
    "email",
    "finess",
    "siret",
    "structure_id",
    "cedex",
    "voie",
)


class ExtractError(Exception):
    """The file cannot be imported at all (not an extract, missing key columns, unreadable)."""


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass
class ExtractStats:
    """What reading the file found; filled while streaming."""

    rows: int = 0
    persons: int = 0
    bad_count: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    bad_key_count: int = 0
    bad_keys: list[BadRow] = field(default_factory=list)
    encoding: str = "utf-8"
    columns: int = 0

    def bad(self, line: int, reason: str) -> None:
        self.bad_count += 1
        if len(self.bad_rows) < KEPT_BAD_ROWS:
            self.bad_rows.append(BadRow(line, reason))

    def bad_key(self, line: int, reason: str) -> None:
        self.bad_key_count += 1
        if len(self.bad_keys) < KEPT_BAD_ROWS:
            self.bad_keys.append(BadRow(line, reason))


def open_extract(path: Path) -> tuple[io.BufferedIOBase, int, str]:
    """Binary stream of the extract, its uncompressed size and its name (zip member or file)."""
    path = Path(path)
    if not path.exists():
        raise ExtractError(f"Fichier introuvable / file not found: {path}")
    if zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        members = [
            i
            for i in archive.infolist()
            if Path(i.filename).name.startswith(MEMBER_PREFIX) and i.filename.endswith(".txt")
        ]
        if not members:
            archive.close()
            raise ExtractError(
                f"Aucun fichier {MEMBER_PREFIX}_*.txt dans l'archive / "
                f"no {MEMBER_PREFIX}_*.txt member in the zip: {path}"
            )
        info = max(members, key=lambda i: i.filename)
        return (
            io.BufferedReader(archive.open(info), buffer_size=1 << 20),
            info.file_size,
            info.filename,
        )
    return open(path, "rb", buffering=1 << 20), path.stat().st_size, path.name


class Extract:
    """An opened extract whose header has been checked; iterate `persons()` once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._stream, self.size, self.name = open_extract(self.path)
        self.stats = ExtractStats()
        try:
            raw = self._stream.readline()
            self.bytes_read = len(raw)
            header = self._decode_header(raw)
        except BaseException:
            self._stream.close()
            raise
        names = header.rstrip("\r\n").split("|")
        self._width = len(names)
        if names and names[-1] == "":
            names = names[:-1]
        positions, missing = map_header(names)
        if missing:
            self._stream.close()
            listed = ", ".join(f"« {m} »" for m in missing)
            raise ExtractError(
                f"Ce fichier n'est pas un extrait PS_LibreAcces exploitable : colonnes manquantes "
                f"{listed}. L'annuaire actuel n'a pas été modifié. / Not a usable PS_LibreAcces "
                f"extract: missing columns {', '.join(missing)}. The current directory is unchanged."
            )
        self.stats.columns = len(names)
        self.known_fields = sorted(positions)
        absent = self._width  # index of the "" appended to every row

        def getter(names):
            return operator.itemgetter(*[positions.get(n, absent) for n in names])

        self._person = getter(PERSON_FIELDS)
        self._spec = getter(SPEC_FIELDS)
        self._site = getter(SITE_FIELDS)
        self._where = getter(_WHERE)
        self._nid = positions["national_id"]
        self._id_type = positions.get("id_type", absent)
        self._identifier = positions.get("identifier", absent)

    def _decode_header(self, raw: bytes) -> str:
        if not raw:
            raise ExtractError(f"Fichier vide / empty file: {self.path}")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.stats.encoding = "latin-1"
            return raw.decode("latin-1")

    def close(self) -> None:
        self._stream.close()

    def persons(self, progress: Callable[[int, int], None] | None = None) -> Iterator[PersonRecord]:
        """Yield each person once per run of consecutive rows; report bad rows in `stats`."""
        stats, width = self.stats, self._width
        get_person, get_spec, get_site, get_where = (
            self._person,
            self._spec,
            self._site,
            self._where,
        )
        nid_i = self._nid
        latin1 = stats.encoding == "latin-1"
        seen: set[str] = set()
        current: PersonRecord | None = None
        current_id = None
        sites: set[tuple] = set()
        specialties: set[tuple] = set()
        line_no = 1
        consumed = self.bytes_read
        for raw in self._stream:
            line_no += 1
            consumed += len(raw)
            if progress is not None and line_no % 20000 == 0:
                progress(consumed, stats.rows)
            try:
                line = raw.decode("latin-1" if latin1 else "utf-8")
            except UnicodeDecodeError:
                stats.bad(line_no, "encodage invalide (UTF-8) / broken encoding")
                continue
            line = line.rstrip("\r\n")
            if not line:
                continue
            if "\x00" in line:
                stats.bad(line_no, "caractère nul / NUL character")
                continue
            parts = line.split("|")
            if len(parts) != width:
                stats.bad(
                    line_no,
                    f"{len(parts)} champs au lieu de {width} / "
                    f"{len(parts)} fields instead of {width}",
                )
                continue
            parts.append("")
            nid = parts[nid_i].strip()
            if not nid:
                stats.bad(line_no, "identifiant national vide / empty national identifier")
                continue
            if len(nid) > MAX_ID:
                stats.bad(line_no, "identifiant national trop long / national identifier too long")
                continue
            stats.rows += 1
            if nid != current_id:
                if current is not None:
                    yield current
                continued = nid in seen
                if not continued:
                    seen.add(nid)
                    stats.persons += 1
                person = get_person(parts)
                if person[P["national_id"]] != nid:
                    person = (*person[: P["national_id"]], nid, *person[P["national_id"] + 1 :])
                current = PersonRecord(person, [], [], line_no, continued)
                current_id = nid
                sites = set()
                specialties = set()
                if (
                    not continued
                    and parts[self._id_type] == "8"
                    and not _rpps_ok(parts[self._identifier].strip(), nid)
                ):
                    stats.bad_key(line_no, f"clé RPPS invalide / bad RPPS check digit: {nid}")
            spec = get_spec(parts)
            if (spec[0] or spec[1]) and spec not in specialties:
                specialties.add(spec)
                current.specialties.append(spec)
            if any(get_where(parts)):
                site = get_site(parts)
                if site not in sites:
                    sites.add(site)
                    current.sites.append(site)
        if current is not None:
            yield current
        if progress is not None:
            progress(consumed, stats.rows)


def _rpps_ok(identifier: str, nid: str) -> bool:
    rpps = identifier or nid[1:]
    return len(rpps) == 11 and luhn_valid(rpps)
