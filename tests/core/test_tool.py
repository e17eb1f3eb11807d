"""@tool: output normalisation, argument errors, and the three call contexts."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from graphdeck import ToolOutputError, graph_fn, graphify, run, run_async, tool


@tool(outputs=["out"])
async def double(x: int) -> dict:
    return {"out": x * 2}


@tool(outputs=["out"])
async def bare(x: int) -> int:
    return x + 1  # one declared output: a bare value is wrapped


@tool(outputs=["a", "b"])
async def two_outputs(x: int) -> object:
    return x


@tool(outputs=["a", "b"])
async def missing_key(x: int) -> dict:
    return {"a": x}


@tool
async def undeclared(x: int) -> int:
    return x


async def test_called_anywhere_else_it_simply_runs() -> None:
    assert await double(x=3) == {"out": 6}
    assert await double(4) == {"out": 8}


async def test_single_output_bare_value_is_wrapped() -> None:
    assert await bare(x=1) == {"out": 2}


async def test_no_declared_outputs_wraps_non_mapping_as_result() -> None:
    assert await undeclared(x=5) == {"result": 5}


async def test_non_dict_with_several_outputs_names_tool_and_outputs() -> None:
    with pytest.raises(ToolOutputError, match=r"two_outputs.*\['a', 'b'\]"):
        await two_outputs(x=1)


async def test_missing_keys_are_named() -> None:
    with pytest.raises(ToolOutputError, match=r"missing_key.*\['b'\]"):
        await missing_key(x=1)


def test_bad_arguments_name_the_tool() -> None:
    with pytest.raises(TypeError, match=r"double.*unexpected.*\['y'\]"):
        double(y=1)
    with pytest.raises(TypeError, match=r"double.*missing.*\['x'\]"):
        double()
    with pytest.raises(TypeError, match="positional"):
        double(1, 2)


def test_plain_tool_without_loop_returns_dict_directly() -> None:
    @tool(outputs=["n"])
    def count(items: list) -> int:
        return len(items)

    assert count(items=[1, 2, 3]) == {"n": 3}


async def test_plain_tool_runs_in_a_worker_thread_without_blocking_the_loop() -> None:
    main_thread = threading.get_ident()

    @tool(outputs=["thread"])
    def blocking() -> int:
        time.sleep(0.3)
        return threading.get_ident()

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    try:
        result = await blocking()
    finally:
        ticking.cancel()
        await asyncio.gather(ticking, return_exceptions=True)
    assert result["thread"] != main_thread
    assert ticks >= 10, "the loop stalled while a plain tool was blocking"


def test_timeout_and_retries_are_validated() -> None:
    with pytest.raises(ValueError, match="timeout"):
        tool(timeout=0)(lambda: 1)
    with pytest.raises(ValueError, match="retries"):
        tool(retries=-1)(lambda: 1)


async def test_tool_called_inside_a_tool_body_runs_inline_not_as_a_node() -> None:
    @tool(outputs=["out"])
    async def outer(x: int) -> dict:
        inner = await double(x=x)
        return {"out": inner["out"] + 1}

    @graphify(outputs=["out"])
    def g(x=5):
        return {"out": outer(x=x).out}

    from graphdeck import start

    handle = start(g, max_concurrency=1)  # a new node would deadlock on the single slot
    assert await handle.result() == {"out": 11}
    assert [n.tool.name for n in handle.nodes.values()] == ["outer"]


async def test_tool_awaited_in_graph_fn_becomes_a_node_of_its_run() -> None:
    from graphdeck import start

    @graph_fn
    async def agent(*, context):
        return await double(x=21)

    handle = start(agent)
    assert await handle.result() == {"out": 42}
    assert [n.id for n in handle.nodes.values()] == ["double_0"]


def test_sync_run_of_graph_with_plain_tools() -> None:
    @tool(outputs=["v"])
    def inc(x: int) -> int:
        return x + 1

    @graphify(outputs=["v"])
    def chain(x=0):
        return {"v": inc(x=inc(x=inc(x=x).v).v).v}

    assert run(chain) == {"v": 3}
    assert asyncio.run(run_async(chain, {"x": 10})) == {"v": 13}
