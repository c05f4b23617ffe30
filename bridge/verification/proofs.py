"""Proofs of identity waiting to be used once: Pro Santé Connect at signup.

Why: the identity PSC proves before the signup form must not be a bearer value the browser
can copy. The proof is a row here, keyed by the SHA-256 of a random id; the browser's sealed
cookie carries only that id. `consume` spends it in the transaction that creates the account
(compare-and-set), so a copied cookie, a replay or a race yields at most one account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import JSON, DateTime, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.database import Database
from bridge.storage.models import Base, utcnow


class IdentityProof(Base):
    __tablename__ = "identity_proofs"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    national_id: Mapped[str] = mapped_column(String(16), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    consumed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)


@dataclass(frozen=True)
class Proof:
    """A proof still usable: what it proves, and the id the browser holds."""

    proof_id: str
    provider: str
    national_id: str
    first_name: str
    last_name: str


def _hash(proof_id: str) -> str:
    return hashlib.sha256(proof_id.encode()).hexdigest()


async def record(db: Database, provider: str, national_id: str, first_name: str,
                 last_name: str, ttl: timedelta, evidence: dict | None = None) -> str:
    """Store a new proof; returns its random id (to seal in the browser's cookie)."""
    proof_id = secrets.token_urlsafe(32)
    async with db.session() as session, session.begin():
        session.add(IdentityProof(
            id_hash=_hash(proof_id), provider=provider, national_id=national_id,
            first_name=first_name[:100], last_name=last_name[:100], evidence=evidence or {},
            expires_at=datetime.now(timezone.utc) + ttl))
    return proof_id


async def usable(db: Database, proof_id: str | None) -> Proof | None:
    """The proof if it exists, is unexpired and was never used; None otherwise."""
    if not proof_id or not isinstance(proof_id, str) or len(proof_id) > 100:
        return None
    async with db.session() as session:
        row = (await session.execute(select(IdentityProof).where(
            IdentityProof.id_hash == _hash(proof_id), IdentityProof.consumed_at.is_(None),
            IdentityProof.expires_at > datetime.now(timezone.utc)))).scalar_one_or_none()
    if row is None:
        return None
    return Proof(proof_id, row.provider, row.national_id, row.first_name, row.last_name)


async def consume(session, proof_id: str, user_id: str) -> bool:
    """Spend the proof inside the caller's transaction; False if used, expired or unknown."""
    now = datetime.now(timezone.utc)
    result = await session.execute(
        update(IdentityProof)
        .where(IdentityProof.id_hash == _hash(proof_id), IdentityProof.consumed_at.is_(None),
               IdentityProof.expires_at > now)
        .values(consumed_at=now, consumed_by=user_id))
    return result.rowcount == 1
