"""Starts a real Synapse and the Confrère service on free loopback ports, and stops them."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from datetime import datetime, timezone

import aiohttp
from sqlalchemy import select, update

from bridge.accounts.models import Account
from bridge.config import Settings, load_settings, write_default_config
from bridge.homeserver import render_synapse_config
from bridge.logs import attach_service_log
from bridge.matrix.synapse_admin import register_with_shared_secret
from bridge.service import ConfrereService
from bridge.supervisor import SynapseProcess
from tests.e2e.matrix_client import TestClient
from tests.security.canaries import plant


SAMPLE_EXTRACT = Path(__file__).resolve().parents[1] / "data" / "ps_libreacces_sample.txt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_environment(backend_urls: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "CONFRERE_SYNAPSE__PORT": str(free_port()),
        "CONFRERE_SERVICE__PORT": str(free_port()),
        "CONFRERE_PSC__SIMULATOR_PORT": str(free_port()),
        "CONFRERE_SYNAPSE__RELAXED_RATE_LIMITS": "true",
        "CONFRERE_ACCESS_RULES__CACHE_SECONDS": "1",
        "CONFRERE_ACCESS_RULES__TIMEOUT_SECONDS": "3",
    }
    if backend_urls:
        env.update(backend_urls)
    return env


@dataclass
class Stack:
    data_dir: Path
    settings: Settings
    synapse: SynapseProcess
    service: ConfrereService
    clients: list[TestClient] = field(default_factory=list)
    log_handler: logging.Handler | None = None  # the service's logs/confrere.log

    @classmethod
    async def start(cls, data_dir: Path, env: dict[str, str]) -> "Stack":
        write_default_config(data_dir)
        settings = load_settings(data_dir, env)
        for name, value in vars(settings.secrets).items():
            plant(value, f"secret {name}")
        log_handler = attach_service_log(settings.logs_dir, settings.logging.level)
        synapse = SynapseProcess(render_synapse_config(settings), settings.synapse.url,
                                 settings.logs_dir / "synapse.stdout.log")
        service = ConfrereService(settings)
        await service.start_http()
        await synapse.start()
        await service.start_matrix()
        plant(service.bot.client.access_token, "bot access token")
        # the national directory sample, as `confrere directory import` would load it
        await service.directory.import_extract(SAMPLE_EXTRACT, progress=False)
        return cls(data_dir, settings, synapse, service, log_handler=log_handler)

    async def restart_service(self) -> None:
        """Stop the service (bot included) and start a fresh one on the same data."""
        await self.service.stop()
        self.service = ConfrereService(self.settings)
        await self.service.start_http()
        await self.service.start_matrix()

    async def stop(self) -> None:
        for client in self.clients:
            await client.close()
        await self.service.stop()
        await self.synapse.stop()
        if self.log_handler is not None:
            logging.getLogger().removeHandler(self.log_handler)
            self.log_handler.close()

    @property
    def bot_id(self) -> str:
        return self.settings.bot_user_id

    async def register(self, prefix: str = "user") -> tuple[str, str]:
        """A new Matrix account (user id, password) through shared-secret registration."""
        username = f"{prefix}{uuid.uuid4().hex[:8]}"
        password = plant(uuid.uuid4().hex, "password")
        async with aiohttp.ClientSession() as http:
            answer = await register_with_shared_secret(
                http, self.settings.synapse.url, self.settings.secrets.registration_shared_secret,
                username, password,
            )
        return answer["user_id"], password

    async def add_account(self, user_id: str, first_name: str = "Camille",
                          last_name: str = "Bernard", state: str = "unverified",
                          declared: str | None = None) -> None:
        """The Confrère profile the signup flow would have stored for `user_id`."""
        now = datetime.now(timezone.utc)
        async with self.service.database.session() as session, session.begin():
            session.add(Account(
                user_id=user_id, first_name=first_name, last_name=last_name,
                email=f"{user_id[1:].split(':')[0]}@example.org", exercise_mode="liberal",
                declared_identifier=declared, declared_identifier_type="RPPS" if declared else None,
                terms_version="test", terms_accepted_at=now, privacy_version="test",
                privacy_accepted_at=now, verification_state=state,
            ))

    async def practitioner(self, prefix: str = "user", *, verified: bool,
                           **account) -> TestClient:
        """A logged-in client with a Confrère account, verified or not."""
        client = await self.client(prefix)
        await self.add_account(client.user_id, state="verified" if verified else "unverified",
                               **account)
        return client

    async def free_national_id(self, national_id: str) -> None:
        """One identity, one account — and this stack is shared by the whole session: a test
        that proves an identity an earlier test already linked first unlinks it here."""
        async with self.service.database.session() as session, session.begin():
            await session.execute(update(Account).where(Account.national_id == national_id)
                                  .values(national_id=None))

    async def onboarding_dm(self, client: TestClient, timeout: float = 40) -> str:
        """The conversation the bot itself opens with an account — the only room usable
        before verification. Asks the welcome worker for it (as after a signup), accepts the
        bot's invitation and waits for the welcome, so later answers are not mistaken for it."""
        async with self.service.database.session() as session, session.begin():
            account = (await session.execute(select(Account).where(
                Account.user_id == client.user_id))).scalar_one()
            if account.onboarding_room_id and account.onboarding_room_id in client.client.rooms:
                return account.onboarding_room_id
            account.welcome_pending = True
        self.service.welcome.poke()
        room_id = await client.accept_invite_from(self.bot_id, timeout)
        await client.next_message_from(self.bot_id, room_id, 0, timeout)
        return room_id

    async def client(self, prefix: str = "user") -> TestClient:
        user_id, password = await self.register(prefix)
        client = TestClient(self.settings.synapse.url, user_id,
                            self.data_dir / "clients" / user_id.strip("@").replace(":", "_"))
        await client.login(password)
        self.clients.append(client)
        return client


async def wait(condition, timeout: float = 10, interval: float = 0.1) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await condition():
            return True
        await asyncio.sleep(interval)
    return False
