"""Cyclic garbage is collected on the GUI thread only, while the monitor runs.

Python's cycle collector runs in whichever thread allocates past its threshold. With graph
files imported and graphs built in worker threads, that is often one of them, and a Qt
object it finalizes there is destroyed on the wrong thread: its destructor takes a Qt lock
and then waits for the GIL, while the GUI thread, holding the GIL, waits for that same
lock. The app then freezes for good (seen: a 10,000-node build in `graphdeck-build`
against the GUI thread deleting a menu). So automatic collection is switched off and the
GUI thread collects on a timer instead: pyqtgraph's `GarbageCollector`, made for this.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from pyqtgraph.util.garbage_collector import GarbageCollector

#: how often the GUI thread looks whether a generation is due (pyqtgraph's default)
COLLECT_INTERVAL_S = 1.0


@contextlib.contextmanager
def collect_on_gui_thread(interval_s: float = COLLECT_INTERVAL_S) -> Iterator[None]:
    """Within: no automatic collection anywhere; the calling (GUI) thread collects each
    due generation every `interval_s` while Qt's event loop runs, and what is left at
    the end. Automatic collection is restored after if it was on before."""
    was_enabled = gc.isenabled()
    collector = GarbageCollector(interval=interval_s)  # it switches automatic gc off
    try:
        yield
    finally:
        collector.timer.stop()
        gc.collect()
        if was_enabled:
            gc.enable()
