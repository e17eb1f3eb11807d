"""The event stream is complete: every node record can be rebuilt from events alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from asyncsupport import until
from graphdeck import NodeState, RunFailed, graph_fn, graphify, start, tool
from graphdeck.events import (
    NodeAdded,
    NodeInputsEdited,
    NodeOutput,
    NodeStateChanged,
    RunFinished,
    RunStarted,
)


@dataclass
class Rebuilt:
    tool: str
    declared: dict[str, Any]
    inputs: dict[str, Any]
    state: NodeState = NodeState.PENDING
    outputs: Any = None
    error: Any = None
    attempts: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    history: list = field(default_factory=list)


def rebuild(events) -> dict[str, Rebuilt]:
    records: dict[str, Rebuilt] = {}
    for event in events:
        if isinstance(event, NodeAdded):
            records[event.node_id] = Rebuilt(event.tool, event.inputs, event.inputs)
        elif isinstance(event, NodeOutput):
            records[event.node_id].outputs = event.outputs
        elif isinstance(event, NodeInputsEdited):
            records[event.node_id].inputs = event.inputs
        elif isinstance(event, NodeStateChanged):
            rec = records[event.node_id]
            rec.state = event.state
            rec.error = event.error
            rec.attempts = event.attempt
            if event.inputs is not None:
                rec.inputs = event.inputs
            if event.state is NodeState.RUNNING:
                rec.started_at, rec.finished_at = event.time, None
            elif event.state.is_terminal:
                rec.finished_at = event.time
            elif event.state is NodeState.PENDING:  # re-opened: inputs resolve afresh
                rec.outputs = rec.started_at = rec.finished_at = None
                rec.inputs = rec.declared
    return records


def assert_matches_snapshot(run) -> None:
    rebuilt = rebuild(run.events_since(0))
    assert rebuilt.keys() == set(run.nodes)
    for node_id, node in run.nodes.items():
        rec = rebuilt[node_id]
        assert rec.tool == node.tool.name, node_id
        assert rec.state is node.state, node_id
        assert rec.inputs == node.inputs, node_id
        assert rec.outputs == node.outputs, node_id
        assert rec.error is node.error, node_id
        assert rec.attempts == node.attempt == len(node.attempts), node_id
        assert rec.started_at == node.started_at, node_id
        assert rec.finished_at == node.finished_at, node_id


@tool(outputs=["v"])
async def step(x: int, fail: bool = False) -> dict:
    await asyncio.sleep(0.001 * (x % 3))
    if fail:
        raise RuntimeError(f"step {x} failed")
    return {"v": x + 1}


@tool(outputs=["v"], retries=1)
async def flaky_once(x: int, state: dict) -> dict:
    state["calls"] = state.get("calls", 0) + 1
    if state["calls"] == 1:
        raise ConnectionError("first call fails")
    return {"v": x}


@tool(outputs=["items"])
async def listing(n: int) -> dict:
    return {"items": list(range(n))}


@graphify(outputs=["out", "mapped"])
def mixed(fail_at=-1):
    shared: dict = {}
    heads = [step(x=i, fail=i == fail_at) for i in range(6)]
    middle = [step(x=h.v) for h in heads]
    retried = flaky_once(x=middle[0].v, state=shared)
    mapped = step.map(x=listing(n=4).items)
    return {"out": step(x=retried.v).v, "mapped": mapped.v}


@pytest.mark.parametrize("policy", ["stop", "continue"])
@pytest.mark.parametrize("fail_at", [-1, 2])
async def test_records_rebuilt_from_events_equal_the_snapshot(policy, fail_at) -> None:
    handle = start(mixed, {"fail_at": fail_at}, on_error=policy)
    try:
        await handle.result()
    except RunFailed:
        assert fail_at >= 0
    assert_matches_snapshot(handle)
    events = handle.events_since(0)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)


async def test_agent_records_rebuilt_from_events() -> None:
    @graph_fn
    async def agent(*, context):
        outs = await asyncio.gather(*(step(x=i) for i in range(5)))
        mapped = await step.map(x=[1, 2])
        return {"n": len(outs) + len(mapped)}

    handle = start(agent)
    assert await handle.result() == {"n": 7}
    assert_matches_snapshot(handle)


async def test_cancelled_run_records_rebuilt_from_events() -> None:
    @tool(outputs=["v"])
    async def long(x: int) -> dict:
        await asyncio.sleep(10)
        return {"v": x}

    @graphify(outputs=["v", "w", "z"])
    def g():
        return {"v": step(x=long(x=1).v).v, "w": long(x=2).v, "z": long(x=3).v}

    handle = start(g, max_concurrency=2)
    await until(handle, lambda: handle.occupancy.active == 2)
    handle.cancel()
    with pytest.raises(Exception):  # noqa: B017
        await handle.result()
    assert_matches_snapshot(handle)


async def test_rerun_records_rebuilt_from_events() -> None:
    handle = start(mixed, {"fail_at": 2}, on_error="continue")
    with pytest.raises(RunFailed):
        await handle.result()
    handle.rerun(mode="failed")
    with pytest.raises(RunFailed):  # the tool still fails: same inputs
        await handle.result()
    assert_matches_snapshot(handle)


async def test_slow_consumer_never_blocks_the_scheduler() -> None:
    @graphify(outputs=["v"])
    def wide(n=300):
        return {"v": [step(x=i).v for i in range(n)]}

    handle = start(wide, max_concurrency=16)
    consumer = handle.events()
    first = await consumer.__anext__()  # then stop reading until the run ends
    await handle.result()
    rest = [e async for e in consumer]
    assert [first, *rest] == handle.events_since(0)


@tool(outputs=["v"])
async def quick(x: int) -> dict:
    return {"v": x}


@graphify(outputs=["v"])
def root_and_dependent():
    head = quick(x=1)
    return {"v": quick(x=head.v).v, "other": quick(x=2).v}


@pytest.mark.parametrize("target", ["quick_0", "quick_1"])
async def test_cancel_node_right_after_start_cancels_it_and_keeps_events_in_order(target) -> None:
    handle = start(root_and_dependent, on_error="continue")
    handle.cancel_node(target)  # no await in between: the run has not opened its nodes yet
    await handle.wait()
    assert handle.nodes[target].state is NodeState.CANCELLED
    assert handle.nodes["quick_2"].state is NodeState.SUCCEEDED  # another branch goes on
    announced: set[str] = set()
    for event in handle.events_since(0):
        if isinstance(event, NodeAdded):
            announced.add(event.node_id)
        elif isinstance(event, NodeStateChanged | NodeOutput):
            assert event.node_id in announced, f"{event} before its node was announced"
    assert_matches_snapshot(handle)


async def test_cancel_node_right_after_a_rerun_cancels_that_round() -> None:
    handle = start(root_and_dependent)
    await handle.wait()
    handle.rerun(["quick_0"], mode="downstream")
    handle.cancel_node("quick_0")
    await handle.wait()
    assert handle.nodes["quick_0"].state is NodeState.CANCELLED
    assert handle.nodes["quick_1"].state is NodeState.CANCELLED
    assert_matches_snapshot(handle)


async def test_records_with_inputs_edited_at_a_breakpoint_rebuilt_from_events() -> None:
    handle = start(root_and_dependent, breakpoints=["quick_1"])
    await until(handle, lambda: handle.held == ["quick_1"])
    handle.set_inputs("quick_1", {"x": 42})
    handle.resume()
    await handle.result()
    assert handle.nodes["quick_1"].outputs == {"v": 42}
    assert_matches_snapshot(handle)
