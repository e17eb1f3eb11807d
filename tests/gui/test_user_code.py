"""User code cannot take the monitor down: a module that exits while imported, a tool
that calls `sys.exit`, raises KeyboardInterrupt or stops the event loop, an agent that
stops the loop. Each becomes a load error or a failed node (or run) with a clear message;
the window and the other runs live on."""

from __future__ import annotations

import textwrap

from graphdeck import NodeState, RunState
from guisupport import load, run_and_wait

TOOLS = """
import asyncio, sys
from graphdeck import graph_fn, graphify, tool

@tool(outputs=["v"])
async def exits():
    sys.exit(4)

@tool(outputs=["v"])
def interrupts():
    raise KeyboardInterrupt

@tool(outputs=["v"])
async def stops_the_loop():
    asyncio.get_event_loop().stop()
    return {"v": "still here"}

@tool(outputs=["v"])
async def slow(x):
    await asyncio.sleep(0.3)
    return {"v": x}

@graphify(name="misbehaves", outputs=["a", "b", "c", "d"])
def misbehaves():
    return {"a": exits().v, "b": interrupts().v, "c": stops_the_loop().v, "d": slow(x=1).v}

@graph_fn(name="stopper")
async def stopper(*, context):
    asyncio.get_running_loop().stop()
    return {"v": 1}
"""


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_argparse_at_module_level_is_a_load_error(qtbot, window, tmp_path) -> None:
    path = _write(
        tmp_path,
        "cli_style.py",
        """
        import argparse
        from graphdeck import graph_fn

        parser = argparse.ArgumentParser()
        parser.add_argument("--required-option", required=True)
        args = parser.parse_args()

        @graph_fn(name="never")
        async def never(*, context):
            return {}
        """,
    )
    load(qtbot, window, path)
    message = window.controls.error_label.text()
    assert message.startswith(f"{path}:7: error while importing: SystemExit: 2"), message
    assert window.document.graphs == {} and window.isVisible()


def test_os_exit_while_imported_is_a_load_error(qtbot, window, tmp_path) -> None:
    # Were it imported in this process, the test run itself would end here with code 0.
    path = _write(
        tmp_path,
        "exits_hard.py",
        """
        import os
        os._exit(0)
        """,
    )
    load(qtbot, window, path)
    message = window.controls.error_label.text()
    assert message.startswith(f"{path}: the module ended the process while imported"), message
    assert "exit code 0" in message and window.document.graphs == {}


def test_exits_interrupts_and_loop_stops_in_tools_fail_their_nodes(qtbot, window, tmp_path) -> None:
    path = _write(tmp_path, "misbehaves.py", TOOLS)
    load(qtbot, window, path, graph="misbehaves")
    window.controls.policy_combo.setCurrentText("continue")
    other = window.start_run()  # another run, live meanwhile, must go on
    handle = run_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: other.done, timeout=10000)
    nodes = handle.nodes
    assert nodes["exits_0"].state is NodeState.FAILED
    assert "SystemExit" in repr(nodes["exits_0"].error) and nodes["exits_0"].error.code == 4
    assert nodes["interrupts_0"].state is NodeState.FAILED
    assert isinstance(nodes["interrupts_0"].error, KeyboardInterrupt)
    stopped = nodes["stops_the_loop_0"]
    assert stopped.state is NodeState.FAILED
    assert "loop.stop() refused" in str(stopped.error)
    assert nodes["slow_0"].state is NodeState.SUCCEEDED
    assert other.nodes["slow_0"].state is NodeState.SUCCEEDED
    assert window.isVisible() and qtbot_loop_running()
    window.details.inspector.show_node(stopped)
    assert "loop.stop() refused" in window.details.inspector.text.toPlainText()


def test_an_agent_that_stops_the_loop_fails_its_run(qtbot, window, tmp_path) -> None:
    path = _write(tmp_path, "misbehaves.py", TOOLS)
    load(qtbot, window, path, graph="stopper")
    handle = run_and_wait(qtbot, window)
    assert handle.state is RunState.FAILED
    assert "loop.stop() refused" in str(handle.error)
    assert qtbot_loop_running()


def qtbot_loop_running() -> bool:
    import asyncio

    return asyncio.get_event_loop().is_running()


def test_the_app_outlives_tools_that_exit_or_stop_its_loop(tmp_path) -> None:
    """The same, in the app as a user starts it: before, the loop stop closed it silently
    (the run left "running" in the history) and `sys.exit` in a tool could abort it."""
    from graphdeck.store import RunStore
    from guisupport import app_process, stop_app

    path = _write(tmp_path, "misbehaves.py", TOOLS)
    store = tmp_path / "history.sqlite3"
    process = app_process(tmp_path, path, "--graph", "misbehaves", "--run", "--store", store)

    def recorded_failed() -> bool:
        if not store.exists():
            return False
        runs = RunStore(store).runs()
        return bool(runs) and runs[0].state == "failed"

    try:
        stderr = stop_app(process, until=recorded_failed, timeout=60)
    finally:
        process.kill()
    assert "cancelling 0 run(s)" in stderr
    (run,) = RunStore(store).runs()
    assert "SystemExit" in run.error or "loop.stop() refused" in (run.error or "")
