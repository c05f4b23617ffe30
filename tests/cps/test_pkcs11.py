"""`confrere-cps` through a real PKCS#11 module (SoftHSM2 standing in for Cryptolib CPS):
the authentication certificate and key are found on the token, the challenge signed, the
account verified; several tokens, wrong PIN and a missing module told in French."""

from __future__ import annotations

import asyncio
import shutil

from confrere_cps import cli, middleware

from tests.cps import pki
from tests.cps.softhsm import softhsm_fixture  # noqa: F401 - fixture

CAMILLE = "@camille:localhost"
NOWHERE = "http://127.0.0.1:9"


def run_cli(hsm, service: str, code: str = "ABCDE-12345", pin: str = "1234", **kwargs):
    lines: list[str] = []
    chosen: list[list[str]] = []

    pick = kwargs.pop("pick", 0)

    def choose(names: list[str]) -> int:
        chosen.append(names)
        return pick

    status = cli.run(
        service, code, via="pkcs11", pkcs11_module=hsm.module, timeout=2,
        ask_pin=lambda: pin, choose=choose, out=lines.append, **kwargs,
    )
    return status, "\n".join(lines), chosen


async def test_the_token_verifies_the_account(softhsm, cps_world):
    softhsm.add_card("CPS CAMILLE BERNARD", pki.card())
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    status, output, chosen = await asyncio.to_thread(run_cli, softhsm, cps_world.url, code)
    assert status == 0, output
    assert "module PKCS#11" in output and "CAMILLE BERNARD (810001045367)" in output
    assert "Identité vérifiée" in output and not chosen
    account = await cps_world.verification.account(CAMILLE)
    assert (account.verification_state, account.national_id) == ("verified", "810001045367")


async def test_several_tokens_the_practitioner_chooses(softhsm, cps_world):
    softhsm.add_card("CPS ISABELLE DONNAT", pki.card("810002813839", "DONNAT-GADY", "ISABELLE"))
    softhsm.add_card("CPS CAMILLE BERNARD", pki.card())
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    names = await asyncio.to_thread(lambda: run_cli(softhsm, NOWHERE, pin="12")[2])
    camille = next(i for i, n in enumerate(names[0]) if "CAMILLE" in n)
    status, output, chosen = await asyncio.to_thread(
        run_cli, softhsm, cps_world.url, code, pick=camille
    )
    assert status == 0 and len(chosen[0]) == 2, output
    assert await cps_world.state(CAMILLE) == "verified"


def test_several_tokens_without_a_terminal_say_how_to_choose(softhsm, monkeypatch):
    softhsm.add_card("CPS UN", pki.card())
    softhsm.add_card("CPS DEUX", pki.card("810002813839", "DONNAT-GADY", "ISABELLE"))
    monkeypatch.setattr("sys.stdin", None)
    lines: list[str] = []
    status = cli.run(
        NOWHERE, "ABCDE-12345", via="pkcs11", pkcs11_module=softhsm.module, timeout=1,
        ask_pin=lambda: "1234", out=lines.append,
    )
    assert status == 3 and "Plusieurs cartes" in lines[-1] and "--reader" in lines[-1]
    status, output, _ = run_cli(softhsm, NOWHERE, reader_name="CPS DEUX", pin="12")
    assert "DONNAT-GADY" in output, output  # --reader also matches a token label


def test_wrong_pin_is_told_and_nothing_is_sent(softhsm):
    softhsm.add_card("CPS CAMILLE BERNARD", pki.card())
    status, output, _ = run_cli(softhsm, NOWHERE, pin="9999")
    assert status == 4 and "Code PIN incorrect" in output, output
    status, output, _ = run_cli(softhsm, NOWHERE, pin="12")
    assert status == 4 and "4 à 8 chiffres" in output


def test_no_token_within_the_timeout(softhsm):
    status, output, _ = run_cli(softhsm, NOWHERE)
    assert status == 3 and "Aucune carte insérée" in output, output


def test_a_missing_module_is_named(tmp_path):
    lines: list[str] = []
    status = cli.run(
        NOWHERE, "ABCDE-12345", via="pkcs11", pkcs11_module=str(tmp_path / "absent.so"),
        out=lines.append,
    )
    assert status == 3 and "absent.so" in lines[-1] and "--via pcsc" in lines[-1]


def test_the_middleware_is_looked_for_at_its_usual_places(monkeypatch, tmp_path):
    monkeypatch.delenv(middleware.ENVIRONMENT, raising=False)
    assert middleware.find_module("/x/explicit.so") == "/x/explicit.so"
    module = tmp_path / "libcps3_pkcs11_lux.so"
    module.write_bytes(b"")
    monkeypatch.setitem(middleware.MODULE_LOCATIONS, "linux", ["/nonexistent.so", str(module)])
    assert middleware.find_module() == str(module)
    monkeypatch.setenv(middleware.ENVIRONMENT, "/from/env.so")
    assert middleware.find_module() == "/from/env.so"


def test_the_signature_certificate_is_never_chosen():
    identity = pki.card()
    signature = pki.signature_certificate(identity)
    found = [(signature, b"\x02", "Certificat de Signature CPS")]
    assert middleware._authentication_certificate(found) is None
    found.append((identity.der, b"\x01", "Certificat d'Authentification CPS"))
    assert middleware._authentication_certificate(found) == (identity.der, b"\x01")


async def test_a_token_gone_while_signing_is_told_and_changes_nothing(softhsm, cps_world):
    """SoftHSM2's token files deleted once the PIN is accepted: the key's handle dies as with a
    card pulled out of its reader."""
    softhsm.add_card("CPS CAMILLE BERNARD", pki.card())
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    lines: list[str] = []

    def out(line: str) -> None:
        lines.append(line)
        if line.startswith("Code PIN accepté"):
            for token in (softhsm.directory / "tokens").iterdir():
                shutil.rmtree(token)

    status = await asyncio.to_thread(
        lambda: cli.run(
            cps_world.url, code, via="pkcs11", pkcs11_module=softhsm.module, timeout=2,
            ask_pin=lambda: "1234", out=out,
        )
    )
    assert status == 3 and "La carte a été retirée" in lines[-1], lines
    assert await cps_world.state(CAMILLE) == "unverified" and not cps_world.decisions
