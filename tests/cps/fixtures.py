"""A real pcscd with the vpcd virtual readers, and virtual cards inserted into them.

pcscd is reused when one already serves the virtual readers (a developer's machine, CI
started it); otherwise the tests start `pcscd -f` themselves and stop only that process.
They skip, saying why, only if pcscd or the vpcd driver is not installed (`.ci/run` installs
both) or cannot be started.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.cps.virtual_card import VPCD_PORTS, VirtualCard

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER = "Virtual PCD 00 00"
EMPTY_READER = "Virtual PCD 00 01"


def virtual_readers() -> list[str]:
    from smartcard.pcsc.PCSCExceptions import BaseSCardException
    from smartcard.System import readers

    try:
        return [str(r) for r in readers() if str(r).startswith("Virtual PCD")]
    except BaseSCardException:
        return []


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture(scope="session")
def pcscd():
    """Yields the names of the virtual readers once pcscd serves them."""
    if virtual_readers():
        yield virtual_readers()
        return
    binary = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    if binary is None or not VPCD_DRIVER.exists():
        pytest.skip(
            "pcscd or the vpcd driver is not installed "
            "(apt-get install pcscd vsmartcard-vpcd; .ci/run does it)"
        )
    process = subprocess.Popen([binary, "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if (
            not _wait(lambda: bool(virtual_readers()) or process.poll() is not None, 15)
            or not virtual_readers()
        ):
            process.kill()
            error = process.stderr.read().decode(errors="replace")[-500:] if process.stderr else ""
            pytest.skip(f"pcscd could not start with the virtual readers: {error}")
        yield virtual_readers()
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def card_present(reader_name: str = READER) -> bool:
    """What pcscd's event handler believes, read without touching the card (no connect).

    Waiting on this, not on connect attempts, matters: if a new virtual card arrives before
    pcscd has seen the previous one go, the reader stays in a "removed" state for good.
    """
    from smartcard import scard

    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if result != scard.SCARD_S_SUCCESS:
        return False
    try:
        result, states = scard.SCardGetStatusChange(
            context, 0, [(reader_name, scard.SCARD_STATE_UNAWARE)]
        )
        if result != scard.SCARD_S_SUCCESS:
            return False
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(context)


# pcscd polls a reader for card presence about every 0.4 s; a card that leaves and a new one
# that arrives between two polls look like one card that never left, stuck "removed".
SETTLE = 1.0


@contextlib.contextmanager
def inserted(identity, **options):
    """A virtual card in reader 00 00 for the duration of the block, removed afterwards."""
    card = None
    for _attempt in range(3):
        card = VirtualCard(identity, port=VPCD_PORTS[0], **options).insert()
        if _wait(card_present, 4):
            break
        card.remove()  # pcscd missed it: take it out, let pcscd see the reader empty, retry
        time.sleep(SETTLE)
    else:
        raise AssertionError("pcscd did not see the virtual card")
    try:
        card.commands.clear()
        yield card
    finally:
        card.remove()
        _wait(lambda: not card_present(), 10)
        time.sleep(SETTLE)
