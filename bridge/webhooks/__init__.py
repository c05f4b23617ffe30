"""Signed webhooks to integrators (practice software): durable, retried, replay-safe.

Headers sent with each `POST` (JSON body):
- `Confrere-Webhook-Id`: unique per event, stable across retries (receivers deduplicate on it);
- `Confrere-Webhook-Timestamp`: Unix seconds of this attempt;
- `Confrere-Webhook-Signature`: `v1=<hex HMAC-SHA256(secret, id + "." + timestamp + "." + body)>`.
A receiver checks the signature in constant time, refuses timestamps older than 5 minutes and
ids already seen (`verify` below does the first two).
"""
