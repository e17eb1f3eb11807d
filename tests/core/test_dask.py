"""The Dask executor: tool bodies on workers; scheduling, caps, events and cancellation
stay in graphdeck. Most tests use an in-process cluster (fast); one uses two worker
processes to prove pickling of a graph file's functions and survival of a dying worker."""

from __future__ import annotations

import asyncio
import os
import textwrap
import threading
import time

import pytest

from graphdeck import NodeState, RunFailed, graphify, run_async, start, tool
from graphdeck.events import NodePlaced
from graphdeck.executors import DaskExecutor, ExecutorError
from graphdeck.loader import load_graph_file

busy = {"now": 0, "peak": 0}
guard = threading.Lock()


@tool(outputs=["v"])
def square(x: int) -> int:
    with guard:
        busy["now"] += 1
        busy["peak"] = max(busy["peak"], busy["now"])
    time.sleep(0.05)
    with guard:
        busy["now"] -= 1
    return x * x


@tool(outputs=["v"])
async def async_double(x: int) -> int:
    await asyncio.sleep(0.01)
    return x * 2


@tool(outputs=["v"], executor="local")
def local_only(x: int) -> int:
    return x + 1


@tool(outputs=["v"])
def total(xs: list) -> int:
    return sum(xs)


@graphify(outputs=["v"])
def mixed(n=6):
    squares = [square(x=i) for i in range(n)]
    doubled = async_double(x=total(xs=[s.v for s in squares]).v)
    return {"v": local_only(x=doubled.v).v}


def in_process_executor() -> DaskExecutor:
    return DaskExecutor(processes=False, n_workers=2, threads_per_worker=2)


async def test_tools_run_on_workers_and_the_cap_still_applies() -> None:
    executor = in_process_executor()
    try:
        busy.update(now=0, peak=0)
        handle = start(mixed, max_concurrency=2, executor=executor)
        assert await handle.result() == {"v": 2 * sum(i * i for i in range(6)) + 1}
        nodes = handle.nodes
        assert nodes["square_0"].where and nodes["async_double_0"].where
        assert nodes["local_only_0"].where is None  # @tool(executor="local")
        assert busy["peak"] <= 2 and handle.occupancy.peak == 2
        placed = [e for e in handle.events_since(0) if isinstance(e, NodePlaced)]
        assert {e.node_id for e in placed} == {f"square_{i}" for i in range(6)} | {
            "total_0",
            "async_double_0",
        }
    finally:
        await executor.close()


async def test_unpicklable_argument_and_result_name_the_type() -> None:
    @tool(outputs=["v"])
    def takes(lock) -> int:
        return 1

    @tool(outputs=["v"])
    def gives() -> object:
        return threading.Lock()

    @graphify(outputs=["a", "b"])
    def g():
        return {"a": takes(lock=threading.Lock()).v, "b": gives().v}

    executor = in_process_executor()
    try:
        handle = start(g, on_error="continue", executor=executor)
        with pytest.raises(RunFailed):
            await handle.result()
        arg_error = str(handle.nodes["takes_0"].error)
        assert "argument 'lock'" in arg_error and "lock" in arg_error.lower()
        assert "cannot be pickled" in arg_error
        result_error = str(handle.nodes["gives_0"].error)
        assert "result (lock)" in result_error and "cannot be pickled" in result_error
    finally:
        await executor.close()


async def test_cancelling_a_remote_node_cancels_its_dask_task() -> None:
    @tool(outputs=["v"])
    async def slow() -> int:
        # Python cannot interrupt the worker's thread: keep the body short enough for the
        # in-process cluster to close, long enough to prove the cancel did not wait for it.
        await asyncio.sleep(1.5)
        return 1

    @graphify(outputs=["v"])
    def g():
        return {"v": slow().v}

    executor = in_process_executor()
    try:
        handle = start(g, executor=executor)
        scheduler = None
        while scheduler is None or not scheduler.tasks:
            await asyncio.sleep(0.01)
            scheduler = executor._cluster.scheduler if executor._cluster else None
        began = time.monotonic()
        handle.cancel_node("slow_0")
        with pytest.raises(Exception):  # noqa: B017 - RunCancelled
            await handle.result()
        assert time.monotonic() - began < 1.0
        assert handle.nodes["slow_0"].state is NodeState.CANCELLED
        deadline = time.monotonic() + 5
        while scheduler.tasks and time.monotonic() < deadline:  # noqa: ASYNC110 - polling Dask's state
            await asyncio.sleep(0.02)
        assert not scheduler.tasks  # the remote task was released
    finally:
        await executor.close()


async def test_tool_timeout_applies_to_remote_nodes() -> None:
    @tool(outputs=["v"], timeout=0.2)
    async def hangs() -> int:
        await asyncio.sleep(1.5)  # short enough for the in-process cluster to close
        return 1

    @graphify(outputs=["v"])
    def g():
        return {"v": hangs().v}

    executor = in_process_executor()
    try:
        handle = start(g, executor=executor)
        with pytest.raises(RunFailed):
            await handle.result()
        node = handle.nodes["hangs_0"]
        assert node.state is NodeState.TIMED_OUT
        assert node.finished_at - node.started_at < 0.5
    finally:
        await executor.close()


async def test_unreachable_scheduler_fails_the_run_clearly() -> None:
    executor = DaskExecutor("tcp://127.0.0.1:9", connect_timeout=1)
    with pytest.raises(RunFailed) as info:
        await run_async(mixed, executor=executor)
    error = info.value.errors["mixed"]
    assert isinstance(error, ExecutorError) and "127.0.0.1:9" in str(error)


def test_bad_executor_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown executor"):
        asyncio.run(run_async(mixed, executor="spark"))
    with pytest.raises(ValueError, match="executor may only be 'local'"):
        tool(executor="dask")(lambda: 1)


@pytest.mark.slow
async def test_worker_processes_pickle_graph_files_and_survive_a_dying_worker(tmp_path) -> None:
    marker = tmp_path / "killed-once"
    path = tmp_path / "remote_graph.py"
    path.write_text(
        textwrap.dedent(
            f"""
            import os, pathlib, signal
            from graphdeck import graphify, tool

            @tool(outputs=["v"], retries=1)
            def fragile(x: int) -> dict:
                marker = pathlib.Path({str(marker)!r})
                if x == 3 and not marker.exists():
                    marker.touch()
                    os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-task
                return {{"v": (x, os.getpid())}}

            @graphify(name="remote", outputs=["values"])
            def remote(n=6):
                return {{"values": [fragile(x=i).v for i in range(n)]}}
            """
        )
    )
    graph = load_graph_file(path).pick()
    handle = start(graph, max_concurrency=2, executor="dask")
    outputs = await asyncio.wait_for(handle.result(), 60)
    assert [x for x, _ in outputs["values"]] == list(range(6))
    assert {pid for _, pid in outputs["values"]} - {os.getpid()}  # ran in other processes
    node = handle.nodes["fragile_3"]
    assert node.attempts == 2 and node.attempts[0].state is NodeState.FAILED
    assert marker.exists()
