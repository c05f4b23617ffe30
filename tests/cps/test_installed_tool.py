"""The wheel of cps-tool/, installed in fresh venvs (Python 3.10 to 3.13) as a practitioner
would: it runs, pulls in no server code, and verifies an account through each path."""

from __future__ import annotations

import asyncio

import pytest

from tests.cps import pki
from tests.cps.fixtures import READER, inserted
from tests.cps.installed import FIGURES, VERSIONS, tools_fixture  # noqa: F401 - fixture
from tests.cps.softhsm import softhsm_fixture  # noqa: F401 - fixture

CAMILLE = "@camille:localhost"
NEWEST = VERSIONS[-1]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_wheel_installs_alone_and_answers_help(tools, version):
    tool = tools.get(version)
    status, output, _ = tool.run("--help")
    assert status == 0 and "--via {auto,pkcs11,pcsc}" in output and "--pkcs11-module" in output
    installed = tool.python(
        "import importlib.util as u; "
        "print([m for m in ('bridge', 'synapse', 'sqlalchemy', 'aiohttp', 'nio') if u.find_spec(m)])"
    )
    assert installed.strip() == "[]"  # no server code, no database, no Matrix
    assert set(FIGURES["wheel"]["requires"]) == {
        "pyscard>=2.0", "python-pkcs11>=0.7", "cryptography>=41"
    }


async def test_the_installed_tool_verifies_through_pkcs11(tools, softhsm, cps_world):
    softhsm.add_card("CPS CAMILLE BERNARD", pki.card())
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    tool = tools.get(NEWEST)
    status, output, seconds = await asyncio.to_thread(
        tool.run, "--service", cps_world.url, "--code", code, "--pkcs11-module", softhsm.module,
        env=softhsm.environment,
    )
    assert status == 0 and "module PKCS#11" in output and "Identité vérifiée" in output, output
    assert "1234" not in output  # the PIN is never echoed
    assert await cps_world.state(CAMILLE) == "verified"
    FIGURES[f"pkcs11 {NEWEST} seconds"] = round(seconds, 2)


async def test_the_installed_tool_verifies_through_pcsc(tools, pcscd, cps_world):
    await cps_world.account(CAMILLE)
    code = await cps_world.code(CAMILLE)
    tool = tools.get(NEWEST)
    with inserted(pki.card()):
        status, output, seconds = await asyncio.to_thread(
            tool.run, "--service", cps_world.url, "--code", code, "--reader", READER,
            "--timeout", "5",
        )
    assert status == 0 and f"Lecteurs : {READER}" in output, output
    assert "Identité vérifiée" in output and "1234" not in output
    assert await cps_world.state(CAMILLE) == "verified"
    FIGURES[f"pcsc {NEWEST} seconds"] = round(seconds, 2)
