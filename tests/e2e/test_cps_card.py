"""CPS card verification end to end, as a practitioner does it: the bot gives the command line
in the encrypted DM, the practitioner runs the installed light tool (`confrere-cps`, from its
wheel, in a fresh venv), the card signs through the CPS middleware's PKCS#11 (SoftHSM2) or over
PC/SC (virtual card behind a real pcscd), the service decides, the practitioner is told."""

from __future__ import annotations

import asyncio
import re
import shlex

import pytest
from nio import RoomCreateResponse

from bridge.identity.cps import TrustStore
from tests.cps import pki
from tests.cps.fixtures import READER, inserted, pcscd  # noqa: F401 - the session fixture
from tests.cps.installed import FIGURES, VERSIONS, tools_fixture  # noqa: F401 - fixture
from tests.cps.softhsm import softhsm_fixture  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("pcscd")]

COMMAND = re.compile(r"(confrere-cps --service \S+ --code \S+)")
NEWEST = VERSIONS[-1]


@pytest.fixture
def trusted(stack, tmp_path):
    """The running service trusts the test IGC-Santé PKI for the duration of a test."""
    endpoints = stack.service.services.cps
    configured = endpoints.trust
    endpoints.trust = TrustStore.from_files(pki.write_trust_files(tmp_path / "igc"))
    yield
    endpoints.trust = configured


async def command_from_bot(stack, client, room_id: str) -> list[str]:
    menu = await client.ask(room_id, stack.bot_id, "!verifier")
    assert "!verifier cps" in menu.body and "bientôt" not in menu.body
    answer = await client.ask(room_id, stack.bot_id, "!verifier cps")
    assert answer.decrypted and "ne sert qu'une fois" in answer.body
    line = COMMAND.search(answer.body)
    assert line, answer.body
    return shlex.split(line.group(1))[1:]


async def camille_asks(stack):
    await stack.free_national_id("810001045367")
    camille = await stack.practitioner(
        "camille", verified=False, first_name="Camille", last_name="Bernard", declared="10001045367"
    )
    dm = await stack.onboarding_dm(camille)
    return camille, dm, await command_from_bot(stack, camille, dm)


async def test_a_cps_card_in_a_reader_verifies_then_colleagues_can_talk(stack, trusted, tools):
    camille, dm, argv = await camille_asks(stack)
    colleague = await stack.practitioner("colleague", verified=True)
    assert argv[argv.index("--service") + 1] == stack.settings.service.url
    tool = tools.get(NEWEST)

    mark = len(camille.messages)
    with inserted(pki.card()):
        status, output, seconds = await asyncio.to_thread(
            tool.run, *argv, "--reader", READER, "--timeout", "5"
        )
    assert status == 0, output
    assert "CAMILLE BERNARD (810001045367)" in output and "Identité vérifiée" in output
    FIGURES["e2e pcsc seconds"] = round(seconds, 2)
    account = await stack.service.verification.account(camille.user_id)
    assert (account.verification_state, account.national_id) == ("verified", "810001045367")
    told = await camille.next_message_from(stack.bot_id, dm, mark)
    assert "vérifiée" in told.body and told.decrypted
    room = await camille.client.room_create(invite=[colleague.user_id])
    assert isinstance(room, RoomCreateResponse), room

    # the code in the DM served once
    with inserted(pki.card()):
        status, output, _ = await asyncio.to_thread(
            tool.run, *argv, "--reader", READER, "--timeout", "5"
        )
    assert status != 0 and "Ce code n'est pas valable" in output


@pytest.mark.parametrize("version", VERSIONS)
async def test_the_middleware_path_verifies_on_every_python(
    stack, trusted, tools, softhsm, version
):
    softhsm.add_card("CPS CAMILLE BERNARD", pki.card())
    camille, dm, argv = await camille_asks(stack)
    tool = tools.get(version)
    mark = len(camille.messages)
    status, output, seconds = await asyncio.to_thread(
        tool.run, *argv, "--pkcs11-module", softhsm.module, env=softhsm.environment
    )
    assert status == 0 and "module PKCS#11" in output and "Identité vérifiée" in output, output
    FIGURES[f"e2e pkcs11 {version} seconds"] = round(seconds, 2)
    account = await stack.service.verification.account(camille.user_id)
    assert account.verification_state == "verified"
    told = await camille.next_message_from(stack.bot_id, dm, mark)
    assert "vérifiée" in told.body


async def test_a_card_of_someone_else_is_refused_with_the_manual_path(
    stack, trusted, tools, softhsm
):
    softhsm.add_card("CPS ISABELLE", pki.card("810002813839", "DONNAT-GADY", "ISABELLE"))
    camille, dm, argv = await camille_asks(stack)
    mark = len(camille.messages)
    status, output, _ = await asyncio.to_thread(
        tools.get(NEWEST).run, *argv, "--pkcs11-module", softhsm.module, env=softhsm.environment
    )
    assert status == 1 and "!verifier manuel" in output, output
    account = await stack.service.verification.account(camille.user_id)
    assert account.verification_state == "refused" and account.national_id is None
    told = await camille.next_message_from(stack.bot_id, dm, mark)
    assert "refusée" in told.body and "!verifier manuel" in told.body
