"""Integrator bearer tokens: shown once at creation, stored as SHA-256, revocable.

A token has a scope: "all" (the directory only — agenda routes refuse it), "practitioner"
(one national id's agenda) or "organisation" (the agendas of the practitioners whose agenda
profile names that organisation). Checked by `Scope.allows` on every agenda route.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.database import Database
from bridge.storage.models import Base, utcnow

TOKEN_PREFIX = "cfr_"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    scope_kind: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    scope_value: Mapped[str | None] = mapped_column(String(64), nullable=True)


SCOPES = ("all", "practitioner", "organisation")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(db: Database, name: str, scope_kind: str = "all",
                       scope_value: str | None = None) -> str:
    if scope_kind not in SCOPES or (scope_kind != "all") != bool(scope_value):
        raise ValueError("scope: all, or practitioner/organisation with a value")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with db.session() as session, session.begin():
        session.add(ApiToken(name=name[:100], token_hash=_digest(token),
                             scope_kind=scope_kind, scope_value=scope_value))
    return token


async def revoke_token(db: Database, name: str) -> int:
    async with db.session() as session, session.begin():
        rows = (await session.execute(select(ApiToken).where(
            ApiToken.name == name, ApiToken.revoked_at.is_(None)))).scalars().all()
        for row in rows:
            row.revoked_at = utcnow()
        return len(rows)


async def token_for(db: Database, token: str) -> ApiToken | None:
    """The live token row for a presented bearer token, else None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    async with db.session() as session:
        return (await session.execute(select(ApiToken).where(
            ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None)))
        ).scalar_one_or_none()


async def integrator_for(db: Database, token: str) -> str | None:
    """The integrator's name for a valid token, else None.

    Looked up by hash (an index probe on a SHA-256 leaks nothing useful about the secret).
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    async with db.session() as session:
        row = (await session.execute(select(ApiToken).where(
            ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None)))).scalar_one_or_none()
    return row.name if row else None
