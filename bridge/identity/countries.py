"""The country that issued an identity document, as the practitioner writes it.

Onfido wants ISO 3166-1 alpha-3 ("FRA"). The practitioner may answer with a name in French or
English, accents and case as they come ("Belgique", "cote d'ivoire", "Germany"), or a code
("BE", "BEL"); "ok" or "oui" keeps the default, France.
"""

from __future__ import annotations

import gettext
import unicodedata
from functools import lru_cache

import pycountry

DEFAULT = "FRA"
KEEP_DEFAULT = frozenset({"ok", "oui", "yes", "france", "fr", "fra"})


def _key(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("\u2019", " "))
    plain = plain.encode("ascii", "ignore").decode()
    for mark in ("'", "\u2019", "-"):
        plain = plain.replace(mark, " ")
    return " ".join(plain.casefold().split())


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"],
                                 fallback=True)
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "common_name", None),
                     getattr(country, "official_name", None), french.gettext(country.name)):
            if name:
                names.setdefault(_key(name), country.alpha_3)
        names[_key(country.alpha_2)] = names[_key(country.alpha_3)] = country.alpha_3
    return names


def issuing_country(text: str) -> str | None:
    """The alpha-3 code for `text`, or None when it names no country."""
    key = _key(text)
    if key in KEEP_DEFAULT:
        return DEFAULT
    return _names().get(key)


def country_name_fr(alpha_3: str) -> str:
    """The French name, for the confirmation ("Belgique")."""
    country = pycountry.countries.get(alpha_3=alpha_3)
    if country is None:
        return alpha_3
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"],
                                 fallback=True)
    return french.gettext(country.name)
