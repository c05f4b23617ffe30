"""The verified badge: the display name the service sets, which users cannot change.

"Dr Prénom NOM — Spécialité, Ville" from the linked directory entry; the account's names
when the person is not (or not yet) in the directory.
"""

from __future__ import annotations

from typing import Any


def badge(practitioner: Any) -> str:
    """From a directory `Practitioner`: title and names, then specialty or profession, city."""
    name = practitioner.display_name
    field = practitioner.specialty or practitioner.profession
    city = next((site.city for site in practitioner.sites if site.city), "")
    details = ", ".join(part for part in (field, city.title() if city.isupper() else city) if part)
    return f"{name} — {details}" if details else name


def fallback_badge(first_name: str, last_name: str) -> str:
    return f"{first_name} {last_name.upper()}"


def unverified_name(first_name: str, last_name: str) -> str:
    """After a revocation: the names and, in both languages, that they are not verified."""
    return f"{first_name} {last_name.upper()} (non vérifié · unverified)"
