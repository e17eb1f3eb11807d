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
import time
from collections.abc import Callable, Iterator

from pyqtgraph.util.garbage_collector import GarbageCollector

#: while runs are live, frozen objects are given back to the collector this often
THAW_EVERY_S = 300.0
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


class FrozenWhileRunsLive:
    """What exists while runs are live is kept out of the GUI thread's collections.

    A run's graph is built just before it starts (a 100k-node fan-out: about a million
    container objects) and the views add an object or two per node as it runs, so all of
    it is young: each timed collection above walked it again (0.2 to 0.35 s each at 100k
    nodes: the window froze, and the watchdog said so). While runs are live, `update`
    (called on every refresh tick) moves every object there is to the permanent
    generation (`gc.freeze()`, which only splices lists), so collections see only what
    was made since the last tick. `gc.unfreeze()` gives them all back to the oldest
    generation once no run is live, and at least every `THAW_EVERY_S` during a long one:
    cyclic garbage made meanwhile is collected then, not never.
    """

    def __init__(self, live: Callable[[], int]) -> None:
        self._live = live
        # Invariant: objects are frozen exactly while `_frozen_since` is not None, and
        # never again once `thaw` was called (the window closed).
        self._frozen_since: float | None = None
        self._closed = False

    def update(self) -> None:
        """Call on every refresh tick and whenever runs may have started or ended."""
        if self._closed or not self._live():
            if self._frozen_since is not None:
                gc.unfreeze()
                self._frozen_since = None
            return
        now = time.monotonic()
        if self._frozen_since is not None and now - self._frozen_since > THAW_EVERY_S:
            gc.unfreeze()  # a long run's cycles get their collection
            self._frozen_since = None
            return
        gc.freeze()
        if self._frozen_since is None:
            self._frozen_since = now

    def thaw(self) -> None:
        """The window closes: give everything back to the collector, for good (its runs'
        last ticks, while they wind down, must not freeze anything again)."""
        self._closed = True
        if self._frozen_since is not None:
            gc.unfreeze()
            self._frozen_since = None
