"""The Dask executor: tool bodies on workers; scheduling, caps, events and cancellation
stay in graphdeck. Most tests use an in-process cluster (fast); the slow ones use worker
processes (the CLI's `--executor dask`) to prove pickling of a graph file's functions,
survival of a dying worker, and that the examples work there too.

Every test here runs with Dask's default dashboard port taken, as on a machine where
JupyterLab or another cluster is open."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import psutil
import pytest

from graphdeck import NodeState, RunFailed, graphify, run_async, start, tool
from graphdeck.events import NodePlaced
from graphdeck.executors import DaskExecutor, ExecutorError
from graphdeck.loader import load_graph_file

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures("dask_dashboard_port_taken")

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
    # A port this test holds without listening: nothing can answer there (a fixed "unused"
    # port may be in use on some machine).
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{reserved.getsockname()[1]}"
        executor = DaskExecutor(f"tcp://{address}", connect_timeout=1)
        with pytest.raises(RunFailed) as info:
            await run_async(mixed, executor=executor)
    error = info.value.errors["mixed"]
    assert isinstance(error, ExecutorError) and address in str(error)


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


def listening_addresses(process: psutil.Process) -> set[str]:
    return {
        conn.laddr.ip
        for conn in process.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    }


async def test_in_process_cluster_listens_on_loopback_only() -> None:
    executor = in_process_executor()
    try:
        await executor.start()
        addresses = listening_addresses(psutil.Process())
    finally:
        await executor.close()
    assert addresses and all(ipaddress.ip_address(a).is_loopback for a in addresses), addresses


def warn_from(module: str) -> None:
    warnings.warn_explicit(f"a warning from {module}", UserWarning, "x.py", 1, module=module)


def distributed_shows(level: int) -> bool:
    """Whether distributed's modules log records of this level (to its own stderr handlers,
    or to the application's)."""
    return all(
        logging.getLogger(name).isEnabledFor(level)
        for name in ("distributed.worker", "distributed.client", "distributed.scheduler")
    )


async def test_quiet_executors_hide_only_distributed_output_and_only_while_open() -> None:
    first, second = in_process_executor(), in_process_executor()
    await first.start()
    await second.start()
    try:
        warn_from("distributed.node")  # ignored: an error here otherwise
        with pytest.raises(UserWarning):
            warn_from("graphdeck.anything")  # other warnings are untouched
        assert not distributed_shows(logging.ERROR) and distributed_shows(logging.CRITICAL)
        await first.close()  # still quiet while the other one is open
        assert not distributed_shows(logging.WARNING)
        warn_from("distributed.client")
    finally:
        await first.close()
        await second.close()
    assert distributed_shows(logging.WARNING)
    with pytest.raises(UserWarning):
        warn_from("distributed.node")


async def test_a_verbose_executor_leaves_distributed_output_alone() -> None:
    executor = DaskExecutor(processes=False, n_workers=1, quiet=False)
    try:
        await executor.start()
        assert distributed_shows(logging.WARNING)
        with pytest.raises(UserWarning):
            warn_from("distributed.node")
    finally:
        await executor.close()


def graphdeck_cli(*args: str, block_dask: bool = False) -> subprocess.CompletedProcess:
    """`graphdeck ARGS` in a child process; `block_dask` makes it behave as if the dask
    extra were not installed (importing dask or distributed fails)."""
    blocker = "import sys; sys.modules['dask'] = sys.modules['distributed'] = None; " * block_dask
    code = f"{blocker}from graphdeck.cli import main; raise SystemExit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=90,
    )


@pytest.mark.slow
def test_etl_demo_runs_on_a_local_cluster_quietly() -> None:
    result = graphdeck_cli(
        "run",
        "examples/etl_demo.py",
        "--executor",
        "dask",
        # Rows events:2 and events:3 are the ones the example's old fail-once trick (a
        # module-level set, fresh on every Dask call) failed on every attempt.
        "--inputs",
        '{"sources": ["orders", "events"], "rows": 6}',
        "--max-concurrency",
        "8",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["outputs"] == {"report": "12 rows loaded from 2 sources"}
    # Neither distributed's log lines nor its warnings reach the user's terminal.
    assert result.stderr == ""


@pytest.mark.slow
def test_verbose_shows_distributed_logs() -> None:
    result = graphdeck_cli(
        "run", "examples/map_reduce.py", "--executor", "dask", "-v", "--no-history"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "sum: 56\n"
    assert "distributed.scheduler - INFO" in result.stderr


@pytest.mark.parametrize("spec", ["dask", "dask://127.0.0.1:9"])
def test_dask_executor_without_the_extra_is_a_usage_error(spec) -> None:
    result = graphdeck_cli("run", "examples/map_reduce.py", "--executor", spec, block_dask=True)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert spec in lines[0] and 'pip install "graphdeck[dask]"' in lines[0]
