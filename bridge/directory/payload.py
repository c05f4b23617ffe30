"""The stored form of a person: their extract values, in fixed order, as one short text.

Line 1 is `1|` (format version) and the person's fields; then one `S|` line per specialty,
one `A|` line per site and, in the index only, one `C|` line with the CPTS names. Fields are
separated by `|` and lines by `\n`, which the extract itself guarantees never occur inside a
field (it uses them as its own separators). Joining strings is several times cheaper than
JSON for 1.2 million people, and the same text feeds the database, the index and the
change fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERSION = "1"
PERSON_FIELDS = (
    "id_type",
    "identifier",
    "national_id",
    "civ_code",
    "civ",
    "civ_ex_code",
    "civ_ex",
    "last_name",
    "first_name",
    "prof_code",
    "prof",
)
SPEC_FIELDS = ("sf_code", "sf", "sf_type")
SITE_FIELDS = (
    "mode_code",
    "mode",
    "raison_sociale",
    "enseigne",
    "compl_dest",
    "compl_geo",
    "num_voie",
    "indice_voie",
    "type_voie",
    "voie",
    "distribution",
    "cedex",
    "postal_code",
    "commune_code",
    "city",
    "country",
    "phone",
    "phone2",
    "fax",
    "email",
    "dept_code",
    "dept",
    "finess",
    "finess_ej",
    "siret",
    "siren",
    "structure_id",
    "sector",
    "role",
    "activity_kind",
)
P = {name: i for i, name in enumerate(PERSON_FIELDS)}
S = {name: i for i, name in enumerate(SITE_FIELDS)}
ID_TYPES = {"8": "RPPS", "0": "ADELI"}


@dataclass
class PersonRecord:
    """One person as read from the extract: raw value tuples, in the orders above."""

    person: tuple[str, ...]
    specialties: list[tuple[str, ...]] = field(default_factory=list)
    sites: list[tuple[str, ...]] = field(default_factory=list)
    first_line: int = 0
    continued: bool = False

    @property
    def national_id(self) -> str:
        return self.person[P["national_id"]].strip()

    def merge(self, other: PersonRecord) -> None:
        for item in other.specialties:
            if item not in self.specialties:
                self.specialties.append(item)
        for item in other.sites:
            if item not in self.sites:
                self.sites.append(item)


def clean_cpts(name: str) -> str:
    return " ".join(name.replace("|", " ").split())


def encode(record: PersonRecord, cpts: list[str] | tuple[str, ...] = ()) -> str:
    parts = [VERSION + "|" + "|".join(record.person)]
    parts += ["S|" + "|".join(s) for s in record.specialties]
    parts += ["A|" + "|".join(s) for s in record.sites]
    if cpts:
        parts.append("C|" + "|".join(clean_cpts(c) for c in cpts))
    return "\n".join(parts)


def decode(payload: str) -> tuple[PersonRecord, list[str]]:
    """The record and the CPTS names stored with it."""
    lines = payload.split("\n")
    head = lines[0].split("|")
    if head[0] != VERSION:
        raise ValueError(f"unknown directory payload version {head[0]!r}")
    record = PersonRecord(tuple(head[1:]))
    cpts: list[str] = []
    for line in lines[1:]:
        kind, _, rest = line.partition("|")
        if kind == "S":
            record.specialties.append(tuple(rest.split("|")))
        elif kind == "A":
            record.sites.append(tuple(rest.split("|")))
        elif kind == "C":
            cpts = rest.split("|")
    return record, cpts
