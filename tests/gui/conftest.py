"""GUI test fixtures: one session-wide qasync loop driven by pytest-qt.

pytest-qt has no asyncio support (docs/design.md §6.3): the loop is created `already_running`,
coroutines are scheduled with ensure_future and awaited with `qtbot.waitUntil`. The loop is
marked running only during a GUI test, so the core tests keep their own fresh loops; loop
exceptions fail the test; leftover tasks are cancelled after each test.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from PySide6.QtCore import QSettings

from graphdeck.gui.event_loop import GraphdeckEventLoop
from graphdeck.gui.main_window import MainWindow


@pytest.fixture(scope="session")
def qloop(qapp):
    loop = GraphdeckEventLoop(qapp, already_running=True)
    # qasync's default executor is made of QThreads, which this never-closed session loop
    # would leave running at exit; a plain pool is shut down here instead.
    threads = ThreadPoolExecutor(thread_name_prefix="gui-tests")
    loop.set_default_executor(threads)
    yield loop
    threads.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def gui_loop(qloop, qtbot):
    errors: list[dict] = []
    qloop.set_exception_handler(lambda _loop, context: errors.append(context))
    asyncio.events._set_running_loop(qloop)
    asyncio.set_event_loop(qloop)
    try:
        yield qloop
        leftovers = [t for t in asyncio.all_tasks(qloop) if not t.done()]
        for task in leftovers:
            task.cancel()
        qtbot.waitUntil(lambda: all(t.done() for t in leftovers), timeout=5000)
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
    assert not errors, f"the event loop logged errors: {errors[:3]}"


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, gui_loop, settings):
    """Windows on the test's settings (options as for MainWindow); runs still going are
    cancelled and history writers closed at the end."""
    windows: list[MainWindow] = []

    def make(**options) -> MainWindow:
        win = MainWindow(settings, **options)
        qtbot.addWidget(win)
        win.show()
        windows.append(win)
        return win

    yield make
    for win in windows:
        for tracker in win.controller.live():
            tracker.run.cancel()
        qtbot.waitUntil(lambda w=win: not w.controller.live(), timeout=10000)
        if win.recorder is not None:
            win.recorder.close()


@pytest.fixture
def window(make_window):
    return make_window()
