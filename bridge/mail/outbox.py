"""The durable outbox: `enqueue` inside the caller's transaction, `OutboxWorker` delivers.

Why this shape: a signup code must reach the practitioner even if the SMTP relay is down when
they submit the form, and must never arrive twice. Rows are claimed with a lease (a conditional
UPDATE, safe with several processes), sent, then marked sent; failures back off exponentially.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.mail.models import OutboxMail
from bridge.mail.smtp import PermanentFailure, SmtpConnection, SmtpTarget
from bridge.background import PollingWorker, backoff  # noqa: F401 - also imported from here
from bridge.storage.database import Database
from bridge.storage.models import utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
BATCH = 50


def enqueue(session: AsyncSession, *, kind: str, recipient: str, subject: str, text: str,
            html: str, domain: str = "confrere.local") -> OutboxMail:
    """Add a mail to the caller's unit of work; it is sent only if that work commits."""
    mail = OutboxMail(
        message_id=f"<{uuid.uuid4().hex}@{domain}>", kind=kind, recipient=recipient,
        subject=subject, body_text=text, body_html=html, created_at=utcnow(),
        next_attempt_at=utcnow(), attempts=0,
    )
    session.add(mail)
    return mail


def as_message(mail: OutboxMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at if mail.created_at.tzinfo else
                                      mail.created_at.replace(tzinfo=utcnow().tzinfo))
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    return message


class OutboxWorker(PollingWorker):
    """Delivers due mails; `poke()` after a commit makes it look at once."""

    name = "mail-outbox"

    def __init__(self, database: Database, target: SmtpTarget, sender: str, *,
                 retry_ceiling: float = 300, poll_seconds: float = 2) -> None:
        super().__init__()
        self.database = database
        self.target = target
        self.sender = sender
        self.retry_ceiling = retry_ceiling
        self.poll_seconds = poll_seconds

    async def run_once(self) -> bool:
        return await self.deliver_due()

    async def deliver_due(self) -> bool:
        """One pass: claim up to BATCH due mails, send them on one connection.

        Returns True when a full batch was handled (more may be waiting).
        """
        claimed = await self._claim()
        if not claimed:
            return False
        pending = list(claimed)
        try:
            async with SmtpConnection(self.target) as smtp:
                while pending:
                    mail = pending.pop(0)
                    await self._send_one(smtp, mail, pending)
        except Exception as exc:  # noqa: BLE001 - relay down, refused connection, timeout…
            reason = type(exc).__name__
            log.warning("SMTP relay unavailable (%s); %d mail(s) will be retried", reason,
                        len(pending))
            for mail in pending:
                await self._retry_later(mail, reason)
            return False
        return len(claimed) >= BATCH

    async def _claim(self) -> list[OutboxMail]:
        now = utcnow()
        async with self.database.session() as session:
            candidates = (await session.scalars(
                select(OutboxMail.id).where(
                    OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None),
                    OutboxMail.next_attempt_at <= now,
                    or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
                ).order_by(OutboxMail.id).limit(BATCH)
            )).all()
            mine: list[int] = []
            for mail_id in candidates:
                result = await session.execute(
                    update(OutboxMail).where(and_(
                        OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None),
                        or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
                    )).values(claimed_until=now + LEASE)
                )
                if result.rowcount == 1:
                    mine.append(mail_id)
            await session.commit()
            if not mine:
                return []
            rows = await session.scalars(
                select(OutboxMail).where(OutboxMail.id.in_(mine)).order_by(OutboxMail.id))
            return list(rows)

    async def _send_one(self, smtp: SmtpConnection, mail: OutboxMail,
                        pending: list[OutboxMail]) -> None:
        """Send; on a transient error put the mail back in `pending` (retried later)."""
        try:
            await smtp.send(as_message(mail, self.sender))
        except PermanentFailure as exc:
            log.warning("mail %d (%s) refused for good: %s", mail.id, mail.kind, exc)
            await self._mark(mail.id, failed_at=utcnow(), claimed_until=None,
                             last_error=str(exc)[:255], body_text="", body_html="")
            return
        except Exception:
            pending.insert(0, mail)
            raise
        await self._mark(mail.id, sent_at=utcnow(), claimed_until=None, last_error=None,
                         body_text="", body_html="", attempts=mail.attempts + 1)

    async def _retry_later(self, mail: OutboxMail, reason: str) -> None:
        attempts = mail.attempts + 1
        delay = backoff(attempts, self.retry_ceiling)
        await self._mark(mail.id, attempts=attempts, claimed_until=None, last_error=reason[:255],
                         next_attempt_at=utcnow() + timedelta(seconds=delay))

    async def _mark(self, mail_id: int, **values) -> None:
        async with self.database.session() as session:
            await session.execute(update(OutboxMail).where(OutboxMail.id == mail_id)
                                  .values(**values))
            await session.commit()


async def delivery_state(session: AsyncSession, mail_id: int | None) -> str:
    """"sent", "pending", "delayed" (tried and failed at least once) or "failed"."""
    if mail_id is None:
        return "pending"
    mail = await session.get(OutboxMail, mail_id)
    if mail is None:
        return "pending"
    if mail.sent_at is not None:
        return "sent"
    if mail.failed_at is not None:
        return "failed"
    return "delayed" if mail.attempts > 0 else "pending"

