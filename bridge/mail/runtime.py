"""Mail at run time: the dev catcher (when configured) and the outbox worker, started together."""

from __future__ import annotations

from bridge.config import Settings
from bridge.mail.catcher import MailCatcher
from bridge.mail.outbox import OutboxWorker
from bridge.mail.smtp import target_for
from bridge.storage.database import Database


class MailRuntime:
    def __init__(self, settings: Settings, database: Database) -> None:
        mail = settings.mail
        self.settings = settings
        self.database = database
        self.catcher = MailCatcher(port=mail.dev_catcher_port) if mail.dev_catcher else None
        self.outbox: OutboxWorker | None = None

    async def start(self) -> None:
        if self.catcher is not None:
            await self.catcher.start()
        target = target_for(self.settings, self.catcher.port if self.catcher else None)
        self.outbox = OutboxWorker(self.database, target, self.settings.mail.from_address,
                                   retry_ceiling=self.settings.mail.retry_max_seconds)
        self.outbox.start()

    async def stop(self) -> None:
        if self.outbox is not None:
            await self.outbox.stop()
        if self.catcher is not None:
            await self.catcher.stop()

    def describe(self) -> dict:
        """For `confrere up`'s summary and endpoints.json (no secrets)."""
        if self.catcher is not None:
            return {"mode": "dev_catcher", "smtp": f"127.0.0.1:{self.catcher.port}",
                    "mailbox_url": f"{self.settings.service.url}/_dev/mail"}
        mail = self.settings.mail
        return {"mode": "smtp", "smtp": f"{mail.smtp_host}:{mail.smtp_port}", "tls": mail.tls}
