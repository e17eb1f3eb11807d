"""`StoredRunView`: a stored run dressed as a finished `Run`, so every view that shows a
live run (graph, timeline, occupancy, results, inspector) shows a stored one unchanged.

It is read-only: the records are rebuilt `Node`s and the event stream is synthesised from
the stored attempts, messages and occupancy samples, in time order.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from .. import Attempt, Node, NodeKind, NodeState, Occupancy, Ref, TaskGraph
from ..eventlog import EventLog, LogReader
from ..events import (
    ChannelMessage,
    Event,
    GroupOccupancyChanged,
    NodeAdded,
    NodePlaced,
    NodeStateChanged,
    OccupancyChanged,
    RunFinished,
    RunStarted,
    RunWarning,
)
from ._encode import REF_KEY, decode
from ._store import StoredAttempt, StoredNode, StoredRun

_KINDS = {kind: kind for kind in (NodeKind.TOOL, NodeKind.MAP, NodeKind.EXTERNAL)}


class StoredState(StrEnum):
    """A stored run's state: a `RunState` value, or "interrupted" (its process died)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_terminal(self) -> bool:
        return True  # nothing more will happen to a stored run here


class StoredError(Exception):
    """An error as the history has it: its text, and the traceback it had, as text."""

    def __init__(self, text: str, traceback: str | None = None) -> None:
        super().__init__(text)
        self.stored_traceback = traceback

    def __repr__(self) -> str:  # already "Type: message", as the live error's repr reads
        return str(self)


class _StoredTool:
    """Stands in for the tool of a stored node: its name is all that is known."""

    outputs = None

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<stored tool {self.name}>"


class StoredRunView(LogReader):
    """Quacks like a finished `Run` for the monitor's views; `stored` is the source."""

    children: tuple = ()
    is_agent = False

    def __init__(self, stored: StoredRun) -> None:
        summary = stored.summary
        self.stored = stored
        self.id = summary.id
        self.name = summary.graph
        self.inputs = stored.inputs
        self.on_error = stored.on_error or "stop"
        self.max_concurrency = stored.max_concurrency or 0
        self.state = StoredState(summary.state)
        self.started_at = summary.started_at
        self.finished_at = summary.finished_at
        self.outputs = stored.outputs
        self.error = StoredError(summary.error) if summary.error else None
        self.graph = TaskGraph(summary.graph, stored.inputs)
        tools: dict[str, _StoredTool] = {}
        for stored_node in stored.nodes:
            tool = tools.setdefault(stored_node.tool, _StoredTool(stored_node.tool))
            self.graph.append(_rebuild_node(stored_node, tool))
        events = _events(stored, self.state)
        self._log = _replayed(events, self.graph.nodes, self.id)
        #: what the run was warned about (as `Run.warnings`)
        self.warnings = [e for e in events if isinstance(e, RunWarning)]
        peak = max((sample[3] for sample in stored.occupancy if sample[1] is None), default=0)
        self.occupancy = Occupancy(0, peak, self.max_concurrency)

    def __repr__(self) -> str:
        return f"<StoredRunView {self.id} {self.name!r} {self.state.value}>"

    @property
    def nodes(self) -> Mapping[str, Node]:
        return self.graph.nodes  # type: ignore[return-value]  # (a read-only mapping view)

    @property
    def done(self) -> bool:
        return True

    def counts(self) -> dict[NodeState, int]:
        counted = dict.fromkeys(NodeState, 0)
        for node in self.graph.nodes:
            counted[node.state] += 1
        return counted


def _error(text: str | None, traceback: str | None = None) -> StoredError | None:
    return None if text is None else StoredError(text, traceback)


def _with_refs(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {REF_KEY, "key"}:
            return Ref(value[REF_KEY], value["key"])
        return {k: _with_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_refs(v) for v in value]
    return value


def _rebuild_node(stored: StoredNode, tool: _StoredTool) -> Node:
    node = Node(
        stored.id,
        tool,  # type: ignore[arg-type]
        _with_refs(stored.inputs),
        upstream=tuple(stored.upstream),
        kind=_KINDS.get(stored.kind, NodeKind.TOOL),
        group=stored.group,
    )
    attempts = stored.attempts
    last = attempts[-1] if attempts else None
    node.restore(
        NodeState(stored.state),
        [_attempt(a) for a in attempts],
        last.outputs if last is not None else None,
        last.worker if last is not None else None,
    )
    if last is None:
        node.error = _error(stored.error)
        node.finished_at = stored.finished_at
    else:
        if last.finished_at is None:
            node.finished_at = stored.finished_at
        if last.inputs is not None:
            node.resolved_inputs = last.inputs
    return node


def _attempt(stored: StoredAttempt) -> Attempt:
    return Attempt(
        stored.number,
        NodeState(stored.state),
        stored.started_at,
        stored.finished_at,
        _error(stored.error, stored.traceback),
    )


def _replayed(events: list[Event], nodes: Mapping[str, Node], run_id: str) -> EventLog:
    """A log holding `events`, stored as a live run's log stores them."""
    log = EventLog(run_id)
    for event in events:
        if isinstance(event, NodeAdded):
            log.node_added(event.time, nodes[event.node_id])
        elif isinstance(event, NodeStateChanged):
            node = nodes[event.node_id]
            log.node_state(event.time, node, event.state, event.attempt, event.error, event.inputs)
        else:
            log.append(event)
    return log


def _events(stored: StoredRun, state: StoredState) -> list[Event]:
    """The run's events rebuilt in time order (ties: the order a live run emits them)."""
    summary = stored.summary
    run_id = summary.id
    began = summary.started_at or 0.0
    timed: list[tuple[float, int, Event]] = [
        (
            began,
            0,
            RunStarted(
                began,
                run_id,
                summary.graph,
                stored.inputs,
                stored.max_concurrency or 0,
                stored.on_error or "stop",
                summary.parent_id,
            ),
        )
    ]
    for node in stored.nodes:
        timed.append(
            (began, 1, NodeAdded(began, run_id, node.id, node.tool, node.inputs, node.group))
        )
        for a in node.attempts:
            start = a.started_at if a.started_at is not None else began
            timed.append(
                (start, 2, NodeStateChanged(start, run_id, node.id, NodeState.RUNNING, a.number))
            )
            if a.worker is not None:
                timed.append((start, 3, NodePlaced(start, run_id, node.id, a.number, a.worker)))
            if a.finished_at is not None:
                timed.append(
                    (
                        a.finished_at,
                        4,
                        NodeStateChanged(
                            a.finished_at,
                            run_id,
                            node.id,
                            NodeState(a.state),
                            a.number,
                            _error(a.error, a.traceback),
                        ),
                    )
                )
        if not node.attempts and node.state != NodeState.PENDING:
            at = node.finished_at if node.finished_at is not None else began
            timed.append(
                (
                    at,
                    4,
                    NodeStateChanged(
                        at, run_id, node.id, NodeState(node.state), 0, _error(node.error)
                    ),
                )
            )
    for t, group, active, peak, cap in stored.occupancy:
        event: Event = (
            OccupancyChanged(t, run_id, active, peak, cap or 0)
            if group is None
            else GroupOccupancyChanged(t, run_id, group, active, peak, cap)
        )
        timed.append((t, 5, event))
    for t, kind, source, node_id, text, details in stored.messages:
        message: Event = (
            RunWarning(t, run_id, text, node_id, source or "note", decode(details))
            if kind == "warning"
            else ChannelMessage(t, run_id, source or "", text, node_id)
        )
        timed.append((t, 5, message))
    ended = (
        summary.finished_at
        if summary.finished_at is not None
        else max((t for t, _, _ in timed), default=began)
    )
    timed.append((ended, 9, RunFinished(ended, run_id, state, _error(summary.error))))  # type: ignore[arg-type]
    timed.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in timed]
