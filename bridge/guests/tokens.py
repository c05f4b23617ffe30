"""Signed tokens in guest e-mails: the signup pre-fill and the unsubscribe link.

A token is `base64url(json).base64url(HMAC-SHA256)`, keyed by a key derived from the
installation's `web_secret` and the token's purpose, so a pre-fill token can never serve as an
unsubscribe token or the reverse. Compared in constant time; expired or altered → None.

The signup page reads the pre-fill from `GET /signup?invitation=<token>` (`SIGNUP_PARAM`) with
`open_signup_token`; it holds the guest's own names and their national id or e-mail, nothing
about who invited them or why (the link lands in their mailbox, maybe in a proxy's log).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

SIGNUP_PARAM = "invitation"
UNSUBSCRIBE_PARAM = "t"
SIGNUP_TTL = 30 * 24 * 3600


@dataclass(frozen=True)
class SignupPrefill:
    first_name: str
    last_name: str
    national_id: str | None = None
    email: str | None = None


def _key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"confrere-guest-{purpose}-v1".encode(),
                    hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _seal(secret: str, purpose: str, payload: dict) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    mac = hmac.new(_key(secret, purpose), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def _open(secret: str, purpose: str, token: str) -> dict | None:
    try:
        body, mac = token.split(".", 1)
        expected = hmac.new(_key(secret, purpose), body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def make_signup_token(secret: str, prefill: SignupPrefill, *, now: float | None = None,
                      ttl: int = SIGNUP_TTL) -> str:
    payload = {"fn": prefill.first_name, "ln": prefill.last_name,
               "exp": int((now or time.time()) + ttl)}
    if prefill.national_id:
        payload["nid"] = prefill.national_id
    if prefill.email:
        payload["em"] = prefill.email
    return _seal(secret, "signup", payload)


def open_signup_token(secret: str, token: str, *, now: float | None = None
                      ) -> SignupPrefill | None:
    """The pre-fill, or None when the token is altered, expired or malformed."""
    payload = _open(secret, "signup", token or "")
    if payload is None or not isinstance(payload.get("exp"), int):
        return None
    if payload["exp"] < (now or time.time()):
        return None
    try:
        return SignupPrefill(str(payload["fn"]), str(payload["ln"]),
                             payload.get("nid"), payload.get("em"))
    except KeyError:
        return None


def make_unsubscribe_token(secret: str, guest_key: str) -> str:
    return _seal(secret, "unsubscribe", {"k": guest_key})


def open_unsubscribe_token(secret: str, token: str) -> str | None:
    payload = _open(secret, "unsubscribe", token or "")
    key = payload.get("k") if payload else None
    return key if isinstance(key, str) and key else None
