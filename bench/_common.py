"""Shared bits of the benchmarks: percentiles and a readable table."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def describe(name: str, values_ms: list[float]) -> str:
    return (f"{name:<28} n={len(values_ms):<4} p50={percentile(values_ms, 50):8.1f} ms  "
            f"p95={percentile(values_ms, 95):8.1f} ms  mean={statistics.fmean(values_ms):8.1f} ms")
