"""Drive Element's crypto stack (matrix-js-sdk + Rust crypto, `client.mjs`) from pytest.

One `JsClient` is one Node process, one account and one device. Requests go as JSON lines on
its stdin; answers and every decrypted timeline event come back on its stdout. The process is
killed on `close()` whatever happens, and its stderr is kept (last lines only) to explain a
failure.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import itertools
import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import pytest

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "client.mjs"
SDK_DIR = HERE / "node_modules" / "matrix-js-sdk"
MEGOLM = "m.megolm.v1.aes-sha2"


def node_path() -> str | None:
    return shutil.which("node")


needs_node = pytest.mark.skipif(
    shutil.which("node") is None,
    reason="Node.js is not installed: the Element (matrix-js-sdk) tests need `node`")


def missing_packages() -> str | None:
    """Why the Node packages cannot be used, or None when they are installed."""
    if not SDK_DIR.is_dir():
        return (f"{SDK_DIR.parent} is missing: `make test` installs the Node packages of "
                "tests/element (or run `make element-deps`)")
    return None


class JsClientError(AssertionError):
    """A command the Node client answered with an error, or that did not answer in time."""


class JsClient:
    __test__ = False  # a helper, not a test class

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name
        self.user_id = ""
        self.device_id = ""
        self.access_token = ""
        self.events: list[dict] = []
        self._changed = asyncio.Event()
        self._pending: dict[int, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._readers = [asyncio.create_task(self._read_stdout()),
                         asyncio.create_task(self._read_stderr())]

    # ---- life cycle ---------------------------------------------------------------------

    @classmethod
    async def start(cls, homeserver: str, user_id: str, password: str, *,
                    isolation: str = "all", cross_signing: bool = True,
                    timeout: float = 60) -> "JsClient":
        """A logged-in client; `isolation="only_signed"` is Element's "exclude insecure
        devices" setting (room keys only for, and messages only from, cross-signed devices)."""
        process = await asyncio.create_subprocess_exec(
            node_path() or "node", str(SCRIPT), cwd=HERE,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, limit=16 * 1024 * 1024,
        )
        client = cls(process, user_id)
        try:
            answer = await client.call(
                "login", timeout=timeout, homeserver=homeserver, user_id=user_id,
                password=password, isolation=isolation, cross_signing=cross_signing)
        except BaseException:
            await client.close()
            raise
        client.user_id = answer["user_id"]
        client.device_id = answer["device_id"]
        client.access_token = answer["access_token"]
        client.cross_signing_ready = answer["cross_signing_ready"]
        return client

    async def close(self) -> None:
        if self.process.returncode is None:
            try:
                self.process.stdin.close()
                await asyncio.wait_for(self.process.wait(), 3)
            except (asyncio.TimeoutError, ConnectionError):
                self.process.kill()
                await self.process.wait()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)

    # ---- protocol -----------------------------------------------------------------------

    async def call(self, cmd: str, *, timeout: float = 30, **args: Any) -> Any:
        """Run one command in the Node client and return its result."""
        if self.process.returncode is not None:
            raise JsClientError(f"{self.name}: node exited ({self.process.returncode})"
                                f"{self.stderr_tail()}")
        request_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self.process.stdin.write(json.dumps({"id": request_id, "cmd": cmd, **args}).encode() + b"\n")
        await self.process.stdin.drain()
        try:
            answer = await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise JsClientError(f"{self.name}: {cmd} took over {timeout}s{self.stderr_tail()}")
        finally:
            self._pending.pop(request_id, None)
        if not answer["ok"]:
            raise JsClientError(f"{self.name}: {cmd} failed: {answer['error']}"
                                f"{self.stderr_tail()}")
        return answer["result"]

    async def _read_stdout(self) -> None:
        while line := await self.process.stdout.readline():
            message = json.loads(line)
            if "event" in message:
                self.events.append(message["event"])
                self._changed.set()
            elif (future := self._pending.get(message.get("id"))) and not future.done():
                future.set_result(message)
        for future in self._pending.values():
            if not future.done():
                future.set_result({"ok": False, "error": "node exited"})

    async def _read_stderr(self) -> None:
        while line := await self.process.stderr.readline():
            self._stderr.append(line.decode(errors="replace").rstrip())

    def stderr_tail(self, lines: int = 30) -> str:
        tail = list(self._stderr)[-lines:]
        return ("\n--- node stderr ---\n" + "\n".join(tail)) if tail else ""

    # ---- conveniences -------------------------------------------------------------------

    async def create_room(self, **options: Any) -> str:
        return (await self.call("create_room", **options))["room_id"]

    async def join(self, room_id: str) -> None:
        await self.call("join", room_id=room_id)

    async def wait_member(self, room_id: str, user_id: str, membership: str = "join",
                          timeout: float = 20) -> None:
        await self.call("wait_member", timeout=timeout + 5, room_id=room_id, user_id=user_id,
                        membership=membership, timeout_ms=int(timeout * 1000))

    async def send(self, room_id: str, content: dict, type: str = "m.room.message",
                   thread_id: str | None = None) -> str:
        return (await self.call("send", room_id=room_id, type=type, content=content,
                                thread_id=thread_id))["event_id"]

    async def send_state(self, room_id: str, type: str, content: dict,
                         state_key: str = "") -> str:
        return (await self.call("send_state", room_id=room_id, type=type, content=content,
                                state_key=state_key))["event_id"]

    async def request(self, method: str, path: str, body: dict | None = None,
                      **query: str) -> Any:
        """A raw client-server call through the SDK (v3 prefix), e.g. for spaces or pins."""
        return await self.call("request", method=method, path=path, body=body, query=query)

    async def upload_encrypted(self, data: bytes, mimetype: str) -> dict:
        """Encrypt and upload a file; the `file` object to put in an m.file/m.image."""
        encoded = base64.b64encode(data).decode()
        return (await self.call("upload_encrypted", data_b64=encoded, mimetype=mimetype))["file"]

    async def download_encrypted(self, file: dict) -> bytes:
        answer = await self.call("download_encrypted", file=file)
        return base64.b64decode(answer["data_b64"])

    async def download_raw(self, url: str) -> bytes:
        """The bytes the media repository stores for `url` (ciphertext for an attachment)."""
        return base64.b64decode((await self.call("download_raw", url=url))["data_b64"])

    async def wait_event(self, match: Callable[[dict], bool], timeout: float = 20,
                         after: int = 0, what: str = "event") -> dict:
        """The first event seen (from index `after`) for which `match` is true."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events[after:]:
                if match(event):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.returncode is not None:
                seen = [(e["sender"], e["type"], e["decryption_failure"]) for e in self.events[after:]]
                raise JsClientError(f"{self.name}: no {what} within {timeout}s; seen {seen}"
                                    f"{self.stderr_tail()}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 1))
            except asyncio.TimeoutError:
                pass

    async def wait_event_id(self, event_id: str, timeout: float = 20) -> dict:
        return await self.wait_event(lambda e: e["event_id"] == event_id, timeout,
                                     what=f"event {event_id}")
