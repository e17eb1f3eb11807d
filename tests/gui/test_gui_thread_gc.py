"""Cyclic garbage made anywhere is collected on the GUI thread only (a Qt object
finalized on a worker thread can deadlock against the GUI thread)."""

from __future__ import annotations

import gc
import threading
from typing import ClassVar

from graphdeck.gui.gui_thread_gc import collect_on_gui_thread


class Cycle:
    finalized_on: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        Cycle.finalized_on.append(threading.current_thread().name)


def make_garbage() -> None:
    for _ in range(2000):  # far past the youngest generation's threshold
        Cycle()


def test_garbage_made_in_a_worker_is_collected_on_the_gui_thread(qtbot, qapp):
    Cycle.finalized_on.clear()
    was_enabled = gc.isenabled()
    with collect_on_gui_thread(interval_s=0.05):
        assert not gc.isenabled()
        worker = threading.Thread(target=make_garbage, name="worker")
        worker.start()
        worker.join()
        assert Cycle.finalized_on == []
        qtbot.waitUntil(lambda: len(Cycle.finalized_on) == 2000, timeout=5000)
    assert set(Cycle.finalized_on) == {threading.main_thread().name}
    assert gc.isenabled() is was_enabled


def test_objects_are_frozen_while_runs_are_live_and_thawed_after(monkeypatch):
    """A 100k-node run's graph was walked by every collection while it ran (0.2-0.35 s
    each); frozen, collections skip it, and it is given back once no run is live."""
    from graphdeck.gui import gui_thread_gc

    live = [0]
    now = [1000.0]
    monkeypatch.setattr(gui_thread_gc.time, "monotonic", lambda: now[0])
    frozen = gui_thread_gc.FrozenWhileRunsLive(lambda: live[0])
    gc.unfreeze()  # (the freeze is the process's: start from none)
    try:
        frozen.update()
        assert gc.get_freeze_count() == 0  # no run: nothing frozen
        live[0] = 1
        graph = [Cycle() for _ in range(100)]  # built before it started
        frozen.update()
        assert gc.get_freeze_count() >= len(graph)
        now[0] += gui_thread_gc.THAW_EVERY_S + 1  # a long run: its cycles get their turn
        frozen.update()
        assert gc.get_freeze_count() == 0
        frozen.update()
        assert gc.get_freeze_count() > 0
        live[0] = 0
        frozen.update()
        assert gc.get_freeze_count() == 0
        live[0] = 1
        frozen.thaw()  # the window closed while a run still winds down
        frozen.update()
        assert gc.get_freeze_count() == 0  # nothing frozen after the window is gone
    finally:
        gc.unfreeze()
