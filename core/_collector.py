"""The garbage collector while runs are live (docs/design.md §4.6).

A big run holds millions of long-lived container objects (its nodes, a builder's handles
and references), and each full collection walks all of them: with the interpreter's
default thresholds a run's per-node cost grew with its size. While at least one run is
live (counted across runs and threads) the collector runs with larger thresholds
(`RUN_THRESHOLDS`). It is never switched off, so a run that lasts for hours still
collects its cycles, and the process's thresholds come back when the last live run ends,
however it ended. A user's own `gc.set_threshold` during a run wins: it is not undone.
"""

from __future__ import annotations

import gc
import threading

#: The thresholds while a run is live: a young collection per 50,000 container
#: allocations (the interpreter's default is 700), the middle generation per million, and
#: a full collection considered after ten of those (at most once per about ten million
#: allocations, and only when the long-lived objects grew by a quarter, as always).
RUN_THRESHOLDS = (50_000, 20, 10)

_lock = threading.Lock()
_live = 0
_saved: tuple[int, ...] | None = None


def hold() -> None:
    """A run became live (or is being built): use the run thresholds."""
    global _live, _saved
    with _lock:
        if _live == 0:
            _saved = gc.get_threshold()
            if _saved != RUN_THRESHOLDS:
                gc.set_threshold(*RUN_THRESHOLDS)
        _live += 1


def release() -> None:
    """A run `hold` counted ended: the last one restores the process's thresholds."""
    global _live, _saved
    with _lock:
        _live -= 1
        if _live == 0:
            if _saved is not None and gc.get_threshold() == RUN_THRESHOLDS:
                gc.set_threshold(*_saved)
            _saved = None


def live_runs() -> int:
    """How many holds are outstanding (tests: every run gives its hold back)."""
    return _live
