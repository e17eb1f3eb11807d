"""User code that misbehaves (exits, swallows cancellation, blocks a thread forever) costs
its own node or run, never the runtime or the process."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import textwrap
import time
from pathlib import Path

import pytest

from graphdeck import (
    NodeState,
    RunFailed,
    RunState,
    RunTimedOut,
    graph_fn,
    graphify,
    run_async,
    start,
    tool,
)

S = NodeState


@tool(outputs=["v"])
async def exits(code: int) -> dict:
    sys.exit(code)


@tool(outputs=["v"])
def interrupts_in_thread(x: int) -> dict:
    raise KeyboardInterrupt


@tool(outputs=["v"])
async def fine(x: int) -> dict:
    await asyncio.sleep(0)
    return {"v": x}


@graphify(outputs=["a", "b", "c"])
def three_branches():
    return {"a": exits(code=4).v, "b": interrupts_in_thread(x=1).v, "c": fine(x=3).v}


async def test_sys_exit_and_keyboard_interrupt_fail_their_node_and_the_run_goes_on() -> None:
    handle = start(three_branches, on_error="continue")
    with pytest.raises(RunFailed) as caught:
        await handle.result()
    nodes = handle.nodes
    assert nodes["exits_0"].state is S.FAILED
    assert isinstance(nodes["exits_0"].error, SystemExit)
    assert nodes["exits_0"].error.code == 4
    assert nodes["interrupts_in_thread_0"].state is S.FAILED
    assert isinstance(nodes["interrupts_in_thread_0"].error, KeyboardInterrupt)
    assert nodes["fine_0"].state is S.SUCCEEDED
    assert caught.value.partial_outputs == {"c": 3}
    assert len(nodes["exits_0"].attempts) == 1


async def test_under_the_stop_policy_an_exit_stops_the_run_like_any_failure() -> None:
    handle = start(three_branches)
    with pytest.raises(RunFailed):
        await handle.result()
    assert handle.state is RunState.FAILED
    assert all(node.state.is_terminal for node in handle.nodes.values())


@graph_fn(name="exiting_agent")
async def exiting_agent(*, context):
    await fine(x=1)
    raise SystemExit(3)


async def test_an_agent_body_that_exits_fails_its_run() -> None:
    handle = start(exiting_agent)
    with pytest.raises(RunFailed) as caught:
        await handle.result()
    error = caught.value.errors["exiting_agent"]
    assert isinstance(error, SystemExit) and error.code == 3


@tool(outputs=["v"])
async def swallows(x: int) -> dict:
    with contextlib.suppress(asyncio.CancelledError):  # swallowed: returns as if nothing happened
        await asyncio.sleep(30)
    return {"v": x}


@tool(outputs=["v"])
async def started(x: int) -> dict:
    return {"v": x}


@graphify(outputs=["v"])
def one_swallower():
    return {"v": swallows(x=started(x=1).v).v}


async def _running(handle, node_id: str) -> None:
    async for _ in handle.events():
        if handle.nodes[node_id].state is S.RUNNING:
            return


async def test_a_body_that_swallows_the_runs_cancel_and_returns_ends_cancelled() -> None:
    handle = start(one_swallower)
    await _running(handle, "swallows_0")
    handle.cancel()
    await handle.wait()
    assert handle.state is RunState.CANCELLED
    assert handle.nodes["swallows_0"].state is S.CANCELLED  # the cancel wins


async def test_the_same_body_under_cancel_node_ends_cancelled_too() -> None:
    handle = start(one_swallower)
    await _running(handle, "swallows_0")
    handle.cancel_node("swallows_0")
    await handle.wait()
    assert handle.nodes["swallows_0"].state is S.CANCELLED


async def test_the_same_body_under_the_runs_timeout_ends_cancelled_and_the_run_timed_out() -> None:
    with pytest.raises(RunTimedOut):
        await run_async(one_swallower, timeout=0.2)


def _graph_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "graph.py"
    path.write_text(textwrap.dedent(body))
    return path


def _graphdeck(*args: str, timeout: float = 60) -> tuple[int, str, str, float]:
    import subprocess

    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "graphdeck", *args], capture_output=True, text=True, timeout=timeout
    )
    return result.returncode, result.stdout, result.stderr, time.monotonic() - began


def test_a_run_timeout_with_a_swallowing_tool_waits_one_grace_period_and_says_why(
    tmp_path: Path,
) -> None:
    path = _graph_file(
        tmp_path,
        """
        import asyncio
        from graphdeck import graphify, tool

        @tool(outputs=["out"])
        async def stubborn(x: int):
            while True:
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    pass

        @graphify(name="g", inputs=[], outputs=["out"])
        def g():
            return {"out": stubborn(x=1).out}
        """,
    )
    code, _, err, seconds = _graphdeck("run", str(path), "--timeout", "0.3", "--no-history")
    assert code == 1
    assert "destroyed but it is pending" not in err
    assert "warning: node 'stubborn_0' (tool 'stubborn') ignored cancellation" in err
    # timeout + one grace period (2 s); closing the loop used to wait a second grace period
    assert seconds < 0.3 + 2.0 + 1.5, err


def test_a_plain_tool_stuck_in_its_thread_does_not_keep_the_process_alive(
    tmp_path: Path,
) -> None:
    path = _graph_file(
        tmp_path,
        """
        import time
        from graphdeck import graphify, tool

        @tool(outputs=["out"], timeout=0.2)
        def stuck(x: int):
            time.sleep(300)
            return x

        @graphify(name="g", inputs=[], outputs=["out"])
        def g():
            return {"out": stuck(x=1).out}
        """,
    )
    code, _, err, _ = _graphdeck("run", str(path), "--no-history", timeout=60)
    assert code == 1
    assert "stuck_0: TimeoutError: tool 'stuck' ran past its timeout of 0.2s" in err


def test_a_tool_that_exits_fails_its_node_and_the_cli_reports_it(tmp_path: Path) -> None:
    path = _graph_file(
        tmp_path,
        """
        import sys
        from graphdeck import graphify, tool

        @tool(outputs=["out"])
        async def rude(x: int):
            sys.exit(4)

        @tool(outputs=["out"])
        async def polite(x: int):
            return x

        @graphify(name="g", inputs=[], outputs=["a", "b"])
        def g():
            return {"a": rude(x=1).out, "b": polite(x=2).out}
        """,
    )
    code, out, err, _ = _graphdeck("run", str(path), "--on-error", "continue", "--no-history")
    assert code == 1, err
    assert "b: 2" in out
    assert "rude_0: SystemExit: 4" in err
    assert "Traceback" not in err


def test_a_run_whose_tool_exits_is_recorded_as_failed_not_running(tmp_path: Path) -> None:
    from graphdeck.store import RunStore

    path = _graph_file(
        tmp_path,
        """
        import sys
        from graphdeck import graphify, tool

        @tool(outputs=["out"])
        async def rude(x: int):
            sys.exit(4)

        @graphify(name="g", inputs=[], outputs=["out"])
        def g():
            return {"out": rude(x=1).out}
        """,
    )
    db = tmp_path / "history.sqlite3"
    code, _, err, _ = _graphdeck("run", str(path), "--store", str(db))
    assert code == 1, err
    [summary] = RunStore(db).runs()
    assert summary.state == "failed"
    [node] = RunStore(db).load(summary.id).nodes
    assert node.state == "failed" and node.error == "SystemExit: 4"
