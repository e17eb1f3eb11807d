"""Scheduler cost per node, against plain asyncio measured in the same run.

    python bench/scheduler.py            # N = 1k, 10k, 100k at caps 4 and 64, + 10k chain
    python bench/scheduler.py --quick    # N = 1k, 10k only
    python bench/scheduler.py --million  # + growth: the fan-out at cap 64 up to 1M nodes
    python bench/scheduler.py --only agent,cancel   # cases: fan chain dag agent growth cancel

Fan-out then fan-in of N trivial async tools through `graphify` + `run_async` (graph build
and the full event stream included) versus the same work as `asyncio.gather` over an
`asyncio.Semaphore`. Two trivial tools: one returns at once (the baseline's Tasks then
finish in their first step, its best case), one awaits `asyncio.sleep(0)` once (any real
I/O tool suspends at least once). The chain is compared with the asyncio way of writing a
DAG: a Task per node awaiting its upstream's Task.

Machines here are noisy, so each time is the best of `--repeat` runs and what matters is
the ratio. Memory is the tracemalloc peak of a separate pass, divided by N (not at 1M).

Cases (`--only`): fan; chain; dag (a layered DAG, also against a worker pool); agent (a
graph_fn gathering 10k tool calls, against the same calls under a Semaphore; goals 1.5x
for tools that return at once, 1.0x for tools that await once); growth (the fan-out at cap
64 from 1k to 1M nodes: per-node cost at 1M over 1k, goal 1.3); cancel (cancelling a 10k
run with every node running at cap 10k, goal at most gather's time; and at cap 64, the
rest queued behind a Semaphore).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import random
import time
from collections.abc import Awaitable, Callable

from _measure import Case, compare, parse_options

from graphdeck import graph_fn, graphify, run_async, start, tool


async def double_now(x: int) -> dict:
    return {"out": x * 2}


async def double_yield(x: int) -> dict:
    await asyncio.sleep(0)
    return {"out": x * 2}


async def add(xs: list[int]) -> dict:
    return {"sum": sum(xs)}


reduce_sum = tool(outputs=["sum"])(add)


def fan_graph(body: Callable[[int], Awaitable[dict]]):
    work = tool(outputs=["out"], name="work")(body)

    @graphify(name="fan", inputs=["n"], outputs=["sum"])
    def fan(n):
        outs = [work(x=i) for i in range(n)]
        return {"sum": reduce_sum(xs=[o.out for o in outs]).sum}

    return fan


def chain_graph(body: Callable[[int], Awaitable[dict]]):
    work = tool(outputs=["out"], name="work")(body)

    @graphify(name="chain", inputs=["n"], outputs=["out"])
    def chain(n):
        value = work(x=0)
        for _ in range(n - 1):
            value = work(x=value.out)
        return {"out": value.out}

    return chain


def graphdeck_fan(body) -> Case:
    graph = fan_graph(body)

    async def case(n: int, cap: int) -> int:
        return (await run_async(graph, {"n": n}, max_concurrency=cap))["sum"]

    return case


def gather_fan(body) -> Case:
    async def case(n: int, cap: int) -> int:
        sem = asyncio.Semaphore(cap)

        async def one(x: int) -> dict:
            async with sem:
                return await body(x)

        outs = await asyncio.gather(*(one(i) for i in range(n)))
        return (await add([o["out"] for o in outs]))["sum"]

    return case


def graphdeck_chain(body) -> Case:
    graph = chain_graph(body)

    async def case(n: int, cap: int) -> int:
        return (await run_async(graph, {"n": n}, max_concurrency=cap))["out"]

    return case


def task_chain(body) -> Case:
    async def case(n: int, cap: int) -> int:
        sem = asyncio.Semaphore(cap)

        async def node(upstream: asyncio.Task | None) -> dict:
            x = (await upstream)["out"] if upstream is not None else 0
            async with sem:
                return await body(x)

        last = None
        for _ in range(n):
            last = asyncio.ensure_future(node(last))
        assert last is not None
        return (await last)["out"]

    return case


@functools.cache
def layered_edges(n: int, width: int = 100, fan_in: int = 3) -> list[list[int]]:
    """A layered DAG of `n` nodes, `width` per layer: each node past the first layer reads
    `fan_in` distinct nodes of the layer above (chosen by a fixed-seed generator; made once,
    outside the timed runs)."""
    rng = random.Random(1234)
    upstream: list[list[int]] = []
    for i in range(n):
        layer_start = i - i % width
        if layer_start == 0:
            upstream.append([])
        else:
            above = range(max(0, layer_start - width), layer_start)
            upstream.append(rng.sample(above, min(fan_in, len(above))))
    return upstream


async def combine_now(xs: list[int]) -> dict:
    return {"out": (sum(xs) + 1) % 1_000_003}


def graphdeck_dag(body) -> Case:
    work = tool(outputs=["out"], name="combine")(body)

    @graphify(name="dag", inputs=["n"], outputs=["total"])
    def dag(n):
        handles: list = []
        for ups in layered_edges(n):
            handles.append(work(xs=[handles[u].out for u in ups]))
        return {"total": reduce_sum(xs=[h.out for h in handles[-100:]]).sum}

    async def case(n: int, cap: int) -> int:
        return (await run_async(dag, {"n": n}, max_concurrency=cap))["total"]

    return case


def gather_dag(body) -> Case:
    async def case(n: int, cap: int) -> int:
        sem = asyncio.Semaphore(cap)

        async def node(ups: list[asyncio.Task]) -> dict:
            xs = [(await u)["out"] for u in ups]
            async with sem:
                return await body(xs)

        tasks: list[asyncio.Task] = []
        for ups in layered_edges(n):
            tasks.append(asyncio.ensure_future(node([tasks[u] for u in ups])))
        outs = await asyncio.gather(*tasks[-100:])
        return (await add([o["out"] for o in outs]))["sum"]

    return case


def pool_dag(body) -> Case:
    """The floor: `cap` workers draining a ready queue, dependencies counted by hand."""

    async def case(n: int, cap: int) -> int:
        upstream = layered_edges(n)
        dependents: list[list[int]] = [[] for _ in range(n)]
        for i, ups in enumerate(upstream):
            for u in ups:
                dependents[u].append(i)
        waiting = [len(ups) for ups in upstream]
        results: list[dict | None] = [None] * n
        ready = collections.deque(i for i in range(n) if not upstream[i])
        wake = asyncio.Event()

        async def worker() -> None:
            while True:
                if not ready:
                    if all(r is not None for r in results[-100:]):
                        wake.set()
                        return
                    await asyncio.sleep(0)
                    continue
                i = ready.popleft()
                results[i] = await body([results[u]["out"] for u in upstream[i]])
                for d in dependents[i]:
                    waiting[d] -= 1
                    if not waiting[d]:
                        ready.append(d)

        workers = [asyncio.ensure_future(worker()) for _ in range(cap)]
        await wake.wait()
        await asyncio.gather(*workers)
        return (await add([r["out"] for r in results[-100:]]))["sum"]

    return case


def graphdeck_agent(body) -> Case:
    """A graph_fn awaiting N tool calls through `asyncio.gather` (each call a node)."""
    work = tool(outputs=["out"], name="work")(body)

    @graph_fn(name="agent")
    async def agent(n, *, context):
        outs = await asyncio.gather(*(work(x=i) for i in range(n)))
        return await add([o["out"] for o in outs])

    async def case(n: int, cap: int) -> int:
        return (await run_async(agent, {"n": n}, max_concurrency=cap))["sum"]

    return case


async def _cancel_at_full_cap(n: int, cap: int, ours: bool) -> float:
    """Seconds from cancelling a run of N tasks (`cap` of them running, each holding a
    slot; the rest queued) until every one ended. asyncio: a Task per node (behind a
    Semaphore when the cap is below N).
    (Each waits on a sleep of its own: N waiters on one Event would measure the Event's
    O(n) removal of cancelled waiters instead.)"""
    all_started = asyncio.Event()
    started = 0

    async def blocked(x: int) -> dict:
        nonlocal started
        started += 1
        if started == cap:
            all_started.set()
        await asyncio.sleep(3600)
        return {"out": x}

    if ours:
        handle = start(fan_graph(blocked), {"n": n}, max_concurrency=cap)
        await all_started.wait()
        began = time.perf_counter()
        handle.cancel()
        await handle.wait()
    else:
        sem = asyncio.Semaphore(cap)

        async def one(x: int) -> dict:
            async with sem:
                return await blocked(x)

        tasks = [asyncio.ensure_future(one(i) if cap < n else blocked(i)) for i in range(n)]
        await all_started.wait()
        began = time.perf_counter()
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
    return time.perf_counter() - began


def cancel_rows(repeat: int) -> None:
    n = 10_000
    for cap in (n, 64):
        ours = theirs = float("inf")
        for _ in range(repeat):  # rounds alternate between the sides
            ours = min(ours, asyncio.run(_cancel_at_full_cap(n, cap, True)))
            theirs = min(theirs, asyncio.run(_cancel_at_full_cap(n, cap, False)))
        print(
            f"cancel at full cap: {n} nodes, cap {cap}: graphdeck {ours * 1e3:.1f} ms, "
            f"asyncio tasks {theirs * 1e3:.1f} ms, ratio {ours / theirs:.2f}"
            + ("  (goal <= 1.00)" if cap == n else ""),
            flush=True,
        )


#: The cases, by the name `--only` takes.
CASES = ("fan", "chain", "dag", "agent", "growth", "cancel")
#: Sizes of the growth case (fan-out, tools that return at once, cap 64).
GROWTH = (1_000, 10_000, 100_000, 1_000_000)


def main() -> None:
    args, sizes = parse_options(__doc__)
    only = {name for name in args.only.split(",") if name}
    unknown = only - set(CASES)
    if unknown:
        raise SystemExit(f"unknown case(s) {sorted(unknown)}; cases: {', '.join(CASES)}")
    chosen = only or {name for name in CASES if name != "growth" or args.million}
    rows = []
    if "fan" in chosen:
        for label, body in (("returns", double_now), ("yields", double_yield)):
            ours, theirs = graphdeck_fan(body), gather_fan(body)
            rows += [(f"fan {label}", n, cap, ours, theirs) for n in sizes for cap in (4, 64)]
    if "chain" in chosen:
        rows.append(
            ("chain returns", 10_000, 4, graphdeck_chain(double_now), task_chain(double_now))
        )
    if "dag" in chosen:
        dag = graphdeck_dag(combine_now)
        rows.append(("dag returns", 10_000, 4, dag, gather_dag(combine_now)))
        rows.append(("dag vs pool", 10_000, 4, dag, pool_dag(combine_now)))
    if "agent" in chosen:
        for label, body in (("returns", double_now), ("yields", double_yield)):
            rows.append((f"agent {label}", 10_000, 64, graphdeck_agent(body), gather_fan(body)))
    if "growth" in chosen:
        ours, theirs = graphdeck_fan(double_now), gather_fan(double_now)
        rows += [("fan returns", n, 64, ours, theirs) for n in GROWTH]
    header = (
        f"{'shape (tool)':<16}{'N':>8}{'cap':>5}{'graphdeck µs':>14}{'asyncio µs':>12}"
        f"{'ratio':>7}{'graphdeck KB':>14}{'asyncio KB':>12}{'wall s':>8}"
    )
    measured: dict[tuple[str, int, int], tuple[float, float]] = {}
    if rows:
        print(header)
        print("-" * len(header))
    for shape, n, cap, ours, baseline in rows:
        if (shape, n, cap) in measured:
            continue  # (the growth case repeats fan rows)
        ours_s, base_s, ours_kb, base_kb = compare(
            ours, baseline, n, cap, args.repeat, memory=n <= 100_000
        )
        measured[shape, n, cap] = ours_s / n, base_s / n
        print(
            f"{shape:<16}{n:>8}{cap:>5}{ours_s / n * 1e6:>14.2f}{base_s / n * 1e6:>12.2f}"
            f"{ours_s / base_s:>7.2f}{ours_kb:>14.2f}{base_kb:>12.2f}{ours_s:>8.3f}",
            flush=True,
        )
    if rows:
        print(
            "per node; asyncio = gather over a Semaphore (chain, dag: a Task per node awaiting\n"
            "its upstream; 'dag vs pool': cap workers draining a ready queue, the floor);\n"
            f"ratio < 1: graphdeck is faster. Time: best of {args.repeat} runs.\n"
            "agent: a graph_fn gathering N tool calls; asyncio: the same calls under a Semaphore."
        )
    for label, goal in (("returns", 1.5), ("yields", 1.0)):
        if (f"agent {label}", 10_000, 64) in measured:
            ours_n, base_n = measured[f"agent {label}", 10_000, 64]
            print(f"agent {label}: ratio {ours_n / base_n:.2f} (goal <= {goal:.2f})")
    if "growth" in chosen:
        first, last = GROWTH[0], GROWTH[-1]
        ours_1, base_1 = measured["fan returns", first, 64]
        ours_n, base_n = measured["fan returns", last, 64]
        ours_10, base_10 = measured["fan returns", GROWTH[1], 64]
        print(
            f"growth (fan returns, cap 64): per-node cost at {last:,} over {first:,}: "
            f"graphdeck {ours_n / ours_1:.2f} (goal <= 1.30), asyncio {base_n / base_1:.2f}; "
            f"over {GROWTH[1]:,} (a run's fixed costs weigh less): graphdeck "
            f"{ours_n / ours_10:.2f}, asyncio {base_n / base_10:.2f}"
        )
    if "cancel" in chosen:
        cancel_rows(args.repeat)


if __name__ == "__main__":
    main()
