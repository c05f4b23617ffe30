"""A document-check service on a real database, with the Onfido simulator and a fake bot."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from bridge.accounts.models import Account
from bridge.config import load_settings
from bridge.dev.onfido_simulator import OnfidoSimulator
from bridge.directory.sample import SAMPLE_EXTRACT
from bridge.directory.service import DirectoryService
from bridge.identity.document_checks import DocumentChecks, OnfidoProvider
from bridge.identity.onfido import OnfidoClient
from bridge.verification.effects import ADMIN_ROOM_KEY
from bridge.verification.service import VerificationService
from bridge.web.onfido import WEBHOOK_PATH, OnfidoWebhook


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeBot:
    """Records what the service would post in Matrix."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.images: list[tuple[str, bytes, str]] = []

    async def send_text(self, room_id: str, text: str, html: str | None = None) -> None:
        self.texts.append((room_id, text))

    async def send_encrypted_image(self, room_id: str, data: bytes, mimetype: str,
                                   body: str) -> None:
        self.images.append((room_id, data, mimetype))


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def add_account(database, user_id: str, first: str = "Camille", last: str = "Bernard"):
    now = datetime.now(UTC)
    async with database.session() as session, session.begin():
        session.add(Account(
            user_id=user_id, first_name=first, last_name=last,
            email=f"{user_id[1:].split(':')[0]}@example.org", exercise_mode="liberal",
            declared_identifier="10000100007", declared_identifier_type="RPPS",  # in the sample
            terms_version="t", terms_accepted_at=now, privacy_version="t",
            privacy_accepted_at=now, verification_state="unverified"))


@pytest.fixture
async def onfido_world(database, tmp_path):
    """(checks, simulator, bot): checks wired to the simulator, webhooks delivered."""
    settings = load_settings(tmp_path, {"CONFRERE_VERIFICATION__DOCUMENT_PROVIDER": "onfido"})
    verification = VerificationService(database, settings.administrators)
    checks = DocumentChecks(settings, database, verification)
    # An Onfido "clear" verifies only an identity the directory knows: the bundled sample.
    checks.directory = DirectoryService(settings, database)
    await checks.directory.import_extract(SAMPLE_EXTRACT, progress=False)
    verification.listen("identity.delete-documents", checks.on_decision)
    checks.bot = FakeBot()
    await verification.set_value(ADMIN_ROOM_KEY, "!admins:localhost")
    simulator = OnfidoSimulator(api_token="api-token", webhook_token="hook-token",
                                delay_seconds=0.05)
    sim_runner, sim_url = await serve(simulator.app())
    simulator.base_url = sim_url
    webhook = web.Application()
    webhook.add_routes(OnfidoWebhook(checks).routes())
    hook_runner, hook_url = await serve(webhook)
    simulator.webhook_url = hook_url + WEBHOOK_PATH
    http = aiohttp.ClientSession()
    checks.onfido = OnfidoProvider(OnfidoClient(simulator.api_url, "api-token", http),
                                   "hook-token")
    try:
        yield checks, simulator, checks.bot
    finally:
        await http.close()
        await hook_runner.cleanup()
        await sim_runner.cleanup()
