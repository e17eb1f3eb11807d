"""What recording a run into the history costs, against the same run unrecorded.

    python bench/store.py --repeat 11          # N = 1k, 10k, 100k at caps 4 and 64
    python bench/store.py --repeat 11 --quick  # N = 1k, 10k

Runs shorter than the writer's 200 ms turn are mostly written after they end; at 100k
nodes (~1.5 s) the writer works during the run, within its CPU budget.

The workload is bench/scheduler.py's fan-out then fan-in of N tools that await once. Three
figures per size, each the median over `--repeat` (use 11 or more) interleaved pairs of runs
in this process:
- run: wall time until `run_async` returns, with a Recorder attached, over the same
  without one (the overhead a user waits for; the writer thread competes for the GIL);
- persisted: until the Recorder has also committed every event (`flush()`), over the
  same unrecorded run (the total work, including what happens after the run ended);
- µs per node the writer still needed after the run had ended (the best pair).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import tempfile
import time
from pathlib import Path

from _measure import parse_options
from scheduler import double_yield, fan_graph

from graphdeck import start
from graphdeck.store import Recorder


async def _one(graph, n: int, cap: int, recorder: Recorder | None) -> tuple[float, float]:
    began = time.perf_counter()
    handle = start(graph, {"n": n}, max_concurrency=cap)
    if recorder is not None:
        recorder.record(handle, file="bench")
    await handle.result()
    ran = time.perf_counter() - began
    if recorder is not None:
        recorder.flush(timeout=None)
    return ran, time.perf_counter() - began


def measure(n: int, cap: int, repeat: int, recorder: Recorder) -> tuple[float, float, float]:
    """Median over `repeat` interleaved pairs (drift on a noisy machine hits both sides) of
    (recorded run / plain run, persisted / plain run, µs of writing per node)."""
    graph = fan_graph(double_yield)
    ran_ratios, done_ratios, write_us = [], [], []
    for _ in range(repeat):
        gc.collect()
        plain = asyncio.run(_one(graph, n, cap, None))[0]
        gc.collect()
        ran, done = asyncio.run(_one(graph, n, cap, recorder))
        ran_ratios.append(ran / plain)
        done_ratios.append(done / plain)
        write_us.append((done - ran) / n * 1e6)
    return statistics.median(ran_ratios), statistics.median(done_ratios), min(write_us)


def main() -> None:
    args, sizes = parse_options(__doc__)
    print(f"{'N':>7} {'cap':>4} {'run ×':>7} {'persisted ×':>12} {'µs/node written':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        recorder = Recorder(Path(tmp) / "bench.sqlite3")
        try:
            for n in sizes:
                for cap in (4, 64):
                    ran, done, per_node = measure(n, cap, args.repeat, recorder)
                    print(f"{n:>7} {cap:>4} {ran:>7.3f} {done:>12.2f} {per_node:>16.1f}")
        finally:
            recorder.close()


if __name__ == "__main__":
    main()
