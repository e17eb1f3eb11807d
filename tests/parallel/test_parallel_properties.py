"""Hypothesis: peak never exceeds max_concurrent, statuses add up, results line up; and
with fail-fast, "first" and TaskGroup, items that fail or win at any point (before their
first await too) never hang the run nor leave a task or coroutine behind."""

from __future__ import annotations

import asyncio
import inspect
import os
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncsupport import run_on_fresh_loop
from graphdeck.parallel import (
    FanOutConfig,
    FanOutExecutor,
    ParallelExecutor,
    TaskGroup,
    TaskStatus,
    _fanout,
)


@settings(
    max_examples=int(os.environ.get("GRAPHDECK_PROPERTY_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    plan=st.lists(st.tuples(st.sampled_from([0, 0, 0.001, 0.003]), st.booleans()), max_size=60),
    limit=st.integers(1, 10),
    fail_fast=st.booleans(),
    timeout=st.one_of(st.none(), st.sampled_from([0.002, 0.01])),
    factories=st.booleans(),
)
def test_bounded_ordered_and_accounted(plan, limit, fail_fast, timeout, factories) -> None:
    state = {"active": 0, "peak": 0}

    async def item(i, delay, fail):
        state["active"] += 1
        state["peak"] = max(state["peak"], state["active"])
        try:
            await asyncio.sleep(delay)
            if fail:
                raise ValueError(i)
            return i * 10
        finally:
            state["active"] -= 1

    async def scenario():
        executor = ParallelExecutor(max_concurrent=limit, fail_fast=fail_fast, timeout=timeout)
        if factories:
            items = [lambda i=i, d=d, f=f: item(i, d, f) for i, (d, f) in enumerate(plan)]
        else:
            items = [item(i, d, f) for i, (d, f) in enumerate(plan)]
        return await executor.gather(items)

    result = run_on_fresh_loop(scenario())
    assert state["peak"] <= limit and state["active"] == 0
    assert result.total == len(plan)
    assert result.completed + result.failed + result.timed_out + result.cancelled == result.total
    assert [r.index for r in result.results] == list(range(len(plan)))
    for r, (_, fail) in zip(result.results, plan, strict=True):
        if r.status is TaskStatus.COMPLETED:
            assert r.result == r.index * 10 and not fail
        if r.status is TaskStatus.FAILED:
            assert fail and isinstance(r.error, ValueError)
    if not fail_fast and timeout is None:
        assert result.completed == sum(not f for _, f in plan)


# -- halting: items fail / win at random points, including before their first await ------

HANG_GUARD = 5.0  # seconds: a last resort; `returns_or_hangs` reports a hang long before
STILL_TURNS = 100  # loop turns a call may take to return once all its tasks are done

#: each item: the sleeps it awaits (none: it ends before its first await), then its outcome
items_plan = st.lists(
    st.tuples(st.lists(st.sampled_from([0, 0, 0.001]), max_size=3), st.booleans()),
    max_size=12,
)


class Ledger:
    """What each item really did, in the order it happened, and every coroutine made."""

    def __init__(self, plan: list[tuple[list[float], bool]]) -> None:
        self.plan = plan
        self.fate = ["never started"] * len(plan)
        self.events: list[tuple[str, int]] = []
        self.coros: list = []

    async def _run(self, i: int) -> int:
        steps, fail = self.plan[i]
        self.fate[i] = "running"
        self.events.append(("start", i))
        try:
            for delay in steps:
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            self.fate[i] = "cancelled"
            raise
        self.fate[i] = "raised" if fail else "returned"
        self.events.append((self.fate[i], i))
        if fail:
            raise ValueError(i)
        return i * 10

    def coro(self, i: int):
        coro = self._run(i)
        self.coros.append(coro)
        return coro

    def items(self, factories: bool) -> list:
        if factories:
            return [lambda i=i: self.coro(i) for i in range(len(self.plan))]
        return [self.coro(i) for i in range(len(self.plan))]


async def returns_or_hangs(call: asyncio.Task, created: list[asyncio.Task]) -> None:
    """Wait for `call`, failing at once if it hangs: once every task it created is done,
    nothing is left that could wake it, so it must return within a few loop turns (the
    done-callbacks run, then the call resumes). Counting turns, not seconds, makes a
    hang cheap to detect and to shrink."""
    still = 0
    while not call.done():
        await asyncio.sleep(0)
        ours_done = all(task.done() for task in created if task is not call)
        still = still + 1 if ours_done else 0
        if still > STILL_TURNS:
            call.cancel()
            await asyncio.wait([call])
            raise AssertionError("hang: all its tasks are done, yet the call never returned")
    call.result()  # re-raises what the call raised


def _status_of(fate: str) -> TaskStatus:
    return {
        "returned": TaskStatus.COMPLETED,
        "raised": TaskStatus.FAILED,
        "cancelled": TaskStatus.CANCELLED,
        "never started": TaskStatus.CANCELLED,
    }[fate]


@settings(
    max_examples=int(os.environ.get("GRAPHDECK_PROPERTY_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    plan=items_plan,
    mode=st.sampled_from(["gather", "map", "task_group", "first"]),
    limit=st.one_of(st.none(), st.integers(1, 6)),
    fail_fast=st.booleans(),
    factories=st.booleans(),
    paced=st.booleans(),
    retried=st.booleans(),
    yields=st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_halting_always_returns_and_accounts_for_every_item(
    plan, mode, limit, fail_fast, factories, paced, retried, yields
) -> None:
    """paced: map with a start rate (workers wait, holding an item, before starting it).
    retried: "first" re-invokes failed factories. yields: TaskGroup lets items run
    between spawns, so some are spawned after the group already stopped."""
    ledger = Ledger(plan)
    created: list[asyncio.Task] = []
    outcome: dict = {}

    def recording_factory(loop, coro, **kwargs):
        task = asyncio.Task(coro, loop=loop, **kwargs)
        created.append(task)
        return task

    async def call():
        cap = limit or 64
        if mode == "gather":
            executor = ParallelExecutor(max_concurrent=cap, timeout=None, fail_fast=fail_fast)
            outcome["result"] = await executor.gather(ledger.items(factories))
        elif mode == "map":
            executor = ParallelExecutor(max_concurrent=cap, timeout=None, fail_fast=fail_fast)
            outcome["result"] = await executor.map(
                ledger.coro, range(len(plan)), max_per_second=2000 if paced else None
            )
        elif mode == "task_group":
            async with TaskGroup(max_concurrent=limit, fail_fast=fail_fast) as tg:
                for item, pause in zip(ledger.items(factories), yields, strict=False):
                    tg.spawn(item)
                    if pause:
                        await asyncio.sleep(0)
            outcome["result"] = tg.result
        else:
            config = FanOutConfig(
                max_concurrent=cap,
                timeout=None,
                aggregation="first",
                retry_failed=retried and factories,
                max_retries=1,
            )
            with mock.patch.object(_fanout, "_first", wraps=_fanout._first) as first:
                try:
                    outcome["value"] = await FanOutExecutor(config).fan_out(ledger.items(factories))
                except (ExceptionGroup, TimeoutError) as error:
                    outcome["error"] = error
            outcome["result"] = first.call_args.args[0]

    async def scenario():
        asyncio.get_running_loop().set_task_factory(recording_factory)
        async with asyncio.timeout(HANG_GUARD):
            await returns_or_hangs(asyncio.create_task(call()), created)
        # no leaked tasks: everything the primitive created is done once it returned
        assert [t for t in created if not t.done()] == []

    run_on_fresh_loop(scenario())
    result = outcome["result"]

    # it returned, every item accounted for, in input order, as the items really ended
    assert "running" not in ledger.fate  # losers were cancelled, not left running
    assert result.total == len(plan)
    assert result.completed + result.failed + result.timed_out + result.cancelled == result.total
    assert [r.index for r in result.results] == list(range(len(plan)))
    assert [r.status for r in result.results] == [_status_of(f) for f in ledger.fate]
    for r in result.results:
        if r.status is TaskStatus.COMPLETED:
            assert r.result == r.index * 10
        if r.status is TaskStatus.FAILED:
            assert isinstance(r.error, ValueError) and r.error.args == (r.index,)
    # no un-awaited coroutines: each one made ran to its end or was closed
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in ledger.coros)

    ends = [event for event in ledger.events if event[0] != "start"]
    stopper = {"first": "returned"}.get(mode, "raised" if fail_fast else None)
    if stopper is not None:
        # whatever halted the run was the last thing to end, and nothing started after it
        halts = [n for n, (kind, _) in enumerate(ledger.events) if kind == stopper]
        if halts:
            assert ledger.events[halts[0] + 1 :] == []
            assert ends[-1][0] == stopper
        else:  # nothing halted: every item ran to its planned end
            assert result.completed + result.failed == result.total
    else:
        assert ledger.fate == ["raised" if fail else "returned" for _, fail in plan]
    if mode == "first":
        winners = [i for i, fate in enumerate(ledger.fate) if fate == "returned"]
        assert len(winners) == (1 if any(not fail for _, fail in plan) else 0)
        if winners:
            assert outcome["value"] == winners[0] * 10
        elif plan:
            assert isinstance(outcome["error"], ExceptionGroup)
            assert [e.args for e in outcome["error"].exceptions] == [(i,) for i in range(len(plan))]
