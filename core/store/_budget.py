"""The history writer's time budget while runs are live: a token bucket."""

from __future__ import annotations

import time
from collections.abc import Callable


class TimeBudget:
    """At most `share` of wall time on average, in bursts of up to `burst` seconds.

    The writer shares the GIL with the event loop, so its time reading is the run's
    slowdown; the average share keeps that small. The burst lets it write the start of a run (its
    graph, its first wave of nodes) as it happens: every later row comes after those in
    the log, so until they are written nothing the run completes can be, and a process
    killed in its first moments would lose it all.
    """

    def __init__(
        self,
        share: float,
        burst: float,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.share = share
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        # Invariant: credit <= burst; it goes below zero by what the last read overspent.
        self._credit = burst
        self._at = clock()

    def wait(self, until: float) -> bool:
        """Sleep until there is credit to spend; False (at once) if that is after `until`."""
        now = self._refill()
        if self._credit > 0:
            return True
        ready = now - self._credit / self.share
        if ready >= until:
            return False
        self._sleep(ready - now)
        self._refill()
        return True

    def spend(self, seconds: float) -> None:
        """Count `seconds` the writer held the GIL: what the loop, sharing it, was kept
        from. Wall time, not CPU time: on a loaded machine, counting CPU time let a
        recorded 100,000-node run take 1.2-1.3x as long as unrecorded, against 1.0-1.1x."""
        self._credit -= seconds

    def _refill(self) -> float:
        now = self._clock()
        self._credit = min(self.burst, self._credit + (now - self._at) * self.share)
        self._at = now
        return now
