"""Identity documents sent to the bot: what they really are, and keeping them only while needed.

A practitioner's ID card and selfie are the most sensitive things the service ever holds, so:
the type is read from the bytes (a PDF renamed `.jpg` stays a PDF), sizes are capped before and
while downloading, the bytes are stored Fernet-encrypted (key derived from a generated secret,
never in the database), and they are deleted as soon as a decision is made. Only SHA-256
hashes outlive them, in the verification evidence and the audit log.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet
from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.database import Database
from bridge.storage.models import Base, utcnow

MB = 1024 * 1024
ATTACHMENT_CAP = 50 * MB  # the product's cap on any attachment (Synapse max_upload_size)

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"

# The photos asked for, in order, per kind of document.
STEPS = {
    "national_identity_card": ("front", "back", "selfie"),
    "passport": ("front", "selfie"),
}


class DocumentRefused(ValueError):
    """A file the practitioner sent cannot be used; `message_fr` says why, in French."""

    def __init__(self, message_fr: str) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr


def sniff(data: bytes) -> str | None:
    """The real type from the first bytes: JPEG, PNG, PDF (to say so), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if data[:5] == b"%PDF-":
        return PDF
    return None


def too_big_message(size: int, image_cap: int) -> str | None:
    """French refusal for a size over the image cap (or the global attachment cap), else None."""
    if size > ATTACHMENT_CAP:
        return (f"Ce fichier fait {size // MB} Mo : c'est au-delà de la taille maximale des "
                f"pièces jointes ({ATTACHMENT_CAP // MB} Mo). Envoyez une photo plus légère "
                f"(au plus {image_cap // MB} Mo).")
    if size > image_cap:
        return (f"Cette image est trop lourde ({size / MB:.1f} Mo) : une photo de pièce "
                f"d'identité ou un selfie doit faire au plus {image_cap // MB} Mo. Réduisez sa "
                "taille (ou sa résolution) et renvoyez-la.")
    return None


def check_image(data: bytes, image_cap: int) -> str:
    """The image's real type, or `DocumentRefused` with a French reason."""
    message = too_big_message(len(data), image_cap)
    if message:
        raise DocumentRefused(message)
    kind = sniff(data)
    if kind == PDF:
        raise DocumentRefused(
            "Ce fichier est un PDF, quel que soit son nom. J'attends une photo au format JPEG "
            "ou PNG : photographiez le document et envoyez l'image.")
    if kind is None:
        raise DocumentRefused(
            "Ce fichier n'est pas une image JPEG ou PNG (son contenu ne correspond à aucun de "
            "ces formats). Envoyez une photo au format JPEG ou PNG.")
    return kind


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DocumentCheck(Base):
    """One document verification: the steps asked for, then the provider's check."""

    __tablename__ = "document_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    room_id: Mapped[str] = mapped_column(String(255))
    document_type: Mapped[str] = mapped_column(String(32))
    # front | back | selfie (waiting for it) · submitted · decided · cancelled
    step: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(16), nullable=True)
    applicant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    check_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    check_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    check_result: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StoredDocument(Base):
    """One photo, Fernet-encrypted; the row disappears once the check is decided."""

    __tablename__ = "identity_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    check_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("document_checks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # front | back | selfie
    mimetype: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookReceipt(Base):
    """The SHA-256 of every provider webhook body acted upon: a replay is recognised."""

    __tablename__ = "document_webhook_receipts"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class Photo:
    """A decrypted photo in memory, as handed to a provider or to the administrators."""

    kind: str
    mimetype: str
    data: bytes

    @property
    def digest(self) -> str:
        return sha256(self.data)


def fernet_key(secret: str) -> bytes:
    """A Fernet key derived from the installation's generated `documents_key` secret."""
    digest = hashlib.sha256(b"confrere/identity-documents/v1\0" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


class DocumentStore:
    """Encrypted photos at rest, per check; nothing here ever logs their content."""

    def __init__(self, database: Database, secret: str) -> None:
        self.db = database
        self._fernet = Fernet(fernet_key(secret))

    async def put(self, check_id: int, photo: Photo) -> str:
        """Keep `photo` (replacing one of the same kind); returns its SHA-256."""
        async with self.db.session() as session, session.begin():
            await session.execute(delete(StoredDocument).where(
                StoredDocument.check_id == check_id, StoredDocument.kind == photo.kind))
            session.add(StoredDocument(
                check_id=check_id, kind=photo.kind, mimetype=photo.mimetype,
                size=len(photo.data), sha256=photo.digest,
                ciphertext=self._fernet.encrypt(photo.data)))
        return photo.digest

    async def photos(self, check_id: int) -> list[Photo]:
        async with self.db.session() as session:
            rows = (await session.execute(select(StoredDocument).where(
                StoredDocument.check_id == check_id).order_by(StoredDocument.id))).scalars().all()
        return [Photo(row.kind, row.mimetype, self._fernet.decrypt(row.ciphertext))
                for row in rows]

    async def summary(self, check_id: int) -> list[dict]:
        """Kind, type, size and hash of each photo: the evidence that outlives them."""
        async with self.db.session() as session:
            rows = (await session.execute(select(StoredDocument).where(
                StoredDocument.check_id == check_id).order_by(StoredDocument.id))).scalars().all()
        return [{"kind": r.kind, "type": r.mimetype, "size": r.size, "sha256": r.sha256}
                for r in rows]

    async def delete(self, check_id: int) -> int:
        """Remove every photo of a check; returns how many were removed."""
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                delete(StoredDocument).where(StoredDocument.check_id == check_id))
        return result.rowcount or 0

    async def count(self, check_id: int) -> int:
        async with self.db.session() as session:
            rows = (await session.execute(select(StoredDocument.id).where(
                StoredDocument.check_id == check_id))).all()
        return len(rows)
