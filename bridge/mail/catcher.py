"""Development SMTP catcher: an aiosmtpd server on loopback inside the service's event loop.

Why: a newcomer running `confrere up` can finish a signup without any mail server; received
mail is kept in memory (newest first, bounded) and shown at `/_dev/mail`. Tests use the same
class as "the SMTP server" and stop/restart it to simulate an outage.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class CaughtMail:
    """One received message, decoded for display."""

    received_at: datetime
    sender: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    text: str
    html: str


@dataclass
class MailCatcher:
    host: str = "127.0.0.1"
    port: int = 0
    keep: int = 500
    messages: deque = field(default_factory=deque)
    _server: asyncio.AbstractServer | None = None
    _arrived: asyncio.Condition | None = None

    async def start(self) -> None:
        """Listen (on the same port again after a `stop()`: tests simulate outages)."""
        loop = asyncio.get_running_loop()
        self._arrived = self._arrived or asyncio.Condition()
        self._server = await loop.create_server(
            lambda: SMTP(_Handler(self), hostname="confrere-dev-catcher"),
            host=self.host, port=self.port, reuse_address=True,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def to(self, address: str) -> list[CaughtMail]:
        """Messages received for `address`, oldest first."""
        return [m for m in reversed(self.messages) if address.lower() in
                (r.lower() for r in m.recipients)]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 30) -> list[CaughtMail]:
        """Wait until `address` has received at least `count` messages."""
        assert self._arrived is not None

        async def enough() -> list[CaughtMail]:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.to(address)) >= count)
            return self.to(address)

        return await asyncio.wait_for(enough(), timeout)

    async def _received(self, envelope: Envelope) -> None:
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=email.policy.default)
        text = parsed.get_body(("plain",))
        html = parsed.get_body(("html",))
        self.messages.appendleft(CaughtMail(
            received_at=datetime.now(UTC), sender=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos), subject=str(parsed.get("Subject", "")),
            message_id=str(parsed.get("Message-ID", "")),
            text=text.get_content() if text is not None else "",
            html=html.get_content() if html is not None else "",
        ))
        while len(self.messages) > self.keep:
            self.messages.pop()
        if self._arrived is not None:
            async with self._arrived:
                self._arrived.notify_all()


class _Handler:
    def __init__(self, catcher: MailCatcher) -> None:
        self.catcher = catcher

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self.catcher._received(envelope)
        return "250 Message accepted for delivery"
