"""The loop watchdog's cost when nothing blocks (issue 15: within 2 %).

    python bench/watchdog.py                 # 10k fan-out, 15 interleaved pairs
    python bench/watchdog.py --n 10000 --pairs 30 --cap 64

The same 10k-node fan-out then fan-in (each tool awaits `asyncio.sleep(0)` once, as any
I/O tool does) run with the watchdog (`block_threshold=0.1`, the default) and without it
(`block_threshold=None`), measured in the same process. Machines here are noisy and
drift (CPU frequency, other jobs), so the two sides are interleaved pair by pair, in
alternating order; the ratio reported is of the medians and, as a check, the median of
the pairs' own ratios. CPU time (the process's, the watchdog thread's included) is
reported too: other jobs on the machine disturb it less than wall time.

Two settings: every run on one long-lived loop, as in the monitor (the watchdog's thread
is started once and parked between runs), and each run on a fresh loop, as
`asyncio.run` per run does (each watched run starts a thread).
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


def once(graph, n: int, cap: int, threshold: float | None, loop) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run, on `loop` (None: a fresh one)."""
    gc.collect()
    began, cpu = time.perf_counter(), time.process_time()
    work = run_async(graph, {"n": n}, max_concurrency=cap, block_threshold=threshold)
    result = asyncio.run(work) if loop is None else loop.run_until_complete(work)
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


def measure(graph, args, loop) -> None:
    once(graph, args.n, args.cap, 0.1, loop)  # warm up: imports, caches, the thread
    watched: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    for i in range(args.pairs):
        order = (0.1, None) if i % 2 == 0 else (None, 0.1)
        for threshold in order:
            took = once(graph, args.n, args.cap, threshold, loop)
            (watched if threshold is not None else bare).append(took)
    for name, k in (("wall", 0), ("cpu ", 1)):
        print(f"  {name}  " + ratios([w[k] for w in watched], [b[k] for b in bare]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--cap", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=15)
    args = parser.parse_args()
    graph = fan_graph(double_yield)
    print(f"fan-out n={args.n} cap={args.cap}, {args.pairs} interleaved pairs, goal <= {GOAL}")
    loop = asyncio.new_event_loop()
    try:
        print("one loop for every run (as in the monitor):")
        measure(graph, args, loop)
    finally:
        loop.close()
    print("a fresh loop per run (asyncio.run; a watchdog thread started per run):")
    measure(graph, args, None)


if __name__ == "__main__":
    main()
