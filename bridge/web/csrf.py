"""CSRF protection for every form: a per-browser cookie and a one-time signed token.

The token binds the form name, the browser's cookie and an issue time with an HMAC; its nonce
is recorded when used, so a replayed form (back button, captured request) is refused too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy import DateTime, String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.database import Database
from bridge.storage.models import Base, utcnow

COOKIE = "confrere_csrf"
FIELD = "csrf"


class FormNonce(Base):
    """A form token already used (kept until it would have expired anyway)."""

    __tablename__ = "form_nonces"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Csrf:
    def __init__(self, secret: str, database: Database, *, max_age: int = 3 * 3600,
                 secure: bool = False) -> None:
        self._key = hmac.new(secret.encode(), b"csrf-v1", hashlib.sha256).digest()
        self.database = database
        self.max_age = max_age
        self.secure = secure

    def browser_key(self, request: web.Request) -> tuple[str, bool]:
        """The browser's CSRF cookie value, and whether it is new (then `set_cookie` it)."""
        value = request.cookies.get(COOKIE, "")
        if len(value) == 43:
            return value, False
        return secrets.token_urlsafe(32), True

    def set_cookie(self, response: web.StreamResponse, value: str) -> None:
        response.set_cookie(COOKIE, value, httponly=True, samesite="Lax", path="/",
                            secure=self.secure)

    def issue(self, browser_key: str, form: str) -> str:
        nonce = secrets.token_bytes(16)
        issued = struct.pack(">Q", int(time.time()))
        mac = self._mac(browser_key, form, nonce + issued)
        return base64.urlsafe_b64encode(nonce + issued + mac).decode().rstrip("=")

    async def check(self, request: web.Request, data, form: str) -> str | None:
        """None if the form is genuine and fresh; otherwise why not (French, for the user)."""
        browser_key = request.cookies.get(COOKIE, "")
        token = str(data.get(FIELD, ""))
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            raw = b""
        if not browser_key or len(raw) != 16 + 8 + 32:
            return "Ce formulaire n'est pas valide ou a expiré : rechargez la page et recommencez."
        nonce, issued, mac = raw[:16], raw[16:24], raw[24:]
        if not hmac.compare_digest(mac, self._mac(browser_key, form, nonce + issued)):
            return "Ce formulaire n'est pas valide ou a expiré : rechargez la page et recommencez."
        age = time.time() - struct.unpack(">Q", issued)[0]
        if age > self.max_age or age < -60:
            return "Ce formulaire a expiré : vérifiez vos informations et renvoyez-le."
        if not await self._first_use(nonce.hex(), struct.unpack(">Q", issued)[0]):
            return "Ce formulaire a déjà été envoyé : vérifiez vos informations et renvoyez-le."
        return None

    def _mac(self, browser_key: str, form: str, payload: bytes) -> bytes:
        return hmac.new(self._key, f"{form}\0{browser_key}\0".encode() + payload,
                        hashlib.sha256).digest()

    async def _first_use(self, nonce: str, issued: int) -> bool:
        expires = datetime.fromtimestamp(issued, UTC) + timedelta(seconds=self.max_age)
        async with self.database.session() as session:
            session.add(FormNonce(nonce=nonce, expires_at=expires))
            try:
                await session.commit()
            except IntegrityError:
                return False
            if secrets.randbelow(100) == 0:
                await session.execute(delete(FormNonce).where(FormNonce.expires_at < utcnow()))
                await session.commit()
        return True
