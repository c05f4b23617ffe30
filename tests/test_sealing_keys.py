"""One key derivation for sealed rows and sealed cookies — and the same keys as before it was
shared, so rows and cookies sealed by an earlier release still open."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridge.storage.sealing import VERSION, SealedBox
from bridge.web.sealed import Sealer


def test_a_row_sealed_with_the_former_derivation_still_opens():
    key = hmac.new(b"s3cret", b"confrere/sealed/dialogs", hashlib.sha256).digest()
    nonce = os.urandom(12)
    raw = VERSION + nonce + AESGCM(key).encrypt(nonce, b'{"a": 1}', b"dialogs")
    assert SealedBox("s3cret", "dialogs").open_json(base64.urlsafe_b64encode(raw).decode()) \
        == {"a": 1}


def test_a_cookie_sealed_with_the_former_derivation_still_opens():
    key = hmac.new(b"web", b"sealed-cookie\0signup", hashlib.sha256).digest()
    nonce = os.urandom(12)
    body = json.dumps({"step": 2, "exp": 4102444800}).encode()
    value = base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, body, b"signup"))
    assert Sealer("web", "signup").open(value.decode().rstrip("="))["step"] == 2
