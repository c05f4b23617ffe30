"""A practitioner-side Matrix client for tests: matrix-nio, its own account and device.

It syncs in the background and queues every decrypted message it sees, so a test can send a
command and wait for the bot's answer the way Element would receive it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Callable

from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MatrixRoom,
    RoomCreateResponse,
    RoomMessageFormatted,
)

from tests.security.canaries import plant


class TestClient:
    __test__ = False  # a helper, not a test class

    def __init__(self, homeserver_url: str, user_id: str, store_dir: Path) -> None:
        store_dir.mkdir(parents=True, exist_ok=True)
        self.user_id = user_id
        self.client = AsyncClient(
            homeserver_url, user_id, store_path=str(store_dir),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        self.messages: list[tuple[str, RoomMessageFormatted]] = []
        self._new_message = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.client.add_event_callback(self._on_message, RoomMessageFormatted)

    async def login(self, password: str) -> None:
        response = await self.client.login(password, device_name="test client")
        assert isinstance(response, LoginResponse), response
        plant(password, "password")
        plant(response.access_token, "access token")
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self._task = asyncio.create_task(self._sync_loop())

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()

    async def _sync_loop(self) -> None:
        while True:
            try:
                await self.client.sync(timeout=5000)
                if self.client.should_upload_keys:
                    await self.client.keys_upload()
                if self.client.should_query_keys:
                    await self.client.keys_query()
                if self.client.should_claim_keys:
                    await self.client.keys_claim(self.client.get_users_for_key_claiming())
                await self.client.send_to_device_messages()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep syncing through a restart of the server
                await asyncio.sleep(0.5)

    async def _on_message(self, room: MatrixRoom, event: RoomMessageFormatted) -> None:
        self.messages.append((room.room_id, event))
        self._new_message.set()

    async def open_dm(self, other_user_id: str, timeout: float = 20) -> str:
        """Create an encrypted direct conversation and wait for the other side to join."""
        response = await self.client.room_create(
            is_direct=True, invite=[other_user_id],
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
        )
        assert isinstance(response, RoomCreateResponse), response
        room_id = response.room_id
        await self.wait_for(
            lambda: other_user_id in getattr(self.client.rooms.get(room_id), "users", {}),
            timeout, f"{other_user_id} did not join {room_id}",
        )
        return room_id

    async def accept_invite_from(self, inviter: str, timeout: float = 30) -> str:
        """Wait for an invitation sent by `inviter`, join it, wait until both are in."""
        def invited() -> str | None:
            for room_id, room in self.client.invited_rooms.items():
                if room.inviter == inviter or inviter in room.users:
                    return room_id
            return None

        await self.wait_for(lambda: invited() is not None, timeout,
                            f"no invitation from {inviter}")
        room_id = invited()
        await self.client.join(room_id)
        await self.wait_for(
            lambda: inviter in getattr(self.client.rooms.get(room_id), "users", {})
            and room_id in self.client.rooms and room_id not in self.client.invited_rooms,
            timeout, f"could not join {room_id}")
        return room_id

    async def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out: {what}")
            await asyncio.sleep(0.05)

    async def send_text(self, room_id: str, text: str) -> str:
        response = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": text},
            ignore_unverified_devices=True,
        )
        return response.event_id

    async def next_message_from(self, sender: str, room_id: str, after: int,
                                timeout: float = 20) -> RoomMessageFormatted:
        """The first message from `sender` in `room_id` among those seen after index `after`."""
        deadline = time.monotonic() + timeout
        while True:
            for seen_room, event in self.messages[after:]:
                if seen_room == room_id and event.sender == sender:
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no message from {sender} in {room_id} within {timeout}s")
            self._new_message.clear()
            try:
                await asyncio.wait_for(self._new_message.wait(), timeout=min(remaining, 1))
            except asyncio.TimeoutError:
                pass

    async def ask(self, room_id: str, sender: str, text: str, timeout: float = 20) -> RoomMessageFormatted:
        """Send `text` and return `sender`'s next message in the room — its answer: the bot's
        refusal notices (#16 item 7b) arrive on their own schedule and are skipped here."""
        from bridge.handlers.refusal_notices import is_notice

        mark = len(self.messages)
        await self.send_text(room_id, text)
        while True:
            event = await self.next_message_from(sender, room_id, mark, timeout)
            if not is_notice(event.body):
                return event
            mark = self.messages.index((room_id, event), mark) + 1
