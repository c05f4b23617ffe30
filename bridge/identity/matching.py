"""Does a proven identity (Pro Santé Connect claims, CPS certificate) match the account?

Names are compared loosely where French usage varies (accents, case, hyphens, apostrophes,
exercise versus civil name) and strictly where it matters (the declared RPPS/ADELI number).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


def normalise_name(name: str) -> str:
    """'Élodie-Marie  d'Arc' -> 'ELODIE MARIE D ARC'."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^A-Z0-9]+", " ", ascii_only.upper()).strip()


@dataclass(frozen=True)
class ProvenIdentity:
    """What a provider proved: the national id, and every name pair it vouches for."""

    national_id: str
    names: tuple[tuple[str, str], ...]  # (first name, last name) pairs: civil, exercise…
    source: str
    profession_code: str = ""
    specialty_code: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MatchResult:
    ok: bool
    reason_fr: str = ""
    reason_en: str = ""


def declared_matches(declared: str | None, national_id: str) -> bool:
    """The account's declared RPPS (11 digits) or ADELI (9) against "8"+RPPS / "0"+ADELI."""
    if not declared:
        return True
    declared = declared.strip().upper()
    return national_id.upper() in (f"8{declared}", f"0{declared}", declared)


def match_account(first_name: str, last_name: str, declared_identifier: str | None,
                  proven: ProvenIdentity) -> MatchResult:
    if not declared_matches(declared_identifier, proven.national_id):
        return MatchResult(
            False,
            "le numéro RPPS/ADELI déclaré à l'inscription ne correspond pas à celui prouvé par "
            f"{proven.source}",
            f"the RPPS/ADELI number declared at signup differs from the one proven by {proven.source}",
        )
    account_first, account_last = normalise_name(first_name), normalise_name(last_name)
    for proven_first, proven_last in proven.names:
        if (normalise_name(proven_last) == account_last
                and _first_names_match(account_first, normalise_name(proven_first))):
            return MatchResult(True)
    return MatchResult(
        False,
        f"le nom et le prénom du compte ne correspondent pas à l'identité prouvée par {proven.source}",
        f"the account's names do not match the identity proven by {proven.source}",
    )


def _first_names_match(account: str, proven: str) -> bool:
    """Equal, or one is the first of the other's given names ('MARIE' vs 'MARIE ANNE')."""
    if not account or not proven:
        return False
    return account == proven or proven.split()[0] == account or account.split()[0] == proven
