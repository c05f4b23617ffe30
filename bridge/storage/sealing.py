"""Sealing data at rest with the installation's key (AES-GCM), one purpose per use.

Why: some rows must hold what a practitioner typed (a patient's identity in a dialog, a
referral's details) and the database must not be enough to read them: the key lives in
`secrets.yaml`, not in the database. Each purpose derives its own key, so a value sealed for
one use cannot be opened as another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"


class SealBroken(ValueError):
    """The sealed value was altered, or sealed with another key or purpose."""


def derive_key(secret: str, label: str) -> bytes:
    """A 256-bit key for one use (`label`) from an installation secret: HMAC-SHA256. The
    one derivation of the service (sealed rows here, sealed cookies in `web/sealed.py`)."""
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()


class SealedBox:
    def __init__(self, secret: str, purpose: str) -> None:
        self._aead = AESGCM(derive_key(secret, f"confrere/sealed/{purpose}"))
        self._aad = purpose.encode()

    def seal(self, data: bytes) -> str:
        nonce = os.urandom(12)
        raw = VERSION + nonce + self._aead.encrypt(nonce, data, self._aad)
        return base64.urlsafe_b64encode(raw).decode()

    def open(self, sealed: str) -> bytes:
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            if raw[:1] != VERSION:
                raise SealBroken("unknown seal version")
            return self._aead.decrypt(raw[1:13], raw[13:], self._aad)
        except (ValueError, InvalidTag) as exc:
            raise SealBroken("sealed value cannot be opened") from exc

    def seal_json(self, value: Any) -> str:
        return self.seal(json.dumps(value, ensure_ascii=False, default=str).encode())

    def open_json(self, sealed: str) -> Any:
        return json.loads(self.open(sealed))
