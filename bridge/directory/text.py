"""Text folding shared by the index, the queries and the extract headers.

The index analyser (tantivy: simple tokenizer, lowercase, ASCII folding) and the Python side
must cut and fold words the same way, or a query term would never meet its indexed twin.
"""

from __future__ import annotations

import re
import unicodedata

_SPECIAL = str.maketrans(
    {
        "œ": "oe",
        "Œ": "oe",
        "æ": "ae",
        "Æ": "ae",
        "ß": "ss",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)
_WORD = re.compile(r"[a-z0-9]+")

MAX_WORD = 40  # same limit as the index analyser (longer words are dropped there)


def fold(text: str) -> str:
    """Lower-case, accent-free form of `text` ("Éloïse CŒUR" -> "eloise coeur")."""
    text = text.translate(_SPECIAL)
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return (
        "".join(c for c in decomposed if not unicodedata.combining(c)).lower().translate(_SPECIAL)
    )


def words(text: str) -> list[str]:
    """Folded words of `text`, as the index analyser sees them (punctuation separates)."""
    return [w for w in _WORD.findall(fold(text)) if len(w) < MAX_WORD]


def luhn_valid(digits: str) -> bool:
    """True when the last digit of `digits` is its Luhn check digit (RPPS keys)."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_complete(body: str) -> str:
    """`body` followed by its Luhn check digit (used by the synthetic generator)."""
    for key in "0123456789":
        if luhn_valid(body + key):
            return body + key
    raise ValueError(body)  # unreachable for digit strings


def normalise_id(value: str) -> str:
    """A national id from what people paste: spaces dropped, a bare 11-digit RPPS gets its "8"."""
    value = "".join((value or "").split())
    return "8" + value if len(value) == 11 and value.isdigit() else value


_PARTICLES = {"de", "du", "des", "la", "le", "d", "von", "van", "der", "y"}
_NAME_PARTS = re.compile(r"([\s\-'’]+)")


def first_name_case(name: str) -> str:
    """A first name in its usual case, from the extract's capitals.

    "JEAN-PIERRE" -> "Jean-Pierre", "MARIE-HÉLÈNE" -> "Marie-Hélène", "N'GOLO" -> "N'Golo",
    "JEAN DE DIEU" -> "Jean de Dieu" (a particle after the first word stays lower case).
    A name already in mixed case is kept as written (it was typed by a person).
    """
    name = " ".join((name or "").split())
    if not name or (name != name.upper() and name != name.lower()):
        return name
    parts = _NAME_PARTS.split(name.lower())
    out = []
    for index, part in enumerate(parts):
        if index % 2 == 1:  # a separator
            out.append(part)
        elif index > 0 and part in _PARTICLES and parts[index - 1].strip() == "":
            out.append(part)
        else:
            out.append(part[:1].upper() + part[1:])
    return "".join(out)
