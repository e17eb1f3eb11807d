"""The lines of a run's log: channel messages, warnings, and what happened to nodes that
did not simply succeed (a retry, a failure, a time-out, a cancel), each naming its node.

A cancelled run or a failing fan-out changes thousands of nodes at once: past
`NODE_LINES_PER_BATCH` node lines in one batch of events, the rest are counted and said
in one line per state, so the log stays readable and small.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from graphdeck import NodeState

#: node lines written out per batch of events; the rest are counted
NODE_LINES_PER_BATCH = 25
#: an error is shown up to this many characters in a log line (the inspector has it all)
ERROR_CHARS = 200
LOGGED = frozenset((NodeState.RETRYING, NodeState.FAILED, NodeState.TIMED_OUT, NodeState.CANCELLED))


class LogEntry(NamedTuple):
    time: float
    source: str  # a channel, "warning", "run" or "node"
    text: str
    node: str | None = None  # the node it is about (shown as a link)


def node_text(node_id: str, state: NodeState, attempt: int, error: BaseException | None) -> str:
    """`step_2 failed: ValueError: no` — the node id first (it becomes the link)."""
    said = f": {type(error).__name__}: {error}"[:ERROR_CHARS] if error is not None else ""
    if state is NodeState.RETRYING:
        return f"{node_id} attempt {attempt} failed, retrying{said}"
    return f"{node_id} {state.value.replace('_', ' ')}{said}"


class NodeLines:
    """Collects the node lines of one batch of events into `entries`."""

    def __init__(self, entries: list[LogEntry]) -> None:
        self._entries = entries
        # Invariant: the node lines of the current batch so far, and those held back
        # (by state) once there were `NODE_LINES_PER_BATCH`.
        self._written = 0
        self._held: Counter[NodeState] = Counter()
        self._last = 0.0

    def add(
        self, time: float, node_id: str, state: NodeState, attempt: int, error: BaseException | None
    ) -> None:
        if self._written < NODE_LINES_PER_BATCH:
            self._written += 1
            self._entries.append(
                LogEntry(time, "node", node_text(node_id, state, attempt, error), node_id)
            )
        else:
            self._held[state] += 1
            self._last = time

    def end_batch(self) -> None:
        """Say what was held back, in one line per state; the next batch starts afresh."""
        for state, count in self._held.items():
            said = state.value.replace("_", " ")
            self._entries.append(LogEntry(self._last, "node", f"… and {count} more {said}"))
        self._held.clear()
        self._written = 0
