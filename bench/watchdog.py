"""The loop watchdog's cost when nothing blocks (issue 15: within 2 %).

    python bench/watchdog.py                 # 10k fan-out, 15 interleaved pairs
    python bench/watchdog.py --n 10000 --pairs 30 --cap 64

The same 10k-node fan-out then fan-in (each tool awaits `asyncio.sleep(0)` once, as any
I/O tool does) run with the watchdog (`block_threshold=0.1`, the default) and without it
(`block_threshold=None`), measured in the same process. Machines here are noisy and
drift (CPU frequency, other jobs), so the two sides are interleaved pair by pair, in
alternating order, each in a fresh event loop; the ratio reported is of the medians and,
as a check, the median of the pairs' own ratios. CPU time (the process's, the watchdog
thread's included) is reported too: other jobs on the machine disturb it less than wall
time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time

from scheduler import double_yield, fan_graph

from graphdeck import run_async

GOAL = 1.02


def once(graph, n: int, cap: int, threshold: float | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run."""
    gc.collect()
    began, cpu = time.perf_counter(), time.process_time()
    result = asyncio.run(run_async(graph, {"n": n}, max_concurrency=cap, block_threshold=threshold))
    took = (time.perf_counter() - began, time.process_time() - cpu)
    assert result["sum"] == n * (n - 1), result
    return took


def ratios(watched: list[float], bare: list[float]) -> str:
    median = statistics.median(watched) / statistics.median(bare)
    pairs = statistics.median(w / b for w, b in zip(watched, bare, strict=True))
    return (
        f"median {statistics.median(watched):.3f} s vs {statistics.median(bare):.3f} s: "
        f"ratio {median:.4f} ({(median - 1) * 100:+.2f} %), median pair ratio {pairs:.4f}, "
        f"min ratio {min(watched) / min(bare):.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--cap", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=15)
    args = parser.parse_args()
    graph = fan_graph(double_yield)
    once(graph, args.n, args.cap, None)  # warm up: imports, caches
    watched: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    for i in range(args.pairs):
        order = (0.1, None) if i % 2 == 0 else (None, 0.1)
        for threshold in order:
            took = once(graph, args.n, args.cap, threshold)
            (watched if threshold is not None else bare).append(took)
    print(f"fan-out n={args.n} cap={args.cap}, {args.pairs} interleaved pairs, goal <= {GOAL}")
    for name, k in (("wall", 0), ("cpu ", 1)):
        print(f"  {name}  " + ratios([w[k] for w in watched], [b[k] for b in bare]))


if __name__ == "__main__":
    main()
