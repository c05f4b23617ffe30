"""Round trip of `!aide` through the bot's encrypted DM, against a plain encrypted message
echoed by a second client, interleaved in the same run on the same Synapse.

Usage: python bench/roundtrip.py [--count 200]
Aim (issue 2): bot p50 ≤ 1.5 × plain p50.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import describe, percentile

from nio import MatrixRoom, RoomMessageText

from tests.e2e.harness import Stack, stack_environment


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = await Stack.start(Path(tmp), stack_environment())
        try:
            alice = await stack.practitioner("alice", verified=True)
            echo = await stack.practitioner("echo", verified=True)

            async def echo_back(room: MatrixRoom, event: RoomMessageText) -> None:
                if event.sender == alice.user_id:
                    await echo.client.room_send(
                        room.room_id, "m.room.message",
                        {"msgtype": "m.notice", "body": event.body},
                        ignore_unverified_devices=True)

            echo.client.add_event_callback(echo_back, RoomMessageText)

            async def accept(room, event) -> None:
                if getattr(event, "state_key", None) == echo.user_id:
                    await echo.client.join(room.room_id)

            from nio import InviteMemberEvent
            echo.client.add_event_callback(accept, InviteMemberEvent)
            bot_room = await alice.open_dm(stack.bot_id)
            echo_room = await alice.open_dm(echo.user_id)
            for _ in range(5):  # warm up sessions on both sides
                await alice.ask(bot_room, stack.bot_id, "!aide")
                await alice.ask(echo_room, echo.user_id, "ping")
            bot_ms, plain_ms = [], []
            for i in range(count):
                started = time.perf_counter()
                await alice.ask(bot_room, stack.bot_id, "!aide")
                bot_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await alice.ask(echo_room, echo.user_id, f"message {i}")
                plain_ms.append((time.perf_counter() - started) * 1000)
            print(f"Encrypted round trips through one Synapse (SQLite), {count} each, interleaved")
            print(describe("bot !aide", bot_ms))
            print(describe("plain message (echo client)", plain_ms))
            print(f"ratio bot/plain: p50 {percentile(bot_ms, 50) / percentile(plain_ms, 50):.2f}  "
                  f"p95 {percentile(bot_ms, 95) / percentile(plain_ms, 95):.2f}  (aim ≤ 1.5)")
        finally:
            await stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    asyncio.run(main(parser.parse_args().count))
