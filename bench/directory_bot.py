"""`!annuaire cardiologue douai` through the bot's encrypted DM on a full-size directory,
side by side with `!aide` (no search) in the same run: what a practitioner waits for.

Usage: python bench/directory_bot.py [--rows 1900000] [--count 100]
Generates a synthetic extract of `--rows` rows, imports it into a running stack (real Synapse,
service, bot), then times the commands from a matrix-nio client.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import describe, percentile

from bridge.directory.synthetic import generate
from tests.e2e.harness import Stack, stack_environment

QUERIES = ["cardiologue douai", "médecin généraliste lyon", "kiné lille", "fontai",
           "infirmière paris", "pédiatre marseille", "bernard"]


async def main(rows: int, count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        extract = data / "extract.txt"
        started = time.perf_counter()
        generate(extract, rows, seed=7)
        print(f"generated {rows} rows in {time.perf_counter() - started:.1f} s")
        stack = await Stack.start(data / "stack", stack_environment())
        try:
            started = time.perf_counter()
            report = await stack.service.directory.import_extract(extract, progress=False)
            print(f"imported in {time.perf_counter() - started:.1f} s "
                  f"({await stack.service.directory.count()} people)")
            alice = await stack.practitioner("alice", verified=True)
            dm = await alice.open_dm(stack.bot_id)
            await alice.ask(dm, stack.bot_id, "!aide")
            search_ms, help_ms, mixed_ms = [], [], []
            for i in range(count):
                t = time.perf_counter()
                answer = await alice.ask(dm, stack.bot_id, "!annuaire cardiologue douai")
                search_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                await alice.ask(dm, stack.bot_id, "!aide")
                help_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                await alice.ask(dm, stack.bot_id, f"!annuaire {QUERIES[i % len(QUERIES)]}")
                mixed_ms.append((time.perf_counter() - t) * 1000)
            print(answer.body.splitlines()[0])
            print(describe("!annuaire cardiologue douai", search_ms))
            print(describe("!annuaire (query mix)", mixed_ms))
            print(describe("!aide (no search)", help_ms))
            print(f"ratio search/help p50: {percentile(search_ms, 50) / percentile(help_ms, 50):.2f}")
        finally:
            await stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_900_000)
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.count))
