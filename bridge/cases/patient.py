"""The patient's identity as typed in a case: validated, then only ever sent encrypted.

`PatientIdentity` never reaches the database, a log or room state: `message_content` is the
one place it is turned into something that leaves the process (the case room's first Megolm
message). Its `repr` hides the fields so a stray log line cannot carry them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

CIVILITES = ("M.", "Mme")
PATIENT_TYPE = "fr.confrere.patient"
_NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ' -]{1,80}$")


class InvalidPatient(ValueError):
    """Bad input: `fr` and `en` say which field and why (nothing of the value itself)."""

    def __init__(self, fr: str, en: str) -> None:
        super().__init__(en)
        self.fr, self.en = fr, en


@dataclass(frozen=True)
class PatientIdentity:
    civilite: str = field(repr=False)
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_name: str = field(repr=False)
    birth_date: date = field(repr=False)

    @classmethod
    def parse(cls, civilite: str, first_name: str, last_name: str, birth_name: str,
              birth_date: str, *, today: date | None = None) -> "PatientIdentity":
        """Validate typed answers (birth date `JJ/MM/AAAA` or ISO); raises InvalidPatient."""
        civ = {"m": "M.", "m.": "M.", "mme": "Mme", "madame": "Mme", "monsieur": "M."}.get(
            civilite.strip().lower())
        if civ is None:
            raise InvalidPatient("Civilité : « M. » ou « Mme ».", "Title: 'M.' or 'Mme'.")
        names = [n.strip() for n in (first_name, last_name, birth_name or last_name)]
        if not all(_NAME.match(n) for n in names):
            raise InvalidPatient("Prénom et noms : lettres, espaces, tirets et apostrophes.",
                                 "First and last names: letters, spaces, hyphens, apostrophes.")
        born = _date(birth_date.strip())
        today = today or date.today()
        if born is None or born > today or born.year < today.year - 130:
            raise InvalidPatient("Date de naissance : JJ/MM/AAAA, dans le passé.",
                                 "Date of birth: DD/MM/YYYY, in the past.")
        return cls(civ, names[0], names[1].upper(), names[2].upper(), born)

    def readable(self) -> str:
        """The text any Matrix client shows."""
        born = f"{self.birth_date:%d/%m/%Y}"
        birth = f" (né·e {self.birth_name})" if self.birth_name != self.last_name else ""
        return (f"Patient : {self.civilite} {self.first_name} {self.last_name}{birth}, "
                f"né·e le {born}")

    def message_content(self, case_id: str) -> dict:
        """The encrypted message: readable text plus structured content for our clients."""
        return {
            "msgtype": "m.text",
            "body": f"{self.readable()}\nCas {case_id}",
            PATIENT_TYPE: {
                "case_id": case_id, "civilite": self.civilite, "first_name": self.first_name,
                "last_name": self.last_name, "birth_name": self.birth_name,
                "birth_date": self.birth_date.isoformat(),
            },
        }


def _date(text: str) -> date | None:
    for pattern in (r"^(\d{2})/(\d{2})/(\d{4})$", r"^(\d{4})-(\d{2})-(\d{2})$"):
        match = re.match(pattern, text)
        if match:
            parts = [int(p) for p in match.groups()]
            day, month, year = parts if pattern.startswith("^(\\d{2})") else parts[::-1]
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None
