"""Fixtures of the directory tests: extracts written on the fly and services on both back-ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.directory.service import DirectoryService
from bridge.directory.synthetic import HEADER_52
from bridge.storage.database import Database

# The shared sample of the national extract, in its real format (copied from shared/data so
# that the suite does not depend on where shared/ lies).
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "ps_libreacces_sample.txt"


def sample_lines() -> list[str]:
    return SAMPLE.read_text(encoding="utf-8").splitlines()


def by_header(lines: list[str]) -> list[dict[str, str]]:
    """Rows of an extract as dicts keyed by header (an independent, naive reading)."""
    header = lines[0].split("|")
    return [dict(zip(header, line.split("|"))) for line in lines[1:] if line]


def person_line(
    nid: str,
    last: str,
    first: str,
    *,
    prof=("10", "Médecin"),
    spec=("SM54", "Médecine générale (SM)"),
    org="CABINET",
    city="DOUAI",
    postal="59500",
    dept=("59", "Nord"),
    id_type="8",
) -> str:
    """One 52-column activity row with the given values (others empty)."""
    values = dict.fromkeys(HEADER_52, "")
    values.update(
        {
            "Type d'identifiant PP": id_type,
            "Identifiant PP": nid[1:],
            "Identification nationale PP": nid,
            "Code civilité d'exercice": "DR",
            "Libellé civilité d'exercice": "Docteur",
            "Nom d'exercice": last,
            "Prénom d'exercice": first,
            "Code profession": prof[0],
            "Libellé profession": prof[1],
            "Code savoir-faire": spec[0],
            "Libellé savoir-faire": spec[1],
            "Raison sociale site": org,
            "Code postal (coord. structure)": postal,
            "Libellé commune (coord. structure)": city,
            "Code Département (structure)": dept[0],
            "Libellé Département (structure)": dept[1],
        }
    )
    return "|".join(values[h] for h in HEADER_52) + "|"


HEADER_LINE = "|".join(HEADER_52) + "|"


def write_extract(path: Path, lines: list[str], *, bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
async def service(database: Database, tmp_path) -> DirectoryService:
    """A directory service over an empty directory, on each back-end."""
    return DirectoryService(tmp_path / "directory", database)
