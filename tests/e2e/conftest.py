"""One real stack (Synapse + service + bot) per back-end and per test session."""

from __future__ import annotations

import pytest

from tests.conftest import create_pg_database, drop_pg_database, pg_async_url, PG_BASE
from tests.e2e.harness import Stack, stack_environment


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def stack(request, tmp_path_factory):
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
