"""The `!adresser` dialog through the bot's encrypted DM on a real stack: the time from a
practitioner's answer to the bot's next question, over whole referrals (≈ 22 exchanges each,
booking included), what a practitioner waits for between two answers.

Usage: python bench/referral_dialog.py [--referrals 2]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import describe

from tests.e2e.harness import Stack, stack_environment
from tests.e2e.referral_flow import SEARCH, agenda_of, colleague_entry, patient_answers


async def main(referrals: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = await Stack.start(Path(tmp) / "stack", stack_environment())
        try:
            await agenda_of(stack, await colleague_entry(stack))
            alice = await stack.practitioner("alice", verified=True)
            dm = await alice.open_dm(stack.bot_id)
            await alice.ask(dm, stack.bot_id, "!aide")
            replies_ms: list[float] = []
            for i in range(referrals):
                answers = [f"!adresser {SEARCH}", "1", "1",
                           *patient_answers("Durand", f"p{i}@example.org"), "aucun", "non",
                           "confirmer"]
                for answer in answers:
                    started = time.perf_counter()
                    reply = await alice.ask(dm, stack.bot_id, answer, timeout=60)
                    replies_ms.append((time.perf_counter() - started) * 1000)
                assert "Rendez-vous réservé" in reply.body, reply.body
            print(describe("dialog reply (encrypted DM)", replies_ms))
        finally:
            await stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--referrals", type=int, default=2)
    asyncio.run(main(parser.parse_args().referrals))
