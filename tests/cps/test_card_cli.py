"""`confrere-cps` (the light tool, PC/SC path) through a real pcscd and the virtual card: the whole path to a
verified account, and every card-side failure told in French with a non-zero exit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from confrere_cps import cli, protocol

from tests.cps import pki
from tests.cps.fixtures import EMPTY_READER, READER, inserted
from tests.cps.virtual_card import CPS_AID

CAMILLE = "@camille:localhost"
NOWHERE = "http://127.0.0.1:9"  # never reached: these failures happen before the service


def run_cli(service: str, code: str = "ABCDE-12345", pin: str = "1234", **kwargs):
    """Run the verb in this process; the PIN comes from the test hook, never a prompt."""
    lines: list[str] = []
    asked: list[bool] = []

    def ask_pin() -> str:
        asked.append(True)
        return pin

    status = cli.run(
        service,
        code,
        ask_pin=ask_pin,
        out=lines.append,
        **{"reader_name": READER, "timeout": 5, "via": "pcsc", **kwargs},
    )
    return status, "\n".join(lines), bool(asked)


async def test_the_card_verifies_the_account_end_to_end(pcscd, cps_world):
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    with inserted(pki.card()) as card:
        status, output, asked = await asyncio.to_thread(run_cli, cps_world.url, code)
    assert status == 0, output
    assert asked and "CAMILLE BERNARD (810001045367)" in output and "Identité vérifiée" in output
    assert card.commands[-2:] == [0x22, 0x88]  # MSE SET then INTERNAL AUTHENTICATE
    account = await cps_world.verification.account(CAMILLE)
    assert (account.verification_state, account.national_id) == ("verified", "810001045367")


async def test_wrong_pin_shows_tries_left_and_keeps_the_code(pcscd, cps_world):
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    with inserted(pki.card()) as card:
        status, output, _ = await asyncio.to_thread(run_cli, cps_world.url, code, "9999")
        assert status == 4 and "Il vous reste 2 essais" in output, output
        assert card.tries == 2
        status, output, _ = await asyncio.to_thread(run_cli, cps_world.url, code, "12")
        assert status == 4 and "4 à 8 chiffres" in output and card.tries == 2, output
        status, output, _ = await asyncio.to_thread(run_cli, cps_world.url, code)
    assert status == 0, output  # the same code still works after a wrong PIN
    assert await cps_world.state(CAMILLE) == "verified"


def test_the_last_wrong_pin_blocks_the_card(pcscd):
    with inserted(pki.card(), tries=1) as card:
        status, output, _ = run_cli(NOWHERE, pin="0000")
        assert status == 4 and "bloquée" in output and card.tries == 0, output
        status, output, asked = run_cli(NOWHERE)
    assert status == 4 and "bloquée" in output and "PUK" in output, output
    assert not asked  # a blocked card is reported before asking the PIN


def test_few_tries_left_are_announced_before_the_prompt(pcscd):
    with inserted(pki.card(), tries=1):
        _, output, _ = run_cli(NOWHERE, pin="0000")
    assert "il reste 1 essai" in output


def test_no_card_in_the_reader(pcscd):
    status, output, asked = run_cli(NOWHERE, reader_name=EMPTY_READER, timeout=1)
    assert status == 3 and "Aucune carte insérée après 1 secondes" in output, output
    assert not asked


def test_a_card_that_is_not_a_cps(pcscd):
    with inserted(pki.card(), aid=bytes.fromhex("A000000003000000")):
        status, output, _ = run_cli(NOWHERE)
    assert status == 3 and "n'est pas une carte CPS" in output, output


def test_card_removed_while_reading_the_certificate(pcscd):
    with inserted(pki.card(), remove_on=0xB0):
        status, output, asked = run_cli(NOWHERE)
    assert status == 3 and "La carte a été retirée" in output and not asked, output


async def test_card_removed_while_signing_changes_nothing(pcscd, cps_world):
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    with inserted(pki.card(), remove_on=0x88):
        status, output, _ = await asyncio.to_thread(run_cli, cps_world.url, code)
    assert status == 3 and "La carte a été retirée" in output, output
    assert await cps_world.state(CAMILLE) == "unverified" and not cps_world.decisions


async def test_a_refusal_from_the_service_is_shown(pcscd, cps_world):
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    with inserted(pki.card(expired=True)):
        status, output, _ = await asyncio.to_thread(run_cli, cps_world.url, code)
    assert status == 5 and "certificat de la carte CPS est expiré" in output, output
    with inserted(pki.card()):
        status, output, _ = await asyncio.to_thread(run_cli, cps_world.url, code)
    assert status == 5 and "Ce code n'est pas valable" in output, output  # code spent


def test_no_reader(pcscd, monkeypatch):
    # pcscd always serves the two virtual readers here, so the empty list is simulated
    monkeypatch.setattr("smartcard.System.readers", lambda *a, **k: [])
    status, output, _ = run_cli(NOWHERE)
    assert status == 3 and "Aucun lecteur de carte" in output, output


def test_no_pcscd_service():
    """The real verb in a subprocess whose PC/SC client looks for a daemon that is not there."""
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "confrere_cps",
            "--service",
            "http://127.0.0.1:9",
            "--code",
            "ABCDE-12345",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "pcscd" in result.stdout and "ne répond pas" in result.stdout


@pytest.mark.parametrize(
    "service,code,expected",
    [
        ("http://service.example.org", "ABCDE-12345", "https"),
        ("ftp://x", "ABCDE-12345", "Adresse du service invalide"),
        ("https://service.example.org", "ABC", "ne ressemble pas"),
    ],
)
def test_bad_arguments_are_refused_before_touching_the_card(service, code, expected):
    status, output, asked = run_cli(service, code)
    assert status == 2 and expected in output and not asked, output


def test_code_shape():
    assert protocol.normalise_code("abcde-12345") == "ABCDE12345"
    assert len(CPS_AID) == 13


async def test_two_cards_in_two_readers_the_practitioner_chooses(pcscd, cps_world):
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    isabelle = pki.card("810002813839", "DONNAT-GADY", "ISABELLE")
    asked: list[list[str]] = []

    def choose(names: list[str]) -> int:
        asked.append(names)
        return names.index(READER)

    with inserted(isabelle, reader=EMPTY_READER), inserted(pki.card()):
        status, output, _ = await asyncio.to_thread(
            run_cli, cps_world.url, code, reader_name=None, choose=choose
        )
        assert status == 0 and asked == [[READER, EMPTY_READER]], output
        lines: list[str] = []
        status = await asyncio.to_thread(
            lambda: cli.run(NOWHERE, "ABCDE-12345", via="pcsc", timeout=2, out=lines.append)
        )
    assert status == 3 and "Plusieurs cartes" in lines[-1] and "--reader" in lines[-1], lines
    assert await cps_world.state(CAMILLE) == "verified"


def test_the_signature_key_and_certificate_are_left_alone(pcscd):
    """The PKCS#15 directory lists the signature key first; the tool takes the authentication
    one (its certificate file and key reference), as the card's own directory says."""
    with inserted(pki.card()) as card:
        status, output, _ = run_cli(NOWHERE)
    assert status == 5 and "CAMILLE BERNARD" in output  # card fine; stopped at the service
    read = [path.hex().upper() for path in card.files_read]
    assert read == ["3F002F00", *(f"3F005000{f}" for f in ("5031", "5001", "5002", "5003"))] + [
        "3F005000D001"
    ]


def test_the_server_verb_is_an_alias_of_the_light_tool():
    from bridge.cli import build_parser

    args = build_parser().parse_args(
        ["cps-verify", "--service", NOWHERE, "--code", "ABCDE-12345", "--via", "pcsc"]
    )
    assert args.func is cli.command and args.standalone and args.via == "pcsc"
