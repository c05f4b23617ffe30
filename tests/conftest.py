"""Shared fixtures: databases on both back-ends (SQLite and the machine's PostgreSQL).

PostgreSQL is expected at 127.0.0.1:5432 with trust auth (override with CONFRERE_TEST_PG, a
libpq-style URL without database name). Each test database is created and dropped here.
"""

from __future__ import annotations

import os
import uuid

import asyncpg
import pytest

from bridge.storage.database import Database

PG_BASE = os.environ.get("CONFRERE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


async def create_pg_database(prefix: str, *, c_collation: bool = False) -> str:
    """Create an empty database and return its name (dropped by `drop_pg_database`)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(f"{PG_BASE}/postgres")
    try:
        extra = " LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" if c_collation else ""
        await conn.execute(f"CREATE DATABASE {name} ENCODING 'UTF8'{extra}")
    finally:
        await conn.close()
    return name


async def drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(f"{PG_BASE}/postgres")
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


def pg_async_url(name: str) -> str:
    return PG_BASE.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    """An empty database URL on each back-end in turn."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'confrere.db'}"
        return
    name = await create_pg_database("confrere_test")
    try:
        yield pg_async_url(name)
    finally:
        await drop_pg_database(name)


@pytest.fixture
async def database(database_url):
    """A migrated `Database` on each back-end in turn."""
    db = Database(database_url)
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def stack(request, tmp_path_factory):
    """One real stack (Synapse + service + bot) per back-end and per test session, shared by
    the end-to-end tests and the adversarial suite (`tests/security/`)."""
    from tests.e2e.harness import Stack, stack_environment

    backend = request.param
    created: list[str] = []
    urls: dict[str, str] = {}
    if backend == "postgresql":
        synapse_db = await create_pg_database("synapse_test", c_collation=True)
        confrere_db = await create_pg_database("confrere_e2e")
        created += [synapse_db, confrere_db]
        urls = {
            "CONFRERE_SYNAPSE__DATABASE_URL": f"{PG_BASE}/{synapse_db}",
            "CONFRERE_DATABASE__URL": pg_async_url(confrere_db),
        }
    data_dir = tmp_path_factory.mktemp(f"stack-{backend}")
    running = await Stack.start(data_dir, stack_environment(urls))
    running.backend = backend
    try:
        yield running
    finally:
        await running.stop()
        for name in created:
            await drop_pg_database(name)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """The log scan (tests/security/log_scan.py): any planted canary found in any log file of
    this session fails the session. It runs here, after every fixture (so every stack, Synapse
    included) has stopped and flushed its logs, which a last test could not guarantee."""
    from tests.security.canaries import kind_of, planted
    from tests.security.log_scan import scan

    factory = getattr(session.config, "_tmp_path_factory", None)
    basetemp = getattr(factory, "_basetemp", None)
    if basetemp is None or not planted():
        return
    hits = scan(basetemp, {value: kind_of(value) for value in planted()})
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")

    def say(line: str, **markup) -> None:
        reporter.write_line(line, **markup) if reporter else print(line)
    files = len({hit.path for hit in hits})
    if not hits:
        say(f"log scan: {len(planted())} canaries, none in the logs under {basetemp}")
        return
    say(f"LOG SCAN FAILED: {len(hits)} canary hit(s) in {files} log file(s):", red=True, bold=True)
    for hit in hits:
        say(f"  {hit.path.relative_to(basetemp)}: a planted {hit.kind} ({hit.hint})", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
