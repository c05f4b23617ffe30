"""Single-use, short-lived secrets (one-time links, OIDC states): only a hash is stored,
and consuming one is a compare-and-set, so a replay or a race finds it already used."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from bridge.storage.database import Database
from bridge.verification.models import OneTimeToken


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(db: Database, purpose: str, user_id: str | None, ttl: timedelta,
                data: dict | None = None, secret: str | None = None) -> str:
    """Store a new token; `secret` lets a caller choose a shorter, typeable one (CPS code)."""
    token = secret or secrets.token_urlsafe(32)
    async with db.session() as session, session.begin():
        session.add(OneTimeToken(
            token_hash=_hash(token), purpose=purpose, user_id=user_id, data=data or {},
            expires_at=datetime.now(timezone.utc) + ttl,
        ))
    return token


async def consume(db: Database, purpose: str, token: str) -> OneTimeToken | None:
    """Mark the token used and return it, or None if unknown, expired, used or for another use."""
    if not token or len(token) > 200:
        return None
    now = datetime.now(timezone.utc)
    digest = _hash(token)
    async with db.session() as session, session.begin():
        result = await session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.token_hash == digest, OneTimeToken.purpose == purpose,
                   OneTimeToken.used_at.is_(None), OneTimeToken.expires_at > now)
            .values(used_at=now)
        )
        if result.rowcount != 1:
            return None
        return await session.get(OneTimeToken, digest)


async def peek(db: Database, purpose: str, token: str) -> OneTimeToken | None:
    """The token if it is still usable, without spending it (a page that only shows a button:
    mail scanners and link previews open links too)."""
    if not token or len(token) > 200:
        return None
    now = datetime.now(timezone.utc)
    async with db.session() as session:
        row = await session.get(OneTimeToken, _hash(token))
    if row is None or row.purpose != purpose or row.used_at is not None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(
        tzinfo=timezone.utc)
    return row if expires > now else None
