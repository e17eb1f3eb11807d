"""Offloading CPU-bound tools to Dask: local thread pool versus a 2-process LocalCluster.

    python bench/dask_offload.py

64 calls of a pure-Python CPU-bound tool (~200 ms each) through graphify + run_async, at a
cap of 8: once with the default local executor (plain tools run in threads, so the GIL
serialises them) and once with `executor=DaskExecutor(n_workers=2)` (two processes on this
2-core machine), in the same run. Then the fixed cost per node of the Dask path, measured
with trivial tools (cluster start-up excluded). Goal: speed-up >= 1.7x.
"""

from __future__ import annotations

import asyncio
import time

from graphdeck import graphify, run_async, tool
from graphdeck.executors import DaskExecutor

CALLS, CAP, TARGET_S = 64, 8, 0.2


def spin(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total


def calibrate() -> int:
    """Iterations of `spin` that take about TARGET_S seconds here."""
    began = time.perf_counter()
    spin(200_000)
    per_iteration = (time.perf_counter() - began) / 200_000
    return int(TARGET_S / per_iteration)


@tool(outputs=["v"])
def burn(iterations: int) -> int:
    return spin(iterations)


@tool(outputs=["v"])
def trivial(x: int) -> int:
    return x


@tool(outputs=["n"])
def count(values: list) -> int:
    return len(values)


@graphify(name="cpu", inputs=["iterations", "calls"], outputs=["n"])
def cpu(iterations, calls):
    return {"n": count(values=[burn(iterations=iterations).v for _ in range(calls)]).n}


@graphify(name="trivial_fan", inputs=["calls"], outputs=["n"])
def trivial_fan(calls):
    return {"n": count(values=[trivial(x=i).v for i in range(calls)]).n}


async def timed(graph, inputs, executor=None) -> float:
    began = time.perf_counter()
    await run_async(graph, inputs, max_concurrency=CAP, executor=executor)
    return time.perf_counter() - began


async def main() -> None:
    iterations = calibrate()
    local = await timed(cpu, {"iterations": iterations, "calls": CALLS})
    executor = DaskExecutor(n_workers=2, threads_per_worker=1)
    began = time.perf_counter()
    await executor.start()
    startup = time.perf_counter() - began
    try:
        remote = await timed(cpu, {"iterations": iterations, "calls": CALLS}, executor)
        trivial_local = await timed(trivial_fan, {"calls": 200})
        trivial_remote = await timed(trivial_fan, {"calls": 200}, executor)
    finally:
        await executor.close()
    print(f"{CALLS} CPU-bound calls of ~{TARGET_S * 1000:.0f} ms at cap {CAP}:")
    print(f"  local thread pool        {local:7.2f} s")
    print(f"  Dask, 2 worker processes {remote:7.2f} s   speed-up {local / remote:.2f}x")
    print(f"  (cluster start-up        {startup:7.2f} s, not included)")
    overhead = (trivial_remote - trivial_local) / 200 * 1000
    print(f"Dask path overhead for a trivial tool: {overhead:.1f} ms per node at cap {CAP}")
    print("Offload tools that take well over that (>= ~50 ms); keep quick ones local.")


if __name__ == "__main__":
    asyncio.run(main())
