"""@graph_fn agents: results, caps on tool calls only, channels, nesting, pools."""

from __future__ import annotations

import asyncio

import pytest

from graphdeck import (
    NodeCancelled,
    NodeState,
    RunFailed,
    RunState,
    graph_fn,
    run,
    run_async,
    start,
    tool,
)
from graphdeck.events import ChannelMessage, ChildRunStarted
from graphdeck.limits import Pool

in_flight = 0
most = 0


@tool(outputs=["y"])
async def track(x: int, delay: float = 0.02) -> dict:
    global in_flight, most
    in_flight += 1
    most = max(most, in_flight)
    try:
        await asyncio.sleep(delay)
    finally:
        in_flight -= 1
    return {"y": x * 10}


def waiting_tool():
    """A tool `long` that sets the returned event once it runs, then waits a minute."""
    started = asyncio.Event()

    @tool(outputs=["y"])
    async def long() -> dict:
        started.set()
        await asyncio.sleep(60)
        return {"y": 1}

    return started, long


@pytest.fixture(autouse=True)
def _reset_counters():
    global in_flight, most
    in_flight = most = 0


@graph_fn(name="fan")
async def fan(n: int, *, context):
    results = await asyncio.gather(*(track(x=i) for i in range(n)))
    return {"ys": [r["y"] for r in results]}


@graph_fn(name="fan8", max_concurrency=8)
async def fan8(n: int = 24, *, context):
    results = await asyncio.gather(*(track(x=i) for i in range(n)))
    return {"ys": [r["y"] for r in results]}


async def test_await_returns_result_dict_and_caps_tool_calls_at_default_4() -> None:
    assert await fan(n=12) == {"ys": [i * 10 for i in range(12)]}
    assert most == 4


async def test_max_concurrency_at_decoration_and_overridden_per_call() -> None:
    await fan8()
    assert most == 8
    globals()["most"] = 0
    await fan8(n=24, max_concurrency=2)
    assert most == 2
    globals()["most"] = 0
    await run_async(fan, {"n": 20}, max_concurrency=7)
    assert most == 7


async def test_plain_awaits_are_not_capped() -> None:
    running = 0
    peak = 0

    async def plain() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1

    @graph_fn
    async def agent(*, context):
        await asyncio.gather(*(plain() for _ in range(10)))
        return {}

    await agent(max_concurrency=2)
    assert peak == 10


async def test_tool_calls_are_nodes_with_records_and_occupancy() -> None:
    handle = start(fan, {"n": 6}, max_concurrency=3)
    await handle.result()
    assert [n.id for n in handle.nodes.values()] == [f"track_{i}" for i in range(6)]
    assert all(n.state is NodeState.SUCCEEDED for n in handle.nodes.values())
    assert handle.nodes["track_2"].inputs == {"x": 2}
    assert handle.nodes["track_2"].outputs == {"y": 20}
    assert handle.occupancy == (0, 3, 3)


async def test_channel_send_text_emits_events() -> None:
    @graph_fn
    async def talker(*, context):
        await context.channel().send_text("hello")
        await context.channel("debug").send_text("details")
        return {"ok": True}

    handle = start(talker)
    await handle.result()
    messages = [e for e in handle.events_since(0) if isinstance(e, ChannelMessage)]
    assert [(m.channel, m.text) for m in messages] == [("default", "hello"), ("debug", "details")]


async def test_failed_tool_raises_in_body_and_agent_may_catch_it() -> None:
    @tool(outputs=["y"])
    async def bad() -> dict:
        raise ValueError("nope")

    @graph_fn
    async def careful(*, context):
        try:
            await bad()
        except ValueError as exc:
            return {"caught": str(exc)}
        return {}

    @graph_fn
    async def careless(*, context):
        await bad()
        return {}

    assert await careful() == {"caught": "nope"}
    handle = start(careless)
    with pytest.raises(RunFailed) as info:
        await handle.result()
    assert "bad_0" in info.value.errors and "careless" in info.value.errors
    assert handle.state is RunState.FAILED


async def test_cancelled_node_raises_node_cancelled_in_the_agent() -> None:
    started, long = waiting_tool()

    @graph_fn
    async def agent(*, context):
        try:
            await long()
        except NodeCancelled as exc:
            return {"cancelled": exc.node_id}
        return {}

    handle = start(agent)
    await started.wait()
    handle.cancel_node("long_0")
    assert await handle.result() == {"cancelled": "long_0"}
    assert handle.nodes["long_0"].state is NodeState.CANCELLED


async def test_nested_graph_fn_is_a_child_run_and_cancel_propagates_down() -> None:
    started, long = waiting_tool()

    @graph_fn(name="child")
    async def child(*, context):
        return await long()

    @graph_fn(name="parent")
    async def parent(*, context):
        return await child()

    handle = start(parent)
    await started.wait()
    assert len(handle.children) == 1
    kid = handle.children[0]
    assert kid.parent is handle and kid.name == "child"
    assert any(isinstance(e, ChildRunStarted) for e in handle.events_since(0))
    handle.cancel()
    with pytest.raises(Exception):  # noqa: B017 - RunCancelled of the parent
        await handle.result()
    assert handle.state is RunState.CANCELLED
    assert kid.state is RunState.CANCELLED
    assert kid.nodes["long_0"].state is NodeState.CANCELLED


async def test_pool_caps_nested_agents_together() -> None:
    pool = Pool("test-shared", 3)

    @graph_fn
    async def inner(k: int, *, context):
        results = await asyncio.gather(*(track(x=i) for i in range(6)))
        return {"n": len(results)}

    @graph_fn
    async def outer(*, context):
        results = await asyncio.gather(*(inner(k=k) for k in range(4)))
        return {"n": sum(r["n"] for r in results)}

    assert await run_async(outer, pool=pool) == {"n": 24}
    assert most == 3 and pool.peak == 3 and pool.active == 0


async def test_tool_level_pool() -> None:
    pool = Pool("test-tool", 2)

    @tool(outputs=["y"], pool=pool)
    async def limited(x: int) -> dict:
        return await track(x=x)  # inline inside a node: counted by the outer call only

    @graph_fn
    async def agent(*, context):
        await asyncio.gather(*(limited(x=i) for i in range(8)))
        return {}

    await run_async(agent, max_concurrency=8)
    assert most == 2 and pool.peak == 2 and pool.active == 0


def test_graph_fn_definition_errors() -> None:
    with pytest.raises(TypeError, match="async def"):
        graph_fn(lambda context: None)
    with pytest.raises(TypeError, match="context"):

        @graph_fn
        async def no_context(x):
            return {}


def test_missing_input_is_a_clear_error() -> None:
    with pytest.raises(Exception, match=r"missing input.*\['n'\]"):
        run(fan)


async def test_map_inside_agent_returns_results_in_order() -> None:
    @graph_fn
    async def mapper(*, context):
        outs = await track.map(x=[3, 1, 2])
        return {"ys": [o["y"] for o in outs]}

    handle = start(mapper)
    assert await handle.result() == {"ys": [30, 10, 20]}
    assert [n.group for n in handle.nodes.values()] == ["track.map_0"] * 3
