"""Signup fixtures: a test SMTP server (aiosmtpd, real SMTP exchanges), the service alone (web
pages, outbox; no Synapse) and a whole stack (Synapse + service + bot), each per back-end."""

from __future__ import annotations

import pytest

from bridge.config import load_settings, write_default_config
from bridge.mail.catcher import MailCatcher
from bridge.service import ConfrereService
from tests.conftest import PG_BASE, create_pg_database, drop_pg_database, pg_async_url
from tests.e2e.harness import Stack, free_port, stack_environment
from tests.signup.client import SignupClient


@pytest.fixture(scope="session")
async def smtp():
    """The SMTP server the service delivers to; tests stop and restart it."""
    server = MailCatcher(port=free_port())
    await server.start()
    yield server
    await server.stop()


def mail_environment(smtp_port: int) -> dict[str, str]:
    return {
        "CONFRERE_MAIL__DEV_CATCHER": "false",
        "CONFRERE_MAIL__SMTP_HOST": "127.0.0.1",
        "CONFRERE_MAIL__SMTP_PORT": str(smtp_port),
        "CONFRERE_MAIL__TLS": "none",
        "CONFRERE_MAIL__RETRY_MAX_SECONDS": "1",
        # each test client says which address it comes from (X-Forwarded-For)
        "CONFRERE_SIGNUP__TRUST_FORWARDED_FOR": "true",
        "CONFRERE_SIGNUP__CODES_PER_ADDRESS_PER_HOUR": "3",
        "CONFRERE_SIGNUP__CODES_PER_IP_PER_HOUR": "5",
        "CONFRERE_SIGNUP__TERMS_VERSION": "cgu-test-3",
        "CONFRERE_SIGNUP__PRIVACY_VERSION": "rgpd-test-7",
    }


async def _backend_urls(backend: str, created: list[str], with_synapse: bool) -> dict[str, str]:
    if backend != "postgresql":
        return {}
    confrere_db = await create_pg_database("confrere_signup")
    created.append(confrere_db)
    urls = {"CONFRERE_DATABASE__URL": pg_async_url(confrere_db)}
    if with_synapse:
        synapse_db = await create_pg_database("synapse_signup", c_collation=True)
        created.append(synapse_db)
        urls["CONFRERE_SYNAPSE__DATABASE_URL"] = f"{PG_BASE}/{synapse_db}"
    return urls


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def web(request, tmp_path_factory, smtp):
    """The service's HTTP side only: Synapse is not running (so account creation fails)."""
    created: list[str] = []
    env = stack_environment(dict(await _backend_urls(request.param, created, False),
                                 **mail_environment(smtp.port)))
    data_dir = tmp_path_factory.mktemp(f"signup-web-{request.param}")
    write_default_config(data_dir)
    service = ConfrereService(load_settings(data_dir, env))
    await service.start_http()
    service.backend = request.param
    try:
        yield service
    finally:
        await service.stop()
        for name in created:
            await drop_pg_database(name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def signup_stack(request, tmp_path_factory, smtp):
    """Synapse + service + bot, delivering mail to the test SMTP server."""
    created: list[str] = []
    env = stack_environment(dict(await _backend_urls(request.param, created, True),
                                 **mail_environment(smtp.port)))
    running = await Stack.start(tmp_path_factory.mktemp(f"signup-stack-{request.param}"), env)
    running.backend = request.param
    try:
        yield running
    finally:
        await running.stop()
        for name in created:
            await drop_pg_database(name)


@pytest.fixture
async def client_for():
    """`client_for(service)` -> a SignupClient (own cookies, own client address)."""
    made: list[SignupClient] = []

    def make(service) -> SignupClient:
        client = SignupClient(service.settings.service.url)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
