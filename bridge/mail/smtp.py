"""Delivery of one batch of mails over one SMTP connection (aiosmtplib), TLS as configured."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to deliver; built once from the settings (or the dev catcher)."""

    host: str
    port: int
    tls: str = "none"  # none | starttls | tls
    username: str = ""
    password: str = ""
    timeout: float = 20

    def client(self) -> aiosmtplib.SMTP:
        context = ssl.create_default_context() if self.tls != "none" else None
        return aiosmtplib.SMTP(
            hostname=self.host, port=self.port, timeout=self.timeout,
            use_tls=self.tls == "tls", start_tls=self.tls == "starttls",
            tls_context=context,
        )


class PermanentFailure(Exception):
    """The relay refused this mail for good (5xx): retrying would not help."""


class SmtpConnection:
    """`async with SmtpConnection(target) as smtp: await smtp.send(message)`."""

    def __init__(self, target: SmtpTarget) -> None:
        self.target = target
        self._client = target.client()

    async def __aenter__(self) -> SmtpConnection:
        await self._client.connect()
        if self.target.username:
            await self._client.login(self.target.username, self.target.password)
        return self

    async def __aexit__(self, *exc_info) -> None:
        try:
            await self._client.quit()
        except aiosmtplib.SMTPException:
            self._client.close()

    async def send(self, message: EmailMessage) -> None:
        """Raise PermanentFailure on a 5xx answer; other errors are transient."""
        try:
            await self._client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if all(500 <= r.code < 600 for r in exc.recipients):
                raise PermanentFailure(f"recipient refused ({exc.recipients[0].code})") from exc
            raise
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600 and not isinstance(exc, aiosmtplib.SMTPServerDisconnected):
                raise PermanentFailure(f"refused ({exc.code})") from exc
            raise


def target_for(settings, catcher_port: int | None = None) -> SmtpTarget:
    """The relay from the settings, or the dev catcher (plain SMTP on loopback) when it runs."""
    mail = settings.mail
    if catcher_port is not None:
        return SmtpTarget("127.0.0.1", catcher_port, "none", timeout=mail.timeout_seconds)
    return SmtpTarget(mail.smtp_host, mail.smtp_port, mail.tls, mail.username,
                      mail.password(settings.data_dir), mail.timeout_seconds)
