"""Outbox throughput: mails queued in the database, delivered by the worker over real SMTP to a
local aiosmtpd server. Prints mails per second (SQLite by default; --pg for PostgreSQL)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.mail.catcher import MailCatcher
from bridge.mail.outbox import OutboxWorker, enqueue
from bridge.mail.smtp import SmtpTarget
from bridge.storage.database import Database


async def run(count: int, url: str) -> None:
    database = Database(url)
    await database.migrate()
    catcher = MailCatcher(keep=count + 10)
    await catcher.start()
    async with database.session() as session:
        for i in range(count):
            enqueue(session, kind="bench", recipient=f"bench{i}@exemple.fr",
                    subject="Votre code Confrère", text=f"Bonjour,\n\n    {i:06d}\n",
                    html=f"<p>Bonjour,</p><p><strong>{i:06d}</strong></p>")
        await session.commit()
    worker = OutboxWorker(database, SmtpTarget("127.0.0.1", catcher.port), "bench@localhost",
                          poll_seconds=0.05)
    started = time.perf_counter()
    worker.start()
    while len(catcher.messages) < count:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    await worker.stop()
    await catcher.stop()
    await database.close()
    print(f"outbox ({database.dialect}): {count} mails in {elapsed:.2f} s = "
          f"{count / elapsed:.0f} mails/s (batches of 50 on one SMTP connection, loopback aiosmtpd)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--pg", help="postgresql+asyncpg:// URL of an empty database")
    args = parser.parse_args()
    url = args.pg or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    asyncio.run(run(args.count, url))


if __name__ == "__main__":
    main()
