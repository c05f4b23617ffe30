"""`confrere account create` makes an account that behaves like one made by the signup page:
profile, the bot's welcome in its own conversation, and the verification paths."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from tests.signup.welcome import welcome_of

pytestmark = pytest.mark.e2e


def _stack_env(stack) -> dict[str, str]:
    """The overrides the test stack was started with, for a `confrere` command beside it."""
    settings = stack.settings
    env = {"CONFRERE_SYNAPSE__PORT": str(settings.synapse.port),
           "CONFRERE_SERVICE__PORT": str(settings.service.port)}
    if settings.database.url:
        env["CONFRERE_DATABASE__URL"] = settings.database.url
    if settings.synapse.database_url:
        env["CONFRERE_SYNAPSE__DATABASE_URL"] = settings.synapse.database_url
    return env


async def test_operator_made_account_gets_welcome_and_can_ask_for_verification(stack):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "account", "create", "Essai", "Démonstration",
        "--email", f"essai.{stack.backend}@exemple.invalid", "--data", str(stack.data_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **_stack_env(stack)})
    output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    assert process.returncode == 0, output
    password = output.split("Mot de passe : ", 1)[1].split()[0]
    account, client, welcome = await welcome_of(
        stack, f"essai.{stack.backend}@exemple.invalid", password)
    assert account.first_name == "Essai" and account.verification_state == "unverified"
    assert welcome.decrypted and "!verifier" in welcome.body
    answer = await client.ask(account.onboarding_room_id, stack.bot_id, "!verifier manuel")
    assert "Je ne trouve pas de compte" not in answer.body
