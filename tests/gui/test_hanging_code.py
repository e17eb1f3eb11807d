"""A graph file whose import or build hangs: the user sees for how long and where it is,
can stop waiting, and the hang costs later runs nothing (it ran in a child process,
killed when the user stopped waiting). One load of a file at a time."""

from __future__ import annotations

import re
import textwrap
import time

import psutil
from PySide6.QtCore import QTimer

from graphdeck import RunState
from guisupport import load, run_and_wait

SPINS_WHILE_IMPORTED = """
from graphdeck import graph_fn

count = 0
while True:
    count += 1

@graph_fn(name="never")
async def never(*, context):
    return {}
"""

HANGS_IN_THE_MONITOR_ONLY = """
import os, sys, time
from graphdeck import graph_fn

if "PySide6" in sys.modules:  # the monitor's process, not the loading child
    while not os.path.exists({marker!r}):
        time.sleep(0.02)

@graph_fn(name="late")
async def late(*, context):
    return {{"v": 1}}
"""

SPINS_WHILE_BUILT = """
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def one(x):
    return {"v": x}

@graphify(name="spins", outputs=["v"])
def spins(x=1):
    count = 0
    while True:
        count += 1
    return {"v": one(x=x).v}
"""

CPU_BOUND = """
import time
from graphdeck import graphify, tool

@tool(outputs=["seconds"])
def work(i):
    started = time.perf_counter()
    total = 0
    for k in range(2_000_000):
        total += k * k
    return {"seconds": time.perf_counter() - started}

@graphify(name="cpu", outputs=["seconds"])
def cpu():
    return {"seconds": work(i=0).seconds}
"""


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _loading_children() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if child.is_running()
        and child.status() != psutil.STATUS_ZOMBIE
        and "graphdeck.gui.load_child" in " ".join(child.cmdline())
    ]


def test_a_hanging_import_says_where_it_is_stops_and_costs_later_runs_nothing(
    qtbot, window, tmp_path
) -> None:
    _write(tmp_path, "cpu.py", CPU_BOUND)
    path = _write(tmp_path, "spins.py", SPINS_WHILE_IMPORTED)
    window.open_file(path)
    waiting = window.controls.waiting_label
    pattern = re.compile(r"^importing spins\.py: \d+ s, now at spins\.py:[56]$")
    qtbot.waitUntil(lambda: pattern.match(waiting.text()) is not None, timeout=10000)
    assert window.controls.stop_button.isVisible() and waiting.isVisible()
    assert window.controls.error_label.text() == ""  # no stale error under "Loading"
    ticks: list[int] = []
    QTimer.singleShot(20, lambda: ticks.append(1))
    qtbot.waitUntil(lambda: ticks == [1], timeout=2000)  # the window is responsive
    assert len(_loading_children()) == 1
    window.controls.stop_button.click()
    qtbot.waitUntil(lambda: not window.document.busy, timeout=5000)
    message = window.controls.error_label.text()
    assert message.startswith(f"{path}: stopped waiting (importing spins.py had taken "), message
    assert "at spins.py:" in message
    assert not waiting.isVisible() and not window.controls.stop_button.isVisible()
    qtbot.waitUntil(lambda: _loading_children() == [], timeout=5000)
    # Nothing of the hang is left to take CPU: a spinning thread took a whole second per
    # second (and halved the speed of every later run, through the GIL). CPU time of this
    # process, not wall time: other processes on a CI machine do not count.
    cpu = psutil.Process().cpu_times()
    qtbot.wait(1000)
    idle = sum(psutil.Process().cpu_times()[:2]) - sum(cpu[:2])
    assert idle < 0.3, f"the app took {idle:.2f} s of CPU in a second of doing nothing"
    load(qtbot, window, tmp_path / "cpu.py")
    assert run_and_wait(qtbot, window).state is RunState.SUCCEEDED


def test_opening_a_hanging_file_again_never_loads_it_twice_at_once(qtbot, window, tmp_path) -> None:
    path = _write(tmp_path, "spins.py", SPINS_WHILE_IMPORTED)
    window.open_file(path)
    qtbot.waitUntil(lambda: len(_loading_children()) == 1, timeout=10000)
    first = _loading_children()[0].pid
    window.open_file(path)
    qtbot.waitUntil(lambda: first not in [c.pid for c in _loading_children()], timeout=5000)
    qtbot.waitUntil(lambda: len(_loading_children()) == 1, timeout=5000)
    window.open_file(path)
    window.controls.stop_button.click()
    qtbot.waitUntil(lambda: not window.document.busy and _loading_children() == [], timeout=5000)


def test_an_import_hanging_in_the_monitor_is_shown_and_waited_for_once(
    qtbot, window, tmp_path
) -> None:
    marker = tmp_path / "release"
    path = _write(tmp_path, "late.py", HANGS_IN_THE_MONITOR_ONLY.format(marker=str(marker)))
    window.open_file(path)
    waiting = window.controls.waiting_label
    pattern = re.compile(r"^importing late\.py in the monitor: \d+ s, now at late\.py:7")
    try:
        qtbot.waitUntil(lambda: pattern.match(waiting.text()) is not None, timeout=10000)
        window.controls.stop_button.click()
        qtbot.waitUntil(lambda: not window.document.busy, timeout=5000)
        assert "cannot be stopped" in window.controls.error_label.text()
        window.open_file(path)  # the first import still runs here: wait for it, not a second
        qtbot.waitUntil(
            lambda: waiting.text().startswith("waiting for the previous import of late.py"),
            timeout=10000,
        )
    finally:
        marker.touch()
    qtbot.waitUntil(lambda: not window.document.busy, timeout=10000)
    assert list(window.document.graphs) == ["late"] and window.controls.error_label.text() == ""


def test_a_hanging_builder_says_where_it_is_and_can_be_stopped(qtbot, window, tmp_path) -> None:
    path = _write(tmp_path, "spins.py", SPINS_WHILE_BUILT)
    window.open_file(path)
    qtbot.waitUntil(lambda: window.document.graphs != {}, timeout=10000)
    pattern = re.compile(r"^building graph 'spins': \d+ s, now at spins\.py:1[01]$")
    qtbot.waitUntil(lambda: pattern.match(window.preview_note.text()) is not None, timeout=10000)
    assert pattern.match(window.controls.waiting_label.text())
    assert not window.controls.run_button.isEnabled()
    started = time.monotonic()
    window.controls.stop_button.click()
    qtbot.waitUntil(lambda: not window.preview.busy, timeout=5000)
    assert time.monotonic() - started < 5
    message = window.controls.error_label.text()
    expected = f"{path}: stopped waiting (building graph 'spins' had taken "
    assert message.startswith(expected), message
    assert not window.preview_note.isVisible() and not window.controls.run_button.isEnabled()
    qtbot.waitUntil(lambda: _loading_children() == [], timeout=5000)
