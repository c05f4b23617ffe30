"""A real pcscd with the vpcd virtual readers, and virtual cards inserted into them.

pcscd is reused when one already serves the virtual readers (a developer's machine, CI
started it); otherwise the tests start `pcscd -f` themselves and stop only that process.
They skip, saying why, only if pcscd or the vpcd driver is not installed (`.ci/run` installs
both) or cannot be started.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import subprocess
import tempfile
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


# pcscd and its virtual reader are one per machine, while several test sessions may run at
# once (engineers, CI). Each session holds a shared lock while it needs pcscd, so the session
# that started it stops it only when nobody else uses it; a card goes in under an exclusive lock.
PCSCD_LOCK = Path(tempfile.gettempdir()) / "confrere-pcscd.lock"
CARD_LOCK = Path(tempfile.gettempdir()) / "confrere-vpcd-card.lock"


def _lock(path: Path, mode: int):
    handle = open(path, "a+")  # noqa: SIM115 - held for a whole session or card
    fcntl.flock(handle, mode)
    return handle


@pytest.fixture(scope="session")
def pcscd():
    """Yields the names of the virtual readers once pcscd serves them."""
    shared = _lock(PCSCD_LOCK, fcntl.LOCK_SH)
    process = None
    try:
        if not virtual_readers():
            process = _start_pcscd()
        yield virtual_readers()
    finally:
        fcntl.flock(shared, fcntl.LOCK_UN)
        if process is not None:
            _stop_when_unused(process)
        shared.close()


def _start_pcscd() -> subprocess.Popen:
    binary = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    if binary is None or not VPCD_DRIVER.exists():
        pytest.skip(
            "pcscd or the vpcd driver is not installed "
            "(apt-get install pcscd vsmartcard-vpcd; .ci/run does it)"
        )
    process = subprocess.Popen([binary, "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    started = _wait(lambda: bool(virtual_readers()) or process.poll() is not None, 15)
    if not started or not virtual_readers():
        process.kill()
        error = process.stderr.read().decode(errors="replace")[-500:] if process.stderr else ""
        pytest.skip(f"pcscd could not start with the virtual readers: {error}")
    return process


def _stop_when_unused(process: subprocess.Popen) -> None:
    """Stop the pcscd this session started, unless another session still holds the lock."""
    try:
        exclusive = _lock(PCSCD_LOCK, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # still in use elsewhere: leave it running, as if it had been there before
    try:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    finally:
        exclusive.close()


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


_held: list = []  # the card lock, held once per process however many cards are in


@contextlib.contextmanager
def _card_lock():
    if _held:
        _held.append(None)
    else:
        _held.append(_lock(CARD_LOCK, fcntl.LOCK_EX))  # one test's cards at a time per machine
    try:
        yield
    finally:
        handle = _held.pop()
        if handle is not None:
            handle.close()


@contextlib.contextmanager
def inserted(identity, reader: str = READER, **options):
    """A virtual card in `reader` (00 00 by default) for the block, removed afterwards."""
    port = VPCD_PORTS[0] if reader == READER else VPCD_PORTS[1]
    with _card_lock():
        card = None
        for _attempt in range(3):
            card = VirtualCard(identity, port=port, **options).insert()
            if _wait(lambda: card_present(reader), 4):
                break
            card.remove()  # pcscd missed it: take it out, let pcscd see it empty, retry
            time.sleep(SETTLE)
        else:
            raise AssertionError("pcscd did not see the virtual card")
        try:
            card.commands.clear()
            yield card
        finally:
            card.remove()
            _wait(lambda: not card_present(reader), 10)
            time.sleep(SETTLE)
