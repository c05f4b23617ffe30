"""Runs Synapse as a child process of `confrere up` and waits until it answers."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp

log = logging.getLogger(__name__)


class ProcessFailed(RuntimeError):
    """A child process exited or never became ready; the message says where its log is."""


class SynapseProcess:
    """One Synapse process (`python -m synapse.app.homeserver`) with its own log file."""

    def __init__(self, config_path: Path, url: str, log_path: Path) -> None:
        self.config_path = config_path
        self.url = url.rstrip("/")
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 90.0) -> float:
        """Start and wait for `/_matrix/client/versions`; return seconds until ready."""
        started = time.monotonic()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        output = open(self.log_path, "ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path),
                stdout=output, stderr=output, stdin=asyncio.subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )
        finally:
            output.close()
        await wait_until_ready(
            f"{self.url}/_matrix/client/versions", timeout, self.process, self.log_path
        )
        return time.monotonic() - started

    async def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL if Synapse has not exited within `timeout`."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except asyncio.TimeoutError:
            log.warning("Synapse did not stop in %ss; killing it", timeout)
            process.kill()
            await process.wait()


async def wait_until_ready(url: str, timeout: float, process=None, log_path: Path | None = None,
                           headers: dict | None = None) -> None:
    """Poll `url` until it answers 200; fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            if process is not None and process.returncode is not None:
                raise ProcessFailed(f"process exited with code {process.returncode}; see {log_path}")
            try:
                async with http.get(url, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=2)) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise ProcessFailed(f"{url} did not answer within {timeout}s; see {log_path}")
            await asyncio.sleep(0.2)
