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
