"""The client address a web rate limit counts (the limiter: `bridge/storage/ratelimit.py`)."""

from __future__ import annotations

from aiohttp import web

from bridge.storage.ratelimit import RateLimiter

__all__ = ["RateLimiter", "client_ip"]


def client_ip(request: web.Request, trust_forwarded_for: bool) -> str:
    """The client's address; behind a trusted proxy, the first X-Forwarded-For entry."""
    if trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return request.remote or "unknown"
