"""A one-line progress bar for `graphdeck run`, fed by the run's event stream."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import TextIO

from ._run import Run
from ._states import NodeState
from .events import NodeAdded, NodeStateChanged

_SHOWN = (
    NodeState.RUNNING,
    NodeState.SUCCEEDED,
    NodeState.FAILED,
    NodeState.TIMED_OUT,
    NodeState.CANCELLED,
    NodeState.SKIPPED,
)


class StateCounter:
    """Per-state node counts, kept up to date from events (O(1) per event)."""

    def __init__(self) -> None:
        self.counts: Counter[NodeState] = Counter()
        self._states: dict[str, NodeState] = {}
        self._index = 0

    def update(self, run: Run) -> None:
        events = run.events_since(self._index)
        self._index += len(events)
        counts, states = self.counts, self._states
        for event in events:
            if isinstance(event, NodeAdded):
                states[event.node_id] = NodeState.PENDING
                counts[NodeState.PENDING] += 1
            elif isinstance(event, NodeStateChanged):
                counts[states[event.node_id]] -= 1
                states[event.node_id] = event.state
                counts[event.state] += 1

    @property
    def total(self) -> int:
        return len(self._states)

    @property
    def finished(self) -> int:
        return sum(n for state, n in self.counts.items() if state.is_terminal)


class ProgressBar:
    """Redraws one line on `stream` (a terminal) a few times a second."""

    def __init__(self, run: Run, stream: TextIO, width: int = 24, hz: float = 8.0) -> None:
        self.run = run
        self.stream = stream
        self.width = width
        self.period = 1.0 / hz
        self.counter = StateCounter()
        self._started = time.monotonic()

    def line(self) -> str:
        self.counter.update(self.run)
        counts, total = self.counter.counts, self.counter.total
        done = self.counter.finished
        filled = int(self.width * done / total) if total else 0
        bar = "#" * filled + "." * (self.width - filled)
        parts = [f"{state.value} {counts[state]}" for state in _SHOWN if counts[state]]
        elapsed = time.monotonic() - self._started
        occupancy = self.run.occupancy
        return (
            f"[{bar}] {done}/{total}  {'  '.join(parts)}  "
            f"slots {occupancy.active}/{occupancy.cap}  {elapsed:.1f}s"
        )

    def draw(self) -> None:
        self.stream.write("\r\x1b[2K" + self.line())
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[2K")
        self.stream.flush()

    async def follow(self) -> None:
        """Redraw until cancelled."""
        while True:
            self.draw()
            await asyncio.sleep(self.period)
