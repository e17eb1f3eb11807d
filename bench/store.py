"""What recording runs into the history costs, and how the writer holds up under load.

    python bench/store.py --repeat 11          # N = 1k, 10k, 100k at caps 4 and 64
    python bench/store.py --repeat 11 --quick  # N = 1k, 10k; 100 runs back to back

First, sustained load: runs of 1,000 nodes back to back (300 of them; 100 with --quick),
each recorded right after it starts, as a script looping over `start()` would. Runs are
~5 µs per node, the writer needs more than that, so it falls behind; reported are the run
time per node (including `record()` waiting for the writer: the backpressure), the
writer's CPU time per node, the largest backlog seen (log rows of finished runs not yet
written; the bound is MAX_BACKLOG_ROWS plus a run), how much the process grew, and how
long the last `flush()` took.

Then, per size: the fan-out then fan-in of N tools that await once (bench/scheduler.py's
workload), the median over `--repeat` (use 11 or more) interleaved pairs of runs in this
process of:
- run: wall time until `run_async` returns, with a Recorder attached, over the same
  without one (the overhead a user waits for; the writer thread competes for the GIL);
- persisted: until the Recorder has also committed every event (`flush()`), over the
  same unrecorded run (the total work, including what happens after the run ended);
and two figures of the best pair: the µs per node the writer still needed after the run
had ended (wall time), and the writer's CPU time per node: the cost of writing a node,
whatever the wall clock (thread CPU time: other processes on the machine barely change it).
"""

from __future__ import annotations

import asyncio
import gc
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _measure import parse_options
from scheduler import double_now, double_yield, fan_graph

from graphdeck import start
from graphdeck.store import MAX_BACKLOG_ROWS, Recorder

SUSTAINED_NODES = 1_000


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


def measure(n: int, cap: int, repeat: int, recorder: Recorder) -> tuple[float, ...]:
    """Median over `repeat` interleaved pairs (drift on a noisy machine hits both sides) of
    (recorded run / plain run, persisted / plain run), and the least µs per node written
    after the run and of writer CPU."""
    graph = fan_graph(double_yield)
    ran_ratios, done_ratios, after_us, writer_us = [], [], [], []
    for _ in range(repeat):
        gc.collect()
        plain = asyncio.run(_one(graph, n, cap, None))[0]
        gc.collect()
        cpu = recorder.writer_cpu_s
        ran, done = asyncio.run(_one(graph, n, cap, recorder))
        ran_ratios.append(ran / plain)
        done_ratios.append(done / plain)
        after_us.append((done - ran) / n * 1e6)
        writer_us.append((recorder.writer_cpu_s - cpu) / n * 1e6)
    ran, done = statistics.median(ran_ratios), statistics.median(done_ratios)
    return ran, done, min(after_us), min(writer_us)


def _max_rss_mb() -> float:
    per_mb = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, else KB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / per_mb


async def _back_to_back(runs: int, recorder: Recorder) -> tuple[float, int, float]:
    """(seconds running, largest backlog seen in rows, seconds the last flush took)."""
    graph = fan_graph(double_now)
    peak = 0
    began = time.perf_counter()
    for _ in range(runs):
        handle = start(graph, {"n": SUSTAINED_NODES}, max_concurrency=64)
        recorder.record(handle, file="bench")
        await handle.result()
        peak = max(peak, recorder.backlog)
    ran = time.perf_counter() - began
    recorder.flush(timeout=None)
    return ran, peak, time.perf_counter() - began - ran


def sustained(runs: int, folder: Path) -> None:
    gc.collect()
    grown_from = _max_rss_mb()
    recorder = Recorder(folder / "sustained.sqlite3")
    try:
        ran, peak, flushed = asyncio.run(_back_to_back(runs, recorder))
    finally:
        recorder.close()
    nodes = runs * (SUSTAINED_NODES + 1)
    print(
        f"{runs} runs of {SUSTAINED_NODES:,} nodes back to back: "
        f"{ran / nodes * 1e6:.1f} µs/node run, "
        f"{recorder.writer_cpu_s / nodes * 1e6:.1f} µs/node writer CPU, "
        f"peak backlog {peak:,} rows (bound {MAX_BACKLOG_ROWS:,} + a run), "
        f"max RSS +{_max_rss_mb() - grown_from:.0f} MB, last flush {flushed:.2f} s"
    )


def main() -> None:
    args, sizes = parse_options(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        sustained(100 if args.quick else 300, Path(tmp))
        print(
            f"{'N':>7} {'cap':>4} {'run ×':>7} {'persisted ×':>12} "
            f"{'µs/node written after':>22} {'writer CPU µs/node':>19}"
        )
        recorder = Recorder(Path(tmp) / "bench.sqlite3")
        try:
            for n in sizes:
                for cap in (4, 64):
                    ran, done, after, cpu = measure(n, cap, args.repeat, recorder)
                    print(f"{n:>7} {cap:>4} {ran:>7.3f} {done:>12.2f} {after:>22.1f} {cpu:>19.1f}")
        finally:
            recorder.close()


if __name__ == "__main__":
    main()
