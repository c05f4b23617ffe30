"""Sliding-window rate limits kept in the database (shared by every service process).

Keys (an address, a client IP) are stored only as an HMAC: the table says how often, not who.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.models import Base, utcnow


class RateLimitHit(Base):
    __tablename__ = "rate_limit_hits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RateLimiter:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def bucket(self, kind: str, key: str) -> str:
        return hmac.new(self._secret, f"{kind}\0{key.lower()}".encode(),
                        hashlib.sha256).hexdigest()

    async def allow(self, session: AsyncSession, kind: str, key: str, limit: int,
                    window: timedelta = timedelta(hours=1)) -> bool:
        """Count a hit unless `limit` hits already happened within `window` (then False)."""
        now = utcnow()
        bucket = self.bucket(kind, key)
        recent = await session.scalar(select(func.count()).select_from(RateLimitHit).where(
            RateLimitHit.bucket == bucket, RateLimitHit.created_at > now - window))
        if (recent or 0) >= limit:
            return False
        session.add(RateLimitHit(bucket=bucket, created_at=now))
        if random.random() < 0.02:
            await session.execute(delete(RateLimitHit).where(
                RateLimitHit.created_at < now - timedelta(days=1)))
        return True

