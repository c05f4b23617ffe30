"""Fixtures of the CPS tests: pcscd (tests.cps.fixtures) and the service's CPS endpoints on a
real database (each back-end), reachable over HTTP like `confrere-cps` reaches them."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from bridge.accounts.models import Account
from bridge.identity.cps import TrustStore
from bridge.identity.cps_challenge import issue_code
from bridge.verification.service import Decision, VerificationService
from bridge.web.cps import CpsEndpoints
from tests.cps import pki
from tests.cps.fixtures import pcscd  # noqa: F401 - the session fixture for tests/cps


@dataclass
class CpsWorld:
    url: str
    database: object
    verification: VerificationService
    endpoints: CpsEndpoints
    decisions: list[Decision] = field(default_factory=list)

    async def account(
        self,
        user_id: str,
        first: str = "Camille",
        last: str = "Bernard",
        declared: str | None = "10001045367",
    ) -> str:
        now = datetime.now(UTC)
        async with self.database.session() as session, session.begin():
            session.add(
                Account(
                    user_id=user_id,
                    first_name=first,
                    last_name=last,
                    email=f"{user_id[1:].split(':')[0]}@example.org",
                    exercise_mode="liberal",
                    declared_identifier=declared,
                    declared_identifier_type="RPPS" if declared else None,
                    terms_version="t",
                    terms_accepted_at=now,
                    privacy_version="t",
                    privacy_accepted_at=now,
                    verification_state="unverified",
                )
            )
        return user_id

    async def code(self, user_id: str, minutes: int = 15) -> str:
        return await issue_code(self.database, user_id, minutes)

    async def state(self, user_id: str) -> str:
        return (await self.verification.account(user_id)).verification_state

    async def post(self, path: str, body) -> tuple[int, dict]:
        async with aiohttp.ClientSession() as http:
            kwargs = {"data": body} if isinstance(body, (str, bytes)) else {"json": body}
            async with http.post(self.url + path, **kwargs) as response:
                return response.status, await response.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def cps_world(database, tmp_path):
    verification = VerificationService(database)
    trust = TrustStore.from_files(pki.write_trust_files(tmp_path / "igc"))
    endpoints = CpsEndpoints(verification, trust, challenge_seconds=60)
    world_decisions: list[Decision] = []

    async def record(decision: Decision) -> None:
        world_decisions.append(decision)

    verification.listen("test.record", record)
    app = web.Application()
    app.add_routes(endpoints.routes())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield CpsWorld(
            f"http://127.0.0.1:{port}", database, verification, endpoints, world_decisions
        )
    finally:
        await runner.cleanup()
