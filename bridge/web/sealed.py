"""Sealed cookie values: AES-GCM with a key derived from the installation's web secret.

Why: between the form and the e-mail code the chosen password must survive without Confrère
storing it. It travels back and forth in the browser's cookie, encrypted and authenticated;
the server keeps nothing, and the cookie is replaced without it once the account exists.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridge.storage.sealing import derive_key


class Sealer:
    def __init__(self, secret: str, purpose: str) -> None:
        self._aead = AESGCM(derive_key(secret, f"sealed-cookie\0{purpose}"))
        self._aad = purpose.encode()

    def seal(self, payload: dict[str, Any], max_age: int) -> str:
        body = dict(payload, exp=int(time.time()) + max_age)
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, json.dumps(body).encode(), self._aad)
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, value: str | None) -> dict[str, Any] | None:
        """The payload, or None if missing, tampered with or expired."""
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            body = json.loads(self._aead.decrypt(raw[:12], raw[12:], self._aad))
        except (ValueError, InvalidTag):
            return None
        if not isinstance(body, dict) or body.get("exp", 0) < time.time():
            return None
        return body
