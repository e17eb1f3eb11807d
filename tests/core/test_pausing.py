"""Pause, breakpoints, step and edited inputs, for static runs and agents."""

from __future__ import annotations

import asyncio

import pytest

from asyncsupport import until
from graphdeck import NodeState, RunCancelled, RunState, graph_fn, graphify, start, tool
from graphdeck.events import NodeInputsEdited, NodeStateChanged, RunPaused, RunResumed

S = NodeState


@tool(outputs=["out"])
async def work(x: int, delay: float = 0.02) -> dict:
    await asyncio.sleep(delay)
    return {"out": x * 2}


@graphify(outputs=["out"])
def chain():
    first = work(x=1)
    second = work(x=first.out)
    return {"out": work(x=second.out).out}


@graphify(outputs=["outs"])
def wide(n=8):
    return {"outs": [work(x=i, delay=0.05).out for i in range(n)]}


def started_after(handle, event_type) -> list[str]:
    """Nodes that started after the last event of `event_type`."""
    events = handle.events_since(0)
    last = max(i for i, e in enumerate(events) if isinstance(e, event_type))
    return [
        e.node_id for e in events[last:] if isinstance(e, NodeStateChanged) and e.state is S.RUNNING
    ]


async def test_pause_lets_running_nodes_finish_and_starts_no_new_one() -> None:
    handle = start(wide, max_concurrency=3)
    await until(handle, lambda: handle.occupancy.active == 3)
    handle.pause()
    running_at_pause = handle.occupancy.active
    assert handle.paused and handle.state is RunState.RUNNING
    await until(handle, lambda: handle.occupancy.active == 0)
    assert started_after(handle, RunPaused) == []
    assert sum(n.state is S.SUCCEEDED for n in handle.nodes.values()) == running_at_pause
    peak_after_pause = handle.occupancy.active
    assert peak_after_pause <= running_at_pause
    handle.resume()
    assert not handle.paused
    assert (await handle.result())["outs"] == [2 * i for i in range(8)]


async def test_a_breakpoint_on_a_tool_holds_each_of_its_nodes_with_inputs_resolved() -> None:
    handle = start(chain, breakpoints=["work"])
    await until(handle, lambda: handle.held == ["work_0"])
    assert handle.paused and handle.nodes["work_0"].state is S.READY
    handle.resume()
    await until(handle, lambda: handle.held == ["work_1"])
    assert handle.nodes["work_1"].inputs == {"x": 2}  # resolved: the upstream ran
    handle.clear_breakpoint("work")
    handle.resume()
    assert await handle.result() == {"out": 8}


async def test_step_starts_exactly_one_node_then_pauses_again() -> None:
    handle = start(wide, {"n": 4}, max_concurrency=4, breakpoints=["work_0"])
    await until(handle, lambda: handle.held == ["work_0"])
    await until(handle, lambda: handle.occupancy.active == 0)
    handle.clear_breakpoint("work_0")
    handle.step()
    await until(handle, lambda: handle.paused)
    assert started_after(handle, RunResumed) == ["work_0"]
    handle.step()
    await until(handle, lambda: handle.paused and handle.nodes["work_1"].state is not S.READY)
    assert started_after(handle, RunResumed) == ["work_1"]
    handle.resume()
    await handle.result()


async def test_set_inputs_on_a_held_node_changes_the_outcome_and_is_recorded() -> None:
    handle = start(chain, breakpoints=["work_1"])
    await until(handle, lambda: handle.held == ["work_1"])
    handle.set_inputs("work_1", {"x": 100})
    node = handle.nodes["work_1"]
    assert node.inputs == {"x": 100, "delay": 0.02} or node.inputs == {"x": 100}
    assert node.inputs_edited
    handle.resume()
    assert await handle.result() == {"out": 400}
    [edited] = [e for e in handle.events_since(0) if isinstance(e, NodeInputsEdited)]
    assert edited.node_id == "work_1" and edited.inputs["x"] == 100


async def test_set_inputs_is_refused_for_a_node_that_is_not_held() -> None:
    handle = start(chain, breakpoints=["work_1"])
    await until(handle, lambda: handle.held == ["work_1"])
    with pytest.raises(ValueError, match="not held"):
        handle.set_inputs("work_2", {"x": 1})
    with pytest.raises(TypeError, match="unexpected argument"):
        handle.set_inputs("work_1", {"nope": 1})
    handle.cancel()
    await handle.wait()


async def test_a_paused_run_can_be_cancelled() -> None:
    handle = start(chain, breakpoints=["work_1"])
    await until(handle, lambda: handle.held == ["work_1"])
    handle.cancel()
    with pytest.raises(RunCancelled):
        await handle.result()
    assert handle.nodes["work_1"].state is S.CANCELLED and handle.held == []


@graph_fn(name="calls_three")
async def calls_three(*, context):
    outs = []
    for i in range(3):
        outs.append((await work(x=i))["out"])
    return {"outs": outs}


async def test_a_breakpoint_in_an_agent_holds_the_call_inside_its_await() -> None:
    handle = start(calls_three, breakpoints=["work_1"])
    await until(handle, lambda: handle.held == ["work_1"])
    assert handle.nodes["work_0"].state is S.SUCCEEDED and "work_2" not in handle.nodes
    handle.set_inputs("work_1", {"x": 50})
    handle.resume()
    assert await handle.result() == {"outs": [0, 100, 4]}


@graph_fn(name="child_agent")
async def child_agent(*, context):
    return {"out": (await work(x=5, delay=0.0))["out"]}


@graph_fn(name="parent_agent")
async def parent_agent(gate, *, context):
    await gate.wait()
    return await child_agent()


async def test_pausing_a_parent_holds_its_child_runs() -> None:
    gate = asyncio.Event()
    handle = start(parent_agent, {"gate": gate})
    handle.pause()
    gate.set()
    await until(handle, lambda: bool(handle.children))
    child = handle.children[0]
    assert child.paused
    for _ in range(20):
        await asyncio.sleep(0)
    assert all(
        n.state is not S.RUNNING and n.state is not S.SUCCEEDED for n in child.nodes.values()
    )
    handle.resume()
    assert await handle.result() == {"out": 10}
