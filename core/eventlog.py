"""A run's append-only event log, stored compactly, and the one place it is decoded.

A 100k-node run emits half a million node events. Stored as NamedTuples they cost ~120 B
each and, being GC-tracked containers, made the garbage collector a third of the run's
wall time (docs/design.md §4.2). So node events are stored as columns: the time, the Node,
one int code (row kind, state, attempt) and an optional payload, 32 B per row and no new
object per event. Other (rare) events are stored as the event objects themselves.

Reading, two ways, both decoded here and nowhere else:
- `event(i)` / `since(i)`: the typed events of `graphdeck.events`, built on read;
- `visit(start, end, visitor)`: the rows handed to a `RowVisitor`'s methods, with no
  event object built per row (the monitor and the history writer read thousands at once).

Decoding later is exact because what it reads from the Node (id, tool name, group) never
changes, and everything that can change is stored in the row.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any, Protocol

from ._node import Node
from ._states import NodeState
from .events import Event, NodeAdded, NodeOutput, NodeStateChanged

__all__ = ["EventLog", "LogReader", "RowVisitor"]

# A row's int code: its kind in the low 2 bits; for a state row the state's code above
# them (4 bits: 9 states) and the attempt above that; for an output row, the attempt.
_OBJECT, _ADDED, _STATE, _OUTPUT = 0, 1, 2, 3
_KIND_MASK = 0b11
_KIND_BITS = 2
_STATE_BITS = 4
_STATE_MASK = (1 << _STATE_BITS) - 1
_ATTEMPT_SHIFT = _KIND_BITS + _STATE_BITS
_STATES = tuple(NodeState)
#: the code of a state row for attempt 0, by `NodeState.code`
_STATE_ROW = [state.code << _KIND_BITS | _STATE for state in _STATES]
_SUCCEEDED_ROW = _STATE_ROW[NodeState.SUCCEEDED.code]


class RowVisitor(Protocol):
    """What a reader of raw rows implements (see `EventLog.visit`). Each method is one
    kind of row; `node` is the run's live Node (read only its id, tool, kind and group:
    everything that changes is in the arguments)."""

    def node_added(self, time: float, node: Node, inputs: dict[str, Any]) -> None:
        """`NodeAdded`: `inputs` are the declared ones (they may hold Refs)."""

    def node_state(
        self,
        time: float,
        node: Node,
        state: NodeState,
        attempt: int,
        error: BaseException | None,
        inputs: dict[str, Any] | None,
    ) -> None:
        """`NodeStateChanged`: `inputs` are set when the node became READY."""

    def node_output(self, time: float, node: Node, attempt: int, outputs: dict[str, Any]) -> None:
        """`NodeOutput`: always just before the SUCCEEDED state row of that attempt."""

    def event(self, event: Event) -> None:
        """Any other event (run started/finished, occupancy, messages, warnings, ...)."""


class _ErrorAndInputs:
    """Payload of a state change that carries both an error and resolved inputs (rare)."""

    __slots__ = ("error", "inputs")

    def __init__(self, error: BaseException | None, inputs: dict[str, Any]) -> None:
        self.error = error
        self.inputs = inputs


def _state_payload(payload: Any) -> tuple[BaseException | None, dict[str, Any] | None]:
    """(error, resolved inputs) of a state row's payload: the error, the inputs (a node
    becoming READY: no extra object per node), both, or None."""
    kind = type(payload)
    if kind is dict:
        return None, payload
    if kind is _ErrorAndInputs:
        return payload.error, payload.inputs
    return payload, None


class EventLog:
    """Append-only; position in the log is the event's order within its run."""

    __slots__ = (
        "_add_code",
        "_add_node",
        "_add_payload",
        "_add_time",
        "_codes",
        "_nodes",
        "_payloads",
        "_times",
        "run_id",
    )

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        # Lists, not arrays: `array.append` parses its argument like a C API call
        # (PyArg_Parse), measured at ~400 instructions per row under callgrind. Memory is
        # about the same: most rows' floats are the very objects the node keeps as
        # started_at or finished_at, or one shared by a batch.
        self._times: list[float] = []
        self._nodes: list[Node | None] = []
        self._codes: list[int] = []
        # Invariant: appended last in every row, so `len(_payloads)` rows are complete: a
        # reader on another thread (the history writer) reads only below it.
        self._payloads: list[Any] = []
        # Bound appends, looked up once: writing a row is the scheduler's hottest path.
        self._add_time = self._times.append
        self._add_node = self._nodes.append
        self._add_code = self._codes.append
        self._add_payload = self._payloads.append

    def __len__(self) -> int:
        return len(self._payloads)

    # -- writing: four C-level appends per row, payload last, no object allocated ----------

    def append(self, event: Event) -> None:
        """Any event other than a node's (those have the methods below)."""
        self._add_time(event.time)
        self._add_node(None)
        self._add_code(_OBJECT)
        self._add_payload(event)

    def node_added(self, time: float, node: Node) -> None:
        self._add_time(time)
        self._add_node(node)
        self._add_code(_ADDED)
        self._add_payload(node.declared_inputs)

    def nodes_added(self, time: float, nodes: list[Node]) -> None:
        """`node_added` for many nodes at once (a run's whole graph): C-level extends."""
        count = len(nodes)
        self._times.extend(repeat(time, count))
        self._nodes.extend(nodes)
        self._codes.extend(repeat(_ADDED, count))
        self._payloads.extend([node.declared_inputs for node in nodes])

    def nodes_state(self, time: float, nodes: list[Node], state: NodeState) -> None:
        """`node_state` without error or inputs for many nodes at once."""
        code = _STATE_ROW[state.code]
        self._times.extend(repeat(time, len(nodes)))
        self._nodes.extend(nodes)
        self._codes.extend([code | node.attempt << _ATTEMPT_SHIFT for node in nodes])
        self._payloads.extend(repeat(None, len(nodes)))

    def node_state(
        self,
        time: float,
        node: Node,
        state: NodeState,
        attempt: int,
        error: BaseException | None,
        inputs: dict[str, Any] | None,
    ) -> None:
        self._add_time(time)
        self._add_node(node)
        self._add_code(_STATE_ROW[state.code] | attempt << _ATTEMPT_SHIFT)
        if inputs is None:
            self._add_payload(error)
        else:
            self._add_payload(inputs if error is None else _ErrorAndInputs(error, inputs))

    def node_succeeded(
        self, time: float, node: Node, attempt: int, outputs: dict[str, Any]
    ) -> None:
        """The two rows of a success, output first: one call on the hottest path."""
        add_time, add_node, add_code, add_payload = (
            self._add_time,
            self._add_node,
            self._add_code,
            self._add_payload,
        )
        add_time(time)
        add_node(node)
        add_code(_OUTPUT | attempt << _KIND_BITS)
        add_payload(outputs)
        add_time(time)
        add_node(node)
        add_code(_SUCCEEDED_ROW | attempt << _ATTEMPT_SHIFT)
        add_payload(None)

    # -- reading ------------------------------------------------------------------------

    def since(self, index: int, end: int | None = None) -> list[Event]:
        """The typed events from position `index` on (up to `end`, exclusive)."""
        return [self.event(i) for i in range(index, len(self._payloads) if end is None else end)]

    def event(self, i: int) -> Event:
        """The typed event at position `i`."""
        code = self._codes[i]
        kind = code & _KIND_MASK
        payload = self._payloads[i]
        if kind == _OBJECT:
            return payload
        node = self._nodes[i]
        assert node is not None
        time = self._times[i]
        if kind == _STATE:
            error, inputs = _state_payload(payload)
            state = _STATES[code >> _KIND_BITS & _STATE_MASK]
            attempt = code >> _ATTEMPT_SHIFT
            return NodeStateChanged(time, self.run_id, node.id, state, attempt, error, inputs)
        if kind == _OUTPUT:
            return NodeOutput(time, self.run_id, node.id, code >> _KIND_BITS, payload)
        return NodeAdded(time, self.run_id, node.id, node.tool.name, payload, node.group)

    def visit(self, start: int, end: int, visitor: RowVisitor) -> int:
        """Hand rows `start` to `end` (exclusive) to `visitor`, in order; returns `end`.

        The loop over rows is the one place the row format is read; it builds no event
        object for node rows."""
        times, nodes, codes, payloads = (
            self._times[start:end],
            self._nodes[start:end],
            self._codes[start:end],
            self._payloads[start:end],
        )
        added, changed, output, other = (
            visitor.node_added,
            visitor.node_state,
            visitor.node_output,
            visitor.event,
        )
        states = _STATES
        for at, node, code, payload in zip(times, nodes, codes, payloads, strict=True):
            kind = code & _KIND_MASK
            if kind == _STATE:
                state = states[code >> _KIND_BITS & _STATE_MASK]
                if payload is None:
                    changed(at, node, state, code >> _ATTEMPT_SHIFT, None, None)
                else:
                    error, inputs = _state_payload(payload)
                    changed(at, node, state, code >> _ATTEMPT_SHIFT, error, inputs)
            elif kind == _ADDED:
                added(at, node, payload)
            elif kind == _OUTPUT:
                output(at, node, code >> _KIND_BITS, payload)
            else:
                other(payload)
        return end

    def recent(self, node: Node, count: int = 8) -> list[NodeStateChanged]:
        """The last `count` state changes of `node` (for error messages: a linear scan)."""
        found: list[NodeStateChanged] = []
        for i in range(len(self._payloads) - 1, -1, -1):
            if self._nodes[i] is node and self._codes[i] & _KIND_MASK == _STATE:
                found.append(self.event(i))  # type: ignore[arg-type]
                if len(found) == count:
                    break
        found.reverse()
        return found


class LogReader:
    """Reading a run's event log by position; shared by live runs and stored ones."""

    _log: EventLog

    def events_since(self, index: int) -> list[Event]:
        """Events from position `index` on; `index + len(result)` is where to ask next."""
        return self._log.since(index)

    @property
    def event_count(self) -> int:
        """Events so far. Safe to read from another thread: rows below it are complete."""
        return len(self._log)

    def visit(self, visitor: RowVisitor, start: int = 0, end: int | None = None) -> int:
        """Hand events `start` to `end` (default: all so far) to `visitor` as rows, without
        building an event object per node event; returns where to continue next time.
        For readers that take thousands of events at a time (the monitor, the history
        writer). Safe from another thread for rows below `event_count`."""
        return self._log.visit(start, len(self._log) if end is None else end, visitor)
