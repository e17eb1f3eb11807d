"""Inside a running graph_fn, parallel items are nodes of the run and the primitive's
occupancy is reported, so the monitor can show both."""

from __future__ import annotations

import asyncio

import pytest

from graphdeck import NodeState, RunFailed, graph_fn, start, tool
from graphdeck.events import GroupOccupancyChanged, NodeAdded
from graphdeck.parallel import FanOutConfig, FanOutExecutor, TaskGroup, parallel_map


async def work(i: int) -> int:
    await asyncio.sleep(0.002)
    if i == -1:
        raise ValueError("bad item")
    return i * i


async def test_map_items_appear_as_grouped_nodes_with_occupancy() -> None:
    @graph_fn
    async def agent(*, context):
        result = await parallel_map(work, range(10), max_concurrent=3)
        return {"values": result.get_results()}

    handle = start(agent)
    assert await handle.result() == {"values": [i * i for i in range(10)]}
    items = [n for n in handle.nodes.values() if n.group == "map_0"]
    assert [n.id for n in items] == [f"map_0[{i}]" for i in range(10)]
    assert all(n.state is NodeState.SUCCEEDED for n in items)
    assert items[4].outputs == {"result": 16}
    samples = [e for e in handle.events_since(0) if isinstance(e, GroupOccupancyChanged)]
    assert max(s.active for s in samples) == 3 and samples[-1].active == 0
    assert {s.limit for s in samples} == {3} and {s.group for s in samples} == {"map_0"}
    assert handle.occupancy.peak == 0  # plain awaits: the run's cap is not involved


async def test_failed_item_is_a_failed_node_and_fan_out_first_cancels() -> None:
    @graph_fn
    async def agent(*, context):
        first = await FanOutExecutor(FanOutConfig(aggregation="first")).fan_out(
            [lambda: asyncio.sleep(5), lambda: work(3)]
        )
        async with TaskGroup(fail_fast=False) as tg:
            tg.spawn(work(-1))
            tg.spawn(work(2))
        return {"first": first, "failed": tg.result.failed}

    handle = start(agent)
    assert await handle.result() == {"first": 9, "failed": 1}
    states = {n.id: n.state for n in handle.nodes.values()}
    assert states["fan_out_0[0]"] is NodeState.CANCELLED
    assert states["fan_out_0[1]"] is NodeState.SUCCEEDED
    assert states["task_group_0[0]"] is NodeState.FAILED
    assert states["task_group_0[1]"] is NodeState.SUCCEEDED


async def test_items_inside_a_tool_body_are_not_nodes() -> None:
    @tool(outputs=["n"])
    async def batch(n: int) -> dict:
        result = await parallel_map(work, range(n), max_concurrent=2)
        return {"n": result.completed}

    @graph_fn
    async def agent(*, context):
        return await batch(n=5)

    handle = start(agent)
    assert await handle.result() == {"n": 5}
    assert [e.node_id for e in handle.events_since(0) if isinstance(e, NodeAdded)] == ["batch_0"]


async def test_cancelling_the_agent_cancels_the_items() -> None:
    started = asyncio.Event()

    async def long(i: int) -> int:
        started.set()
        await asyncio.sleep(10)
        return i

    @graph_fn
    async def agent(*, context):
        await parallel_map(long, range(6), max_concurrent=2)
        return {}

    handle = start(agent)
    await started.wait()
    handle.cancel()
    with pytest.raises(Exception):  # noqa: B017 - RunCancelled
        await handle.result()
    items = [n for n in handle.nodes.values() if n.group == "map_0"]
    assert items and all(n.state is NodeState.CANCELLED for n in items)
    assert not isinstance(handle.error, RunFailed)
