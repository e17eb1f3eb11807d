"""Helpers for driving the main window in tests, and for telling what a test left
running."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytestqt.exceptions
from PySide6.QtWidgets import QMessageBox

from graphdeck import RunState
from graphdeck.store import StoredRunView

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: the session loop's default executor (`asyncio.to_thread`): its threads live on idle
#: until the session ends, so a test that first used one did not leak it
SESSION_POOL_PREFIX = "gui-tests"
#: threads that outlive a test by design, by name prefix
LONG_LIVED_THREADS = (
    SESSION_POOL_PREFIX,
    "graphdeck-tool-",  # graphdeck's pool for `def` tools: daemons, gone after 30 s idle
    "Dask-Offload",  # distributed's process-wide offload pool, made on first use
    "graphdeck-watchdog",  # one per event loop, parked between runs, ends with its loop
)
#: how long work a test started may take to end by itself once the test is over (a load
#: or build thread finishing, a history query landing, a writer closing)
GRACE_S = 5.0


def unfinished_tasks(loop: asyncio.AbstractEventLoop, qtbot, grace_s: float = GRACE_S) -> list:
    """The tasks of `loop` still pending after `grace_s` of running the loop; they are
    cancelled (so later tests start clean) and returned (so this test fails)."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    with contextlib.suppress(pytestqt.exceptions.TimeoutError):
        qtbot.waitUntil(lambda: all(task.done() for task in pending), timeout=grace_s * 1000)
    leftover = [task for task in pending if not task.done()]
    for task in leftover:
        task.cancel()
    if leftover:
        qtbot.waitUntil(lambda: all(task.done() for task in leftover), timeout=5000)
    return leftover


def leaked_threads(before: set[threading.Thread], grace_s: float = GRACE_S) -> list:
    """Threads started since `before` that are still alive after `grace_s`, except the
    long-lived pools in `LONG_LIVED_THREADS`."""
    deadline = time.monotonic() + grace_s
    started = [
        thread
        for thread in threading.enumerate()
        if thread not in before
        and not thread.name.startswith(LONG_LIVED_THREADS)
        # Not started by Python (a Qt or C thread that called into it): never joinable,
        # and listed by `threading` for as long as the process lives.
        and not isinstance(thread, threading._DummyThread)
    ]
    for thread in started:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thread for thread in started if thread.is_alive()]


def load(qtbot, win, path, graph: str | None = None) -> None:
    """Open `path` in `win` and wait for it and its graph's preview."""
    win.open_file(path)
    qtbot.waitUntil(lambda: not win.document.busy, timeout=10000)
    if graph is not None:
        win.controls.select_graph(graph)
    qtbot.waitUntil(lambda: not win.preview.busy, timeout=10000)


def load_source(qtbot, win, path, source: str, **inputs: str) -> None:
    """Write `source` (dedented) to `path`, open it, fill in `inputs` and wait until the
    graph is built for them."""
    path.write_text(textwrap.dedent(source))
    load(qtbot, win, path)
    for name, text in inputs.items():
        win.controls.inputs_form.fields[name].setText(text)
    qtbot.waitUntil(lambda: win.preview.ready, timeout=10000)


def set_inputs(win, **texts: str) -> None:
    for name, text in texts.items():
        win.controls.inputs_form.fields[name].setText(text)


def run_rows(win) -> list[str]:
    """The runs list as shown."""
    return win.controls.runs_list.texts()


def run_and_wait(qtbot, win, timeout: int = 20000):
    qtbot.waitUntil(win.run_action.isEnabled, timeout=timeout)  # as a user clicks it
    handle = win.start_run()
    assert handle is not None, win.controls.error_label.text()
    qtbot.waitUntil(lambda: handle.done and win.current.finished, timeout=timeout)
    qtbot.waitUntil(lambda: win.current.index >= handle.event_count, timeout=timeout)
    return handle


PIPELINE = """
from graphdeck import graphify, tool

calls = []

@tool(outputs=["v"])
async def step(name: str, x: int):
    calls.append(name)
    if x == {broken}:
        raise ValueError(f"step {{name}} cannot take {{x}}")
    return {{"v": x + {add}}}

@tool(outputs=["v"])
async def merge(xs: list):
    calls.append("merge")
    return {{"v": sum(xs)}}

@graphify(name="pipeline", outputs=["v"])
def pipeline(start=0):
    a = step(name="a", x=start)
    b = step(name="b", x=a.v)
    c = step(name="c", x=b.v)
    d = step(name="d", x=a.v)
    return {{"v": merge(xs=[c.v, d.v]).v}}
"""


def write_pipeline(path, broken: int = -1, add: int = 1) -> None:
    """a -> b -> c, a -> d, merge(c, d); the step given x == `broken` raises. Tools log
    their calls in the module's `calls` list."""
    path.write_text(textwrap.dedent(PIPELINE.format(broken=broken, add=add)))


def finished_run(qtbot, target, inputs: dict | None = None, **options):
    """Start `target` on the GUI test loop (see `gui_loop`) and wait until it has ended."""
    from graphdeck import start

    handle = start(target, inputs, **options)
    qtbot.waitUntil(lambda: handle.done, timeout=10000)
    return handle


# -- the run history ---------------------------------------------------------------


def showing_stored(win) -> bool:
    return win.current is not None and isinstance(win.current.run, StoredRunView)


def listed(win) -> list[tuple[str, str]]:
    return [(r.graph, r.state) for r in win.history.model.runs]


def run_pipeline(qtbot, win, tmp_path: Path):
    """Load a fresh pipeline file into `win` and run it to the end (it succeeds)."""
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, win, path)
    return run_and_wait(qtbot, win)


def finish_first_run(qtbot, win, path) -> str:
    load(qtbot, win, path)
    win.controls.policy_combo.setCurrentText("continue")
    handle = run_and_wait(qtbot, win)
    assert handle.state is RunState.FAILED
    assert win.session.recorder.flush()
    win.history.refresh()
    qtbot.waitUntil(lambda: listed(win) == [("pipeline", "failed")], timeout=5000)
    return handle.id


def ask_from_history(qtbot, win, run_id: str, action) -> QMessageBox:
    """Open a stored run, trigger `action` on it, and return the question it asks."""
    win.open_stored_run(run_id)
    qtbot.waitUntil(lambda: showing_stored(win), timeout=5000)
    action.trigger()
    qtbot.waitUntil(lambda: win.findChild(QMessageBox, "confirm-rerun") is not None, timeout=5000)
    qtbot.waitUntil(lambda: not win.document.busy, timeout=5000)
    return win.findChild(QMessageBox, "confirm-rerun")


def confirm_and_wait(qtbot, win, box: QMessageBox) -> None:
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(
        lambda: not isinstance(win.current.run, StoredRunView) and win.current.run.done,
        timeout=10000,
    )


# -- the app as a process ------------------------------------------------------------


def app_process(home: Path, *args: object) -> subprocess.Popen:
    """`graphdeck ARGS…` as a user starts it (offscreen, settings under `home`)."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "graphdeck", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def stop_app(process: subprocess.Popen, until: Callable[[], bool], timeout: float = 30) -> str:
    """Wait until `until()` holds while the app keeps running, then Ctrl-C it; it must
    close cleanly (exit code 0). Returns what it wrote on stderr."""
    deadline = time.monotonic() + timeout
    while not until():
        if process.poll() is not None:
            raise AssertionError(f"the app ended ({process.returncode}): {process.stderr.read()}")
        assert time.monotonic() < deadline, "timed out waiting for the app"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    return stderr
