"""Timing and memory helpers shared by the benchmarks (each run in a fresh event loop)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import tracemalloc
from collections.abc import Awaitable, Callable

Case = Callable[[int, int], Awaitable[int]]


def timed(case: Case, n: int, cap: int, repeat: int) -> float:
    """Best wall time of `repeat` runs of `case(n, cap)`; noisy machines: keep the minimum."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        began = time.perf_counter()
        asyncio.run(case(n, cap))
        best = min(best, time.perf_counter() - began)
    return best


def peak_bytes(case: Case, n: int, cap: int) -> int:
    """Peak traced allocation of one run (a separate pass: tracing distorts timing)."""
    gc.collect()
    tracemalloc.start()
    try:
        asyncio.run(case(n, cap))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def compare(
    ours: Case, baseline: Case, n: int, cap: int, repeat: int, memory: bool = True
) -> tuple[float, ...]:
    """Both sides on the same work, checked equal first: (our seconds, baseline seconds,
    our KB per item, baseline KB per item). Rounds alternate between the sides, so a
    change in the machine's load hits both. Without `memory` the KB are NaN (tracing a
    million-node run takes minutes)."""
    assert asyncio.run(ours(n, cap)) == asyncio.run(baseline(n, cap))
    ours_s = base_s = float("inf")
    for _ in range(repeat):
        ours_s = min(ours_s, timed(ours, n, cap, 1))
        base_s = min(base_s, timed(baseline, n, cap, 1))
    if not memory:
        return ours_s, base_s, float("nan"), float("nan")
    return (
        ours_s,
        base_s,
        peak_bytes(ours, n, cap) / n / 1024,
        peak_bytes(baseline, n, cap) / n / 1024,
    )


def parse_options(doc: str | None) -> tuple[argparse.Namespace, list[int]]:
    """The benchmarks' shared options (--quick, --repeat) and the sizes N to run."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip N = 100k")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--million", action="store_true", help="also a 1M-node fan-out (per-node cost as runs grow)"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated case names to run (the script's docstring lists them)",
    )
    args = parser.parse_args()
    return args, [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
