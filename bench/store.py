"""What recording a run into the history costs, against the same run unrecorded.

    python bench/store.py              # the 10,000-node fan-out/fan-in, caps 4 and 64
    python bench/store.py --quick      # 1,000 and 10,000 nodes only… same as default here

The workload is bench/scheduler.py's fan-out then fan-in of N tools that await once. Three
figures per size, best of `--repeat`, all in this process:
- run: wall time until `run_async` returns, with a Recorder attached, over the same
  without one (the overhead a user waits for; the writer thread competes for the GIL);
- persisted: until the Recorder has also committed every event (`flush()`), over the
  same unrecorded run (the total work, including what happens after the run ended);
- µs of writing per node.
"""

from __future__ import annotations

import asyncio
import gc
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
    graph = fan_graph(double_yield)
    plain = recorded = persisted = float("inf")
    for _ in range(repeat):  # interleaved, so drift on a noisy machine hits both sides
        gc.collect()
        plain = min(plain, asyncio.run(_one(graph, n, cap, None))[0])
        gc.collect()
        ran, done = asyncio.run(_one(graph, n, cap, recorder))
        recorded, persisted = min(recorded, ran), min(persisted, done)
    return plain, recorded, persisted


def main() -> None:
    args, sizes = parse_options(__doc__)
    sizes = [n for n in sizes if n <= 10_000]
    print(
        f"{'N':>7} {'cap':>4} {'plain s':>8} {'run s':>8} {'run ×':>6} "
        f"{'persisted s':>11} {'persisted ×':>11} {'µs/node':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        recorder = Recorder(Path(tmp) / "bench.sqlite3")
        try:
            for n in sizes:
                for cap in (4, 64):
                    plain, ran, done = measure(n, cap, args.repeat, recorder)
                    print(
                        f"{n:>7} {cap:>4} {plain:>8.3f} {ran:>8.3f} {ran / plain:>6.2f} "
                        f"{done:>11.3f} {done / plain:>11.2f} "
                        f"{(done - plain) / n * 1e6:>8.1f}"
                    )
        finally:
            recorder.close()


if __name__ == "__main__":
    main()
