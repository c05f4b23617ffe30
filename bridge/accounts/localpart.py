"""Readable Matrix localparts from a name: "Camille Bernard" -> camille.bernard, then
camille.bernard2, … Synapse decides uniqueness (M_USER_IN_USE); this only proposes."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator

MAX_LENGTH = 60
_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d",
                          "ð": "d", "þ": "th", "ı": "i"})


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"['’]", "", text)
    text = re.sub(r"[^a-z0-9]+", "-", text)
    return text.strip("-")


def base_localpart(first_name: str, last_name: str) -> str:
    """`prénom.nom` in lower-case ASCII; hyphens kept between words."""
    first, last = _ascii(first_name), _ascii(last_name)
    base = ".".join(part for part in (first, last) if part) or "praticien"
    return base[:MAX_LENGTH].strip(".-")


def candidates(first_name: str, last_name: str,
               reserved: Callable[[str], bool] = lambda _: False) -> Iterator[str]:
    """The base, then base2 … base99, then base + random suffix; reserved names skipped."""
    base = base_localpart(first_name, last_name)
    for n in range(1, 100):
        name = base if n == 1 else f"{base}{n}"
        if not reserved(name):
            yield name
    while True:
        name = f"{base}.{secrets.token_hex(3)}"
        if not reserved(name):
            yield name
