"""The production login limits: a practice behind one address is not locked out, while
password guessing on one account is still stopped with a wait the client can show."""

from __future__ import annotations

import aiohttp
import pytest

from bridge.config import load_settings, write_default_config
from bridge.homeserver import render_synapse_config
from bridge.matrix.synapse_admin import register_with_shared_secret
from bridge.supervisor import SynapseProcess
from tests.e2e.harness import stack_environment

pytestmark = pytest.mark.e2e

PRACTICE_SIZE = 12  # people logging in from one address within a minute


async def _login(http, base: str, user: str, password: str) -> tuple[int, dict]:
    async with http.post(f"{base}/_matrix/client/v3/login", json={
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password}) as response:
        return response.status, await response.json()


async def test_practice_logins_pass_and_guessing_is_slowed(tmp_path):
    env = stack_environment()
    env["CONFRERE_SYNAPSE__RELAXED_RATE_LIMITS"] = "false"  # the production profile
    write_default_config(tmp_path)
    settings = load_settings(tmp_path, env)
    synapse = SynapseProcess(render_synapse_config(settings), settings.synapse.url,
                             settings.logs_dir / "synapse.stdout.log")
    await synapse.start()
    try:
        base = settings.synapse.url
        async with aiohttp.ClientSession() as http:
            people = []
            for n in range(PRACTICE_SIZE):
                answer = await register_with_shared_secret(
                    http, base, settings.secrets.registration_shared_secret,
                    f"soignant{n}", f"Mot-de-passe-{n}-Xy9")
                people.append((answer["user_id"], f"Mot-de-passe-{n}-Xy9"))
            for user_id, password in people:
                status, body = await _login(http, base, user_id, password)
                assert status == 200, (user_id, body)
            target = people[0][0]
            statuses = []
            for attempt in range(8):
                status, body = await _login(http, base, target, f"mauvais-{attempt}")
                statuses.append(status)
                if status == 429:
                    assert body["errcode"] == "M_LIMIT_EXCEEDED"
                    assert body.get("retry_after_ms", 0) > 0, "the wait is given to the client"
                    break
            assert statuses[-1] == 429, f"password guessing was never slowed: {statuses}"
    finally:
        await synapse.stop()
