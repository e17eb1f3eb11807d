"""Hypothesis: peak never exceeds max_concurrent, statuses add up, results line up."""

from __future__ import annotations

import asyncio
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncsupport import run_on_fresh_loop
from graphdeck.parallel import ParallelExecutor, TaskStatus


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
