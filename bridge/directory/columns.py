"""Columns of the extract, recognised by name whatever their position or small respellings.

A header is reduced to a key (accents, case, punctuation, "(coord. structure)" and little
words dropped, e.g. "Code Département (structure)" -> "codedepartement"); each field of
interest lists the keys it answers to. The 52- and 56-column published variants both map here.
"""

from __future__ import annotations

import re

from .text import fold

_NOISE = {"coord", "structure", "de", "du", "des", "d", "l", "la", "le", "site"}
_SPLIT = re.compile(r"[^a-z0-9]+")


def header_key(name: str) -> str:
    """Comparable form of a header name ("Libellé Voie (coord. structure)" -> "libellevoie")."""
    parts = [p for p in _SPLIT.split(fold(name)) if p and p not in _NOISE]
    return "".join(parts)


# field -> (published header, other spellings seen or expected)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "id_type": ("Type d'identifiant PP", ("Type identifiant PP", "Type d'identifiant")),
    "identifier": ("Identifiant PP", ()),
    "national_id": (
        "Identification nationale PP",
        ("Identifiant national PP", "Identification nationale"),
    ),
    "civ_ex_code": ("Code civilité d'exercice", ()),
    "civ_ex": ("Libellé civilité d'exercice", ()),
    "civ_code": ("Code civilité", ()),
    "civ": ("Libellé civilité", ()),
    "last_name": ("Nom d'exercice", ("Nom d'usage", "Nom exercice")),
    "first_name": ("Prénom d'exercice", ("Prénom d'usage", "Prénom exercice")),
    "prof_code": ("Code profession", ()),
    "prof": ("Libellé profession", ()),
    "sf_type": ("Libellé type savoir-faire", ()),
    "sf_code": ("Code savoir-faire", ()),
    "sf": ("Libellé savoir-faire", ()),
    "mode_code": ("Code mode exercice", ("Code mode d'exercice",)),
    "mode": ("Libellé mode exercice", ("Libellé mode d'exercice",)),
    "siret": ("Numéro SIRET site", ("SIRET",)),
    "siren": ("Numéro SIREN site", ("SIREN",)),
    "finess": ("Numéro FINESS site", ("FINESS site", "Numéro FINESS")),
    "finess_ej": ("Numéro FINESS établissement juridique", ("FINESS établissement juridique",)),
    "structure_id": ("Identifiant technique de la structure", ()),
    "raison_sociale": ("Raison sociale site", ("Raison sociale",)),
    "enseigne": ("Enseigne commerciale site", ("Enseigne commerciale", "Enseigne")),
    "compl_dest": ("Complément destinataire (coord. structure)", ()),
    "compl_geo": ("Complément point géographique (coord. structure)", ()),
    "num_voie": ("Numéro Voie (coord. structure)", ("N° voie", "Numéro de voie")),
    "indice_voie": ("Indice répétition voie (coord. structure)", ("Indice de répétition voie",)),
    "type_voie": ("Libellé type de voie (coord. structure)", ("Libellé type voie",)),
    "voie": ("Libellé Voie (coord. structure)", ("Libellé de la voie",)),
    "distribution": ("Mention distribution (coord. structure)", ()),
    "cedex": ("Bureau cedex (coord. structure)", ()),
    "postal_code": ("Code postal (coord. structure)", ()),
    "commune_code": ("Code commune (coord. structure)", ()),
    "city": ("Libellé commune (coord. structure)", ("Commune",)),
    "country": ("Libellé pays (coord. structure)", ()),
    "phone": ("Téléphone (coord. structure)", ("Tél", "Numéro de téléphone")),
    "phone2": ("Téléphone 2 (coord. structure)", ()),
    "fax": ("Télécopie (coord. structure)", ("Fax",)),
    "email": ("Adresse e-mail (coord. structure)", ("Adresse mail", "Courriel", "E-mail")),
    "dept_code": ("Code Département (structure)", ()),
    "dept": ("Libellé Département (structure)", ()),
    "sector": ("Libellé secteur d'activité", ()),
    "role_code": ("Code fonction", ()),
    "role": ("Libellé fonction", ()),
    "activity_kind_code": ("Code genre d'activité", ("Code genre activité",)),
    "activity_kind": ("Libellé genre d'activité", ("Libellé genre activité",)),
}

# Without these the file is not an extract we can use: refused before anything changes.
REQUIRED = ("national_id", "last_name", "first_name", "prof_code", "prof")

_BY_KEY: dict[str, str] = {}
for _field, (_published, _variants) in FIELDS.items():
    for _name in (_published, *_variants):
        _BY_KEY.setdefault(header_key(_name), _field)


def map_header(names: list[str]) -> tuple[dict[str, int], list[str]]:
    """Positions of the known fields in a header, and the published names of missing ones.

    The first column answering to a field wins; unknown columns are ignored.
    """
    positions: dict[str, int] = {}
    for position, name in enumerate(names):
        field = _BY_KEY.get(header_key(name))
        if field is not None and field not in positions:
            positions[field] = position
    missing = [FIELDS[f][0] for f in REQUIRED if f not in positions]
    return positions, missing
