"""Time from `confrere up` to ready (endpoints.json written), on a fresh and on a warm data dir.

Usage: python bench/startup.py [--runs N]
Prints the median and every run; a fresh run includes first-run work (secrets, Synapse
database creation, admin account, bot login and cross-signing); a warm run reuses all of it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT  # noqa: F401 - puts the repository on sys.path

from tests.e2e.harness import stack_environment


async def one_run(data_dir: Path) -> float:
    env = {**os.environ, **stack_environment()}
    env.pop("CONFRERE_SYNAPSE__RELAXED_RATE_LIMITS", None)
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "--data", str(data_dir), "up",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=env,
    )
    try:
        while not (data_dir / "endpoints.json").exists():
            if process.returncode is not None:
                raise RuntimeError(f"confrere up exited early; see {data_dir}/logs")
            await asyncio.sleep(0.02)
        return time.monotonic() - started
    finally:
        process.send_signal(signal.SIGINT)
        await process.wait()


async def main(runs: int) -> None:
    fresh, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            fresh.append(await one_run(data))
            warm.append(await one_run(data))
    print("confrere up → ready (seconds, wall clock, includes Python start-up)")
    print(f"  fresh: median {statistics.median(fresh):5.2f}  runs {[round(x, 2) for x in fresh]}")
    print(f"  warm : median {statistics.median(warm):5.2f}  runs {[round(x, 2) for x in warm]}")
    print(f"  warm/fresh ratio: {statistics.median(warm) / statistics.median(fresh):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args().runs))
