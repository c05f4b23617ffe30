"""CPS card verification end to end: the bot gives the command line in the encrypted DM, the
card (virtual, behind a real pcscd) signs, the service decides, the practitioner is told."""

from __future__ import annotations

import asyncio
import re
import shlex

import pytest
from nio import RoomCreateResponse

from bridge.cli import build_parser
from bridge.cps import cli as cps_cli
from bridge.identity.cps import TrustStore
from tests.cps import pki
from tests.cps.fixtures import READER, inserted, pcscd  # noqa: F401 - the session fixture

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("pcscd")]

COMMAND = re.compile(r"(confrere cps-verify --service \S+ --code \S+)")


@pytest.fixture
def trusted(stack, tmp_path):
    """The running service trusts the test IGC-Santé PKI for the duration of a test."""
    endpoints = stack.service.services.extra["cps"]
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


async def run_card(argv: list[str], identity) -> tuple[int, str]:
    """The verb as the bot wrote it, in this process; the PIN through the test hook."""
    args = build_parser().parse_args(argv)
    lines: list[str] = []
    with inserted(identity):
        status = await asyncio.to_thread(
            cps_cli.run,
            args.service,
            args.code,
            reader_name=READER,
            timeout=5,
            ask_pin=lambda: "1234",
            out=lines.append,
        )
    return status, "\n".join(lines)


async def test_a_cps_card_verifies_then_colleagues_can_talk(stack, trusted):
    await stack.free_national_id("810001045367")
    camille = await stack.practitioner(
        "camille", verified=False, first_name="Camille", last_name="Bernard", declared="10001045367"
    )
    dm = await stack.onboarding_dm(camille)
    colleague = await stack.practitioner("colleague", verified=True)
    argv = await command_from_bot(stack, camille, dm)
    assert argv[argv.index("--service") + 1] == stack.settings.service.url

    mark = len(camille.messages)
    status, output = await run_card(argv, pki.card())
    assert status == 0, output
    assert "CAMILLE BERNARD (810001045367)" in output and "Identité vérifiée" in output
    account = await stack.service.verification.account(camille.user_id)
    assert (account.verification_state, account.national_id) == ("verified", "810001045367")
    told = await camille.next_message_from(stack.bot_id, dm, mark)
    assert "vérifiée" in told.body and told.decrypted
    room = await camille.client.room_create(invite=[colleague.user_id])
    assert isinstance(room, RoomCreateResponse), room

    # the code in the DM served once
    status, output = await run_card(argv, pki.card())
    assert status != 0 and "Ce code n'est pas valable" in output


async def test_a_card_of_someone_else_is_refused_with_the_manual_path(stack, trusted):
    await stack.free_national_id("810001045367")
    camille = await stack.practitioner(
        "camille", verified=False, first_name="Camille", last_name="Bernard", declared="10001045367"
    )
    dm = await stack.onboarding_dm(camille)
    argv = await command_from_bot(stack, camille, dm)
    mark = len(camille.messages)
    status, output = await run_card(argv, pki.card("810002813839", "DONNAT-GADY", "ISABELLE"))
    assert status == 1 and "!verifier manuel" in output, output
    account = await stack.service.verification.account(camille.user_id)
    assert account.verification_state == "refused" and account.national_id is None
    told = await camille.next_message_from(stack.bot_id, dm, mark)
    assert "refusée" in told.body and "!verifier manuel" in told.body
