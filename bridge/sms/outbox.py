"""`enqueue_sms` inside the caller's transaction; `SmsWorker` delivers (see bridge/delivery.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.delivery import DeliveryWorker
from bridge.sms.models import OutboxSms
from bridge.sms.provider import Sms
from bridge.storage.database import Database
from bridge.storage.models import utcnow
from bridge.storage.sealing import SealedBox

PURPOSE = "sms"


def enqueue_sms(session: AsyncSession, box: SealedBox, *, kind: str, to: str, text: str,
                referral_id: int | None = None, not_before: datetime | None = None
                ) -> OutboxSms:
    """Add an SMS to the caller's unit of work; sent only if that work commits."""
    row = OutboxSms(delivery_id=uuid.uuid4().hex, kind=kind, referral_id=referral_id,
                    sealed_payload=box.seal_json({"to": to, "text": text}),
                    created_at=utcnow(), send_after=not_before,
                    next_attempt_at=not_before or utcnow(), attempts=0)
    session.add(row)
    return row


async def withdraw_pending(session: AsyncSession, referral_id: int, kind: str) -> None:
    """Cancel not-yet-sent SMS of a referral (the reminder of a cancelled appointment)."""
    await session.execute(update(OutboxSms).where(
        OutboxSms.referral_id == referral_id, OutboxSms.kind == kind,
        OutboxSms.sent_at.is_(None)).values(cancelled_at=utcnow(), sealed_payload=""))


class SmsWorker(DeliveryWorker):
    """Start with `SmsWorker(db, SealedBox(key, "sms"), provider_from(settings)).start()`."""

    name = "sms-outbox"
    model = OutboxSms

    def __init__(self, database: Database, box: SealedBox, provider, **kwargs) -> None:
        super().__init__(database, **kwargs)
        self.box = box
        self.provider = provider

    async def deliver(self, row: OutboxSms) -> None:
        payload = self.box.open_json(row.sealed_payload)
        await self.provider.send(Sms(row.delivery_id, payload["to"], payload["text"]))

    def blank(self) -> dict:
        return {"sealed_payload": ""}
