"""Guests becoming members: time from a verification to membership of all pending rooms.

A verified practitioner invites N directory guests (their stand-ins) into R encrypted rooms
each; each guest then gets an account and is verified; the promotion worker (as the lead wires
it: `VerificationService` listener + `PromotionWorker`) invites and joins them to every room
and the stand-in leaves. Measured per guest from `verify()` to the end of its promotion, one
guest at a time ("sequential") and all at once ("burst").

Usage: python bench/guests_bench.py [--guests 50] [--rooms 2]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import describe, percentile  # noqa: F401

from bridge.guests.invitations import MailContext, directory_guest, ensure_registered, \
    record_invitation
from tests.conversations.wiring import GuestWiring
from tests.e2e.harness import SAMPLE_EXTRACT, Stack, stack_environment

ENCRYPTED = [{"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]


def national_ids(count: int) -> list[str]:
    seen: list[str] = []
    for line in SAMPLE_EXTRACT.read_text(encoding="utf-8").splitlines()[1:]:
        nid = line.split("|")[2]
        if nid.startswith("8") and nid not in seen:
            seen.append(nid)
    if len(seen) < count:
        raise SystemExit(f"the sample directory has only {len(seen)} RPPS entries")
    return seen[:count]


async def invite_all(stack: Stack, alice, ids: list[str], rooms: int) -> None:
    settings, mail = stack.settings, MailContext(stack.settings.service.url,
                                                 stack.settings.secrets.web_secret)
    for nid in ids:
        practitioner = await stack.service.directory.get(nid)
        for _ in range(rooms):
            created = await alice.client.room_create(initial_state=ENCRYPTED)
            async with stack.service.database.session() as session, session.begin():
                stand_in, _ = await record_invitation(
                    session, directory_guest(practitioner), created.room_id, alice.user_id,
                    "Dr Alice BENCH", mail, ghost_prefix=settings.appservice.ghost_prefix,
                    server_name=settings.server_name)
            await ensure_registered(stack.service.context.http, settings.synapse.url,
                                    settings.secrets.as_token, stand_in)
            await alice.client.room_invite(created.room_id, stand_in)


HEARD: dict[str, float] = {}  # when our listener ran (after the earlier listeners)


def listen_with_clock(stack: Stack, worker) -> None:
    """Note when the service's own promotion listener is reached (after the earlier ones)."""
    listeners = stack.service.verification.listeners
    promote = listeners["guests.promote"]

    async def timed(decision) -> None:
        HEARD[decision.user_id] = time.monotonic()
        await promote(decision)

    listeners["guests.promote"] = timed


async def verify_and_wait(stack: Stack, worker, user_id: str, nid: str) -> tuple[float, float]:
    started = time.monotonic()
    await stack.service.verification.verify(user_id, "psc", "bench", national_id=nid)
    while not any(user == user_id for user, _ in worker.finished):
        await asyncio.sleep(0.01)
    finished = next(at for user, at in worker.finished if user == user_id)
    return (finished - started) * 1000, (finished - HEARD[user_id]) * 1000


async def main(guests: int, rooms: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = await Stack.start(Path(tmp), stack_environment())
        try:
            alice = await stack.practitioner("alice", verified=True)
            ids = national_ids(guests)
            half = guests // 2
            await invite_all(stack, alice, ids, rooms)
            accounts = []
            for nid in ids:
                user_id, _ = await stack.register("guest")
                await stack.add_account(user_id)
                accounts.append(user_id)
            async with GuestWiring(stack) as worker:
                worker.poll_seconds = 5
                listen_with_clock(stack, worker)
                sequential = [await verify_and_wait(stack, worker, accounts[i], ids[i])
                              for i in range(half)]
                burst = list(await asyncio.gather(*(
                    verify_and_wait(stack, worker, accounts[i], ids[i])
                    for i in range(half, guests))))
            print(f"guest promotion, {rooms} pending room(s) per guest: from verify() (all "
                  "listeners: badge, bot messages, …) / from the promotion listener, to "
                  "member of all rooms with the stand-in gone")
            for name, runs in (("sequential", sequential), ("burst (all at once)", burst),
                               ("all guests", sequential + burst)):
                print(describe(f"{name} verify→", [a for a, _ in runs]))
                print(describe(f"{name} listener→", [b for _, b in runs]))
        finally:
            await stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--guests", type=int, default=50)
    parser.add_argument("--rooms", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.guests, args.rooms))
