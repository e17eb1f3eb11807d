"""Run.rerun: re-open a finished run; exactly the chosen nodes execute again."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import pytest

from graphdeck import NodeState, RunFailed, RunState, graph_fn, graphify, start, tool

executions: Counter[str] = Counter()
broken: set[int] = set()


@tool(outputs=["v"])
async def stage(name: str, x: int) -> dict:
    executions[name] += 1
    await asyncio.sleep(0)
    if x in broken:
        raise ValueError(f"{name} cannot take {x}")
    return {"v": x + 1}


@tool(outputs=["v"])
async def merge(xs: list) -> dict:
    executions["merge"] += 1
    return {"v": sum(xs)}


@graphify(outputs=["v"])
def pipeline(start_at=0):
    """a -> b -> c ; a -> d ; merge(c, d)"""
    a = stage(name="a", x=start_at)
    b = stage(name="b", x=a.v)
    c = stage(name="c", x=b.v)
    d = stage(name="d", x=a.v)
    return {"v": merge(xs=[c.v, d.v]).v}


@pytest.fixture(autouse=True)
def _clean():
    executions.clear()
    broken.clear()


async def _finished(**options):
    handle = start(pipeline, **options)
    with contextlib.suppress(RunFailed):
        await handle.result()
    executions.clear()
    return handle


async def test_rerun_node_reexecutes_only_that_node_with_recorded_inputs() -> None:
    handle = await _finished()
    handle.rerun(["stage_1"], mode="node")
    assert handle.state is RunState.RUNNING
    assert await handle.result() == {"v": 5}
    assert executions == Counter({"b": 1})
    node = handle.nodes["stage_1"]
    assert node.attempts == 2 and [a.state for a in node.attempts] == [NodeState.SUCCEEDED] * 2
    assert node.inputs == {"name": "b", "x": 1}


async def test_rerun_downstream_reexecutes_node_and_descendants_only() -> None:
    handle = await _finished()
    handle.rerun("stage_1", mode="downstream")
    assert await handle.result() == {"v": 5}
    assert executions == Counter({"b": 1, "c": 1, "merge": 1})  # a and d reused


async def test_rerun_failed_picks_up_fixed_code_and_completes() -> None:
    broken.add(2)  # c fails (its input is 2)
    handle = await _finished(on_error="continue")
    assert handle.state is RunState.FAILED
    assert handle.nodes["stage_2"].state is NodeState.FAILED
    assert handle.nodes["merge_0"].state is NodeState.SKIPPED
    broken.clear()  # "fix the tool"
    handle.rerun(mode="failed")
    assert await handle.result() == {"v": 5}
    assert executions == Counter({"c": 1, "merge": 1})
    assert handle.state is RunState.SUCCEEDED
    attempts = handle.nodes["stage_2"].attempts
    assert [a.state for a in attempts] == [NodeState.FAILED, NodeState.SUCCEEDED]


async def test_rerun_failed_after_stop_reruns_cancelled_and_skipped() -> None:
    broken.add(0)  # a fails: everything else skipped
    handle = await _finished()
    broken.clear()
    handle.rerun(mode="failed")
    assert await handle.result() == {"v": 5}
    assert executions == Counter({"a": 1, "b": 1, "c": 1, "d": 1, "merge": 1})


async def test_rerun_refuses_while_running_and_bad_arguments() -> None:
    handle = start(pipeline)
    with pytest.raises(RuntimeError, match="running"):
        handle.rerun(["stage_0"])
    await handle.result()
    with pytest.raises(ValueError, match="mode"):
        handle.rerun(["stage_0"], mode="everything")
    with pytest.raises(KeyError, match="nope"):
        handle.rerun(["nope"])
    with pytest.raises(ValueError, match="nothing to re-run"):
        handle.rerun(mode="failed")
    with pytest.raises(ValueError, match="needs the ids"):
        handle.rerun(mode="downstream")


async def test_rerun_of_map_child_reaggregates_without_recomputing_siblings() -> None:
    @tool(outputs=["items"])
    async def listing(n: int) -> dict:
        executions["listing"] += 1
        return {"items": list(range(n))}

    @graphify(outputs=["v"])
    def mapped(n=4):
        return {"v": merge(xs=stage.map(name="m", x=listing(n=n).items).v).v}

    broken.add(2)
    handle = start(mapped, on_error="continue")
    with pytest.raises(RunFailed):
        await handle.result()
    broken.clear()
    executions.clear()
    handle.rerun(mode="failed")
    assert await handle.result() == {"v": 10}
    assert executions == Counter({"m": 1, "merge": 1})


async def test_agent_rerun_node_only() -> None:
    @graph_fn
    async def agent(*, context):
        outs = await asyncio.gather(*(stage(name=f"s{i}", x=i) for i in range(3)))
        return {"n": len(outs)}

    handle = start(agent)
    assert await handle.result() == {"n": 3}
    executions.clear()
    handle.rerun(["stage_1"])
    assert await handle.result() == {"n": 3}
    assert executions == Counter({"s1": 1})
    with pytest.raises(ValueError, match="graph_fn"):
        handle.rerun(["stage_1"], mode="downstream")


async def test_rerun_plan_names_the_nodes_without_acting() -> None:
    handle = await _finished()
    assert handle.rerun_plan("stage_1", mode="downstream") == ["stage_1", "stage_2", "merge_0"]
    assert handle.state is RunState.SUCCEEDED and executions == Counter()


async def test_rerun_with_new_tool_code_and_edited_inputs() -> None:
    broken.add(2)
    handle = await _finished(on_error="continue")

    @tool(outputs=["v"], name="stage")
    async def fixed_stage(name: str, x: int) -> dict:
        executions[f"fixed-{name}"] += 1
        return {"v": x + 100}

    handle.rerun(mode="failed", tools={"stage": fixed_stage})
    assert await handle.result() == {"v": (2 + 100) + 2}  # c now adds 100; d reused
    assert executions == Counter({"fixed-c": 1, "merge": 1})
    executions.clear()
    handle.rerun("stage_3", mode="downstream", inputs={"stage_3": {"name": "d", "x": 40}})
    assert await handle.result() == {"v": 102 + 41}
    assert handle.nodes["stage_3"].inputs == {"name": "d", "x": 40}
    with pytest.raises(ValueError, match="not among"):
        handle.rerun("stage_3", inputs={"stage_0": {"x": 1}})
