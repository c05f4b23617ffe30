"""What the card client and the service must agree on, in one place.

The card signs `signed_message(user_id, challenge)`: a fixed context label, the Matrix account and
the one-time challenge. The label keeps a Confrère signature from being reused as anything else;
the account makes a challenge useless to anyone but the account it was issued for.
"""

from __future__ import annotations

import re
import secrets

CHALLENGE_PATH = "/verification/cps/challenge"
RESPONSE_PATH = "/verification/cps/response"
CONTEXT = "confrere-cps-v1"

# Crockford base32: no I, L, O, U, so a code read aloud or retyped survives confusions.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
CODE_LENGTH = 10  # 50 bits: single use, minutes-long, bound to one account


def signed_message(user_id: str, challenge: str) -> bytes:
    """The bytes whose SHA-256 the card signs (PKCS#1 v1.5, with the authentication key)."""
    return f"{CONTEXT}\n{user_id}\n{challenge}".encode()


def new_code() -> str:
    """A fresh one-time code, normalised (what is stored, hashed)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    """'ABCDE12345' -> 'ABCDE-12345', easier to copy by hand."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_code(text: str) -> str:
    """What the practitioner typed -> the stored form (case, dashes, spaces and O/0, I/L/1)."""
    return re.sub(r"[^0-9A-Z]", "", (text or "").upper()).translate(_CONFUSABLE)
