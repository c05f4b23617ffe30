"""What a directory entry looks like to the rest of the service (bot, API, appservice)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .payload import ID_TYPES, PERSON_FIELDS, SITE_FIELDS, decode
from .text import first_name_case

MAX_RESULTS = 100  # a search never pages beyond this many results


@dataclass(frozen=True)
class Site:
    """A place where the person practises (one activity row of the extract)."""

    raison_sociale: str = ""
    enseigne: str = ""
    address: str = ""
    complement: str = ""
    recipient: str = ""
    distribution: str = ""
    cedex: str = ""
    postal_code: str = ""
    city: str = ""
    commune_code: str = ""
    department_code: str = ""
    department: str = ""
    country: str = ""
    phone: str = ""
    phone2: str = ""
    fax: str = ""
    email: str = ""
    mode_code: str = ""
    mode: str = ""
    finess: str = ""
    finess_ej: str = ""
    siret: str = ""
    siren: str = ""
    structure_id: str = ""
    sector: str = ""
    role: str = ""
    activity_kind: str = ""

    @property
    def organisation(self) -> str:
        return self.enseigne or self.raison_sociale


_SITE_RENAMED = {
    "compl_dest": "recipient",
    "compl_geo": "complement",
    "dept_code": "department_code",
    "dept": "department",
}


def _site(values: tuple[str, ...]) -> Site:
    raw = dict(zip(SITE_FIELDS, values))
    street = " ".join(
        x
        for x in (
            raw.pop("num_voie") + raw.pop("indice_voie"),
            raw.pop("type_voie"),
            raw.pop("voie"),
        )
        if x
    )
    kwargs = {_SITE_RENAMED.get(k, k): v.strip() for k, v in raw.items()}
    if not kwargs["city"] and kwargs["cedex"]:
        kwargs["city"] = kwargs["cedex"].lstrip("0123456789 ")
    return Site(address=street, **kwargs)


@dataclass(frozen=True)
class Specialty:
    code: str = ""
    label: str = ""
    kind: str = ""


@dataclass(frozen=True)
class Practitioner:
    """One person of the directory with all their sites; `retired` once gone from the extract."""

    national_id: str
    id_type: str = ""
    identifier: str = ""
    civilite: str = ""
    civilite_code: str = ""
    civilite_exercice: str = ""
    civilite_exercice_code: str = ""
    first_name: str = ""
    last_name: str = ""
    profession: str = ""
    profession_code: str = ""
    specialties: tuple[Specialty, ...] = ()
    sites: tuple[Site, ...] = ()
    cpts: tuple[str, ...] = ()
    retired: bool = False

    @property
    def specialty(self) -> str:
        """The first specialty label (the extract lists the ordinal specialty first)."""
        return self.specialties[0].label if self.specialties else ""

    @property
    def display_name(self) -> str:
        """ "Dr Camille BERNARD", "Mme Léa ROUX": how the bot and the clients show the person
        (first names in their usual case, last names in capitals, as French usage has it)."""
        title = {"DR": "Dr", "PR": "Pr"}.get(self.civilite_exercice_code, "")
        if not title:
            title = {"M": "M.", "MME": "Mme", "MLLE": "Mme"}.get(self.civilite_code, "")
        names = (first_name_case(self.first_name), self.last_name.upper())
        return " ".join(x for x in (title, *names) if x)

    @classmethod
    def from_payload(
        cls, payload: str, *, cpts: tuple[str, ...] | None = None, retired: bool = False
    ) -> Practitioner:
        """Build from the stored form (`payload.encode`); `cpts` overrides the stored names."""
        record, stored_cpts = decode(payload)
        p = dict(zip(PERSON_FIELDS, record.person))
        return cls(
            national_id=p["national_id"],
            id_type=ID_TYPES.get(p["id_type"], p["id_type"]),
            identifier=p["identifier"].strip(),
            civilite=p["civ"],
            civilite_code=p["civ_code"],
            civilite_exercice=p["civ_ex"],
            civilite_exercice_code=p["civ_ex_code"],
            first_name=p["first_name"].strip(),
            last_name=p["last_name"].strip(),
            profession=p["prof"],
            profession_code=p["prof_code"],
            specialties=tuple(
                Specialty(code=s[0], label=s[1], kind=s[2]) for s in record.specialties
            ),
            sites=tuple(_site(s) for s in record.sites),
            cpts=tuple(stored_cpts) if cpts is None else cpts,
            retired=retired,
        )

    def to_json(self) -> dict[str, Any]:
        """Plain dict for the API (every key present, empty strings kept)."""
        out = asdict(self)
        out["specialty"] = self.specialty
        out["display_name"] = self.display_name
        out["specialties"] = [asdict(s) for s in self.specialties]
        out["sites"] = [asdict(s) for s in self.sites]
        out["cpts"] = list(self.cpts)
        return out


@dataclass(frozen=True)
class SearchPage:
    """One page of results; `total` counts every match, `pages` stops at the 100-result cap."""

    total: int
    page: int
    pages: int
    page_size: int
    results: list[Practitioner] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def capped(self) -> bool:
        return self.total > MAX_RESULTS

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
            "page_size": self.page_size,
            "fuzzy": self.fuzzy,
            "results": [p.to_json() for p in self.results],
        }
