"""GUI test fixtures: one session-wide qasync loop driven by pytest-qt.

pytest-qt has no asyncio support (docs/design.md §6.3): the loop is created `already_running`,
coroutines are scheduled with ensure_future and awaited with `qtbot.waitUntil`. The loop is
marked running only during a GUI test, so the core tests keep their own fresh loops.
Cyclic garbage is collected on the GUI thread only during a GUI test, as in the app.

A GUI test fails when it leaves work behind: loop exceptions nobody handled, tasks still
pending and threads it started still alive once a short grace has passed (see
`guisupport.unfinished_tasks` and `guisupport.leaked_threads` for what counts). Windows
made with `make_window` are shut down the way the app closes them first.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from PySide6.QtCore import QSettings

from graphdeck.cli import main
from graphdeck.gui.event_loop import GraphdeckEventLoop
from graphdeck.gui.gui_thread_gc import collect_on_gui_thread
from graphdeck.gui.main_window import MainWindow
from graphdeck.store import RunStore
from guisupport import (
    EXAMPLES,
    SESSION_POOL_PREFIX,
    finish_first_run,
    leaked_threads,
    unfinished_tasks,
    write_pipeline,
)


@pytest.fixture(scope="session")
def qloop(qapp):
    loop = GraphdeckEventLoop(qapp, already_running=True)
    # qasync's default executor is made of QThreads, which this never-closed session loop
    # would leave running at exit; a plain pool is shut down here instead.
    threads = ThreadPoolExecutor(thread_name_prefix=SESSION_POOL_PREFIX)
    loop.set_default_executor(threads)
    yield loop
    threads.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def gui_loop(qloop, qtbot):
    errors: list[dict] = []
    qloop.set_exception_handler(lambda _loop, context: errors.append(context))
    threads_before = set(threading.enumerate())
    asyncio.events._set_running_loop(qloop)
    asyncio.set_event_loop(qloop)
    try:
        with collect_on_gui_thread():  # as in the app (see graphdeck.gui.gui_thread_gc)
            yield qloop
            leftover_tasks = unfinished_tasks(qloop, qtbot)
            leftover_threads = leaked_threads(threads_before)
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
    assert not errors, f"the event loop logged errors: {errors[:3]}"
    if leftover_tasks:
        pytest.fail(f"the test left {len(leftover_tasks)} task(s) running: {leftover_tasks[:3]}")
    if leftover_threads:
        names = [thread.name for thread in leftover_threads]
        pytest.fail(f"the test left {len(names)} thread(s) running: {names}")


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, gui_loop, settings):
    """Windows on the test's settings (options as for MainWindow). At the end each one
    still open is shut down as the app does it (runs cancelled, Dask clusters closed, the
    history saved), then deleted.

    Not `qtbot.addWidget`: pytest-qt closes and deletes those before any fixture's
    teardown, and a window deleted while it winds down never finishes."""
    windows: list[MainWindow] = []

    def make(**options) -> MainWindow:
        win = MainWindow(settings, **options)
        win.show()
        windows.append(win)
        return win

    yield make
    for win in windows:
        if win.isVisible():
            with qtbot.waitSignal(win.closed, timeout=15000):
                win.shutdown()
        win.deleteLater()


@pytest.fixture
def window(make_window):
    return make_window()


# -- the run history ---------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "history.sqlite3")


@pytest.fixture
def history_window(make_window, store):
    return make_window(store=store)


@pytest.fixture
def tomorrow(make_window, store):
    """Another window on the same history: the user comes back the next day."""
    return lambda: make_window(store=store)


@pytest.fixture
def failed_then_fixed(qtbot, history_window, tomorrow, tmp_path):
    """A run that failed (step c), its file fixed since, and a new window: (run id, window)."""
    path = tmp_path / "pipeline.py"
    write_pipeline(path, broken=2)
    run_id = finish_first_run(qtbot, history_window, path)
    write_pipeline(path)
    return run_id, tomorrow()


@pytest.fixture
def agent_in_history(store):
    """A nested-agents run recorded by `graphdeck run` before the window opens."""
    example = EXAMPLES / "nested_agents.py"
    assert main(["run", str(example), "--graph", "survey", "--store", str(store.path)]) == 0
    (summary,) = store.runs()
    return summary.id
