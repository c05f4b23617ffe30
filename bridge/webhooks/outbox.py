"""`enqueue_webhook` inside the caller's transaction; `WebhookWorker` signs and delivers.

The body is sealed at rest (it carries the patient's details for the practice software) and
blanked once delivered. The secret is the practitioner's, sealed in `agenda_profiles`.
"""

from __future__ import annotations

import json
import uuid

import aiohttp
from sqlalchemy import String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bridge.agenda.models import AgendaProfile
from bridge.delivery import DeliveryColumns, DeliveryWorker, Permanent, Transient
from bridge.storage.database import Database
from bridge.storage.models import Base, utcnow
from bridge.storage.sealing import SealedBox
from bridge.webhooks.signing import headers

PURPOSE = "webhook"
SECRET_PURPOSE = "webhook-secret"


class OutboxWebhook(DeliveryColumns, Base):
    __tablename__ = "webhook_outbox"

    national_id: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str] = mapped_column(String(500))
    sealed_body: Mapped[str] = mapped_column(Text)


async def enqueue_webhook(session: AsyncSession, box: SealedBox, national_id: str,
                          event: str, data: dict) -> OutboxWebhook | None:
    """Queue `event` for the practitioner's integrator, if they declared a webhook."""
    profile = await session.get(AgendaProfile, national_id)
    if profile is None or not profile.webhook_url or not profile.webhook_secret_sealed:
        return None
    delivery_id = uuid.uuid4().hex
    body = {"id": delivery_id, "type": event, "created": utcnow().isoformat(), "data": data}
    row = OutboxWebhook(delivery_id=delivery_id, kind=event[:32], national_id=national_id,
                        url=profile.webhook_url, sealed_body=box.seal_json(body),
                        created_at=utcnow(), next_attempt_at=utcnow(), attempts=0)
    session.add(row)
    return row


class WebhookWorker(DeliveryWorker):
    """Start with `WebhookWorker(db, settings.secrets.sealing_key).start()`."""

    name = "webhook-outbox"
    model = OutboxWebhook

    def __init__(self, database: Database, sealing_key: str, timeout: float = 10,
                 **kwargs) -> None:
        super().__init__(database, **kwargs)
        self.box = SealedBox(sealing_key, PURPOSE)
        self.secrets = SealedBox(sealing_key, SECRET_PURPOSE)
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def deliver(self, row: OutboxWebhook) -> None:
        async with self.database.session() as session:
            profile = await session.get(AgendaProfile, row.national_id)
        if profile is None or not profile.webhook_secret_sealed:
            raise Permanent("webhook no longer configured")
        secret = self.secrets.open(profile.webhook_secret_sealed).decode()
        body = json.dumps(self.box.open_json(row.sealed_body), ensure_ascii=False).encode()
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http:
                async with http.post(row.url, data=body,
                                     headers=headers(secret, row.delivery_id, body)) as resp:
                    status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Transient(type(exc).__name__) from None
        if 200 <= status < 300:
            return
        if 400 <= status < 500 and status not in (408, 409, 429):
            raise Permanent(f"receiver refused ({status})")
        raise Transient(f"receiver answered {status}")

    def blank(self) -> dict:
        return {"sealed_body": ""}


async def configure_webhook(db: Database, sealing_key: str, national_id: str,
                            url: str | None) -> str | None:
    """Set (or, with None, remove) a practitioner's webhook URL; returns the new HMAC secret,
    shown once to the integrator and kept sealed here (it must be readable to sign)."""
    import secrets as _secrets

    secret = _secrets.token_urlsafe(32) if url else None
    async with db.session() as session, session.begin():
        profile = await session.get(AgendaProfile, national_id)
        if profile is None:
            profile = AgendaProfile(national_id=national_id, accepts_new_patients=True)
            session.add(profile)
        profile.webhook_url = url
        profile.webhook_secret_sealed = (SealedBox(sealing_key, SECRET_PURPOSE).seal(
            secret.encode()) if secret else None)
    return secret
