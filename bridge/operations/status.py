"""`confrere status`: is each part of a running Confrère healthy? One line per part.

Read-only: it asks Synapse and the service over HTTP and reads the service's database; it never
starts or changes anything, so an operator can run it at any time (or from a monitoring job:
exit code 0 when everything is healthy, 1 otherwise).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone

import aiohttp
from sqlalchemy import func, select

from bridge.config import Settings

#: A directory older than this is reported (the ANS publishes the extract every day).
DIRECTORY_STALE_DAYS = 8


@dataclass(frozen=True)
class Check:
    part: str
    healthy: bool
    detail: str

    def line(self) -> str:
        return f"{'OK ' if self.healthy else 'KO '} {self.part:<22} {self.detail}"


async def _get_json(http: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with http.get(url) as response:
        return response.status, await response.json(content_type=None)


async def check_synapse(http: aiohttp.ClientSession, settings: Settings) -> Check:
    try:
        status, _ = await _get_json(http, f"{settings.synapse.url}/_matrix/client/versions")
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return Check("Synapse", False, f"injoignable sur {settings.synapse.url}")
    return Check("Synapse", status == 200, f"{settings.synapse.url} (HTTP {status})")


async def check_service(http: aiohttp.ClientSession, settings: Settings) -> list[Check]:
    url = f"{settings.service.url}/_confrere/health"
    try:
        status, body = await _get_json(http, url)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return [Check("Service Confrère", False, f"injoignable sur {settings.service.url}"),
                Check("Robot", False, "service injoignable")]
    bot = bool(body.get("bot"))
    return [Check("Service Confrère", status == 200, f"{settings.service.url} (HTTP {status})"),
            Check("Robot", bot, f"{settings.bot_user_id}, appareil {body.get('bot_device')}"
                  if bot else "pas encore prêt")]


async def check_database(settings: Settings) -> list[Check]:
    """Outbox backlog and the directory's last import, read from the service's database."""
    from bridge.directory.store import DirectoryStore
    from bridge.mail.models import OutboxMail
    from bridge.storage.database import Database

    database = Database(settings.database_url)
    try:
        async with database.session() as session:
            backlog = await session.scalar(select(func.count()).select_from(OutboxMail).where(
                OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None)))
            failed = await session.scalar(select(func.count()).select_from(OutboxMail).where(
                OutboxMail.failed_at.is_not(None)))
        last = await DirectoryStore(database).last_import()
    except Exception as exc:  # noqa: BLE001 - report, do not crash the health check
        return [Check("Base de données", False, f"illisible ({type(exc).__name__})")]
    finally:
        await database.close()
    checks = [Check("Courriels en attente", (backlog or 0) < 100,
                    f"{backlog or 0} en attente, {failed or 0} refusé(s) par le relais")]
    if last is None:
        checks.append(Check("Annuaire", False, "pas encore importé (confrere directory import)"))
    else:
        finished = last.finished_at or last.started_at
        if finished.tzinfo is None:
            finished = finished.replace(tzinfo=timezone.utc)
        age = datetime.now(timezone.utc) - finished
        checks.append(Check(
            "Annuaire", age.days < DIRECTORY_STALE_DAYS,
            f"{last.persons} praticiens, importé il y a {_age(age.total_seconds())} "
            f"({last.source})"))
    return checks


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 172800:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} jours"


async def collect(settings: Settings) -> list[Check]:
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        synapse, service = await asyncio.gather(check_synapse(http, settings),
                                                check_service(http, settings))
    return [synapse, *service, *await check_database(settings)]


def run(settings: Settings) -> int:
    checks = asyncio.run(collect(settings))
    print(f"Confrère — état de {settings.data_dir}")
    for check in checks:
        print(check.line())
    healthy = all(check.healthy for check in checks)
    print("Tout fonctionne." if healthy else "Au moins une partie demande votre attention.")
    return 0 if healthy else 1
