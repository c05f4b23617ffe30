"""Which directory entry a declared identity stands for, when no provider proved the number.

Why: Onfido's "clear" proves a face and a genuine document, not a health professional, and an
administrator's approval is about the documents shown. The badge ("Dr Prénom NOM — Spécialité,
Ville") must come from the national directory, so the RPPS/ADELI declared at signup has to name
an entry with the same names (`matching.match_account`, as for PSC and CPS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.identity.matching import ProvenIdentity, match_account


@dataclass(frozen=True)
class DirectoryLink:
    """The national identifier to link, or why there is none (both languages)."""

    national_id: str | None
    reason_fr: str = ""
    reason_en: str = ""


def national_id_of_declared(declared: str | None) -> str | None:
    """"8" + RPPS (11 digits) or "0" + ADELI (9 characters); None if nothing usable."""
    if not declared:
        return None
    declared = declared.strip().upper()
    if len(declared) == 11 and declared.isdigit():
        return "8" + declared
    if len(declared) == 9 and declared.isalnum():
        return "0" + declared
    return None


async def link_declared(directory: Any, account: Any) -> DirectoryLink:
    """The directory entry named by the account's declared number, if the names agree."""
    national_id = national_id_of_declared(account.declared_identifier)
    if national_id is None:
        return DirectoryLink(None, "aucun numéro RPPS/ADELI n'a été déclaré à l'inscription",
                             "no RPPS/ADELI number was declared at signup")
    person = await directory.get(national_id) if directory is not None else None
    if person is None or getattr(person, "retired", False):
        return DirectoryLink(None, "le numéro RPPS/ADELI déclaré n'est pas dans l'annuaire "
                             "national", "the declared RPPS/ADELI number is not in the directory")
    entry = ProvenIdentity(national_id, ((person.first_name, person.last_name),),
                           "l'annuaire national")
    result = match_account(account.first_name, account.last_name, account.declared_identifier,
                           entry)
    if not result.ok:
        return DirectoryLink(None, result.reason_fr, result.reason_en)
    return DirectoryLink(national_id)
