"""Signature of a webhook delivery, and its verification (for receivers and tests)."""

from __future__ import annotations

import hashlib
import hmac
import time

ID_HEADER = "Confrere-Webhook-Id"
TIMESTAMP_HEADER = "Confrere-Webhook-Timestamp"
SIGNATURE_HEADER = "Confrere-Webhook-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    message = f"{delivery_id}.{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def headers(secret: str, delivery_id: str, body: bytes, now: float | None = None) -> dict:
    timestamp = int(now if now is not None else time.time())
    return {ID_HEADER: delivery_id, TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, delivery_id, timestamp, body),
            "Content-Type": "application/json"}


def verify(secret: str, received: dict, body: bytes, now: float | None = None) -> bool:
    """True if the signature matches and the timestamp is fresh (the receiver's side)."""
    try:
        delivery_id = received[ID_HEADER]
        timestamp = int(received[TIMESTAMP_HEADER])
        signature = received[SIGNATURE_HEADER]
    except (KeyError, ValueError):
        return False
    current = now if now is not None else time.time()
    if abs(current - timestamp) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, delivery_id, timestamp, body), signature)
