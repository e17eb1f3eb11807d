"""The run's append-only event log, stored compactly.

A 100k-node run emits half a million node events. Stored as NamedTuples they cost ~120 B
each and, being GC-tracked containers, made the garbage collector a third of the run's wall
time (measured: bench/scheduler.py). So node events are stored as columns: the time, the
Node, one int code (row kind, state, attempt) and an optional payload — 32 B per row and no
new object per event. Readers get the typed events of `graphdeck.events`, built on read;
other (rare) events are stored as the objects themselves.

Materialising later is exact because what it reads from the Node (id, tool name, group)
never changes, and everything that can change is stored in the row.
"""

from __future__ import annotations

from itertools import repeat
from typing import TYPE_CHECKING, Any

from ._states import NodeState
from .events import Event, NodeAdded, NodeOutput, NodeStateChanged

if TYPE_CHECKING:
    from ._graph import Node

OBJECT, ADDED, STATE, OUTPUT = 0, 1, 2, 3
#: a row's code holds its kind in the low bits; `code & KIND_MASK` reads it
KIND_MASK = 0b11
_KIND_BITS = 2
_STATES = tuple(NodeState)
_STATE_BITS = 4  # 9 states fit in 4 bits; the attempt number is stored above them
_STATE_MASK = (1 << _STATE_BITS) - 1
_ATTEMPT_SHIFT = _KIND_BITS + _STATE_BITS
#: the code of a state row for attempt 0, per state (the attempt is or-ed in above)
STATE_CODE = {state: i << _KIND_BITS | STATE for i, state in enumerate(_STATES)}
_SUCCEEDED_CODE = STATE_CODE[NodeState.SUCCEEDED]


#: raw rows: times, nodes (None for OBJECT rows), codes, payloads
LogColumns = tuple[list[float], list["Node | None"], list[int], list[Any]]


#: the state of a state row, by `code & STATE_ROW_BITS` (a reader's shortcut: one lookup)
STATE_ROW_BITS = (1 << _ATTEMPT_SHIFT) - 1
STATE_OF_ROW = {code: state for state, code in STATE_CODE.items()}


def unpack_state(code: int) -> tuple[NodeState, int]:
    """(state, attempt) of a state row's code."""
    return _STATES[code >> _KIND_BITS & _STATE_MASK], code >> _ATTEMPT_SHIFT


def output_attempt(code: int) -> int:
    """The attempt an output row belongs to."""
    return code >> _KIND_BITS


class _ErrorAndInputs:
    """Payload of a state change that carries both an error and resolved inputs (rare)."""

    __slots__ = ("error", "inputs")

    def __init__(self, error: BaseException | None, inputs: dict[str, Any]) -> None:
        self.error = error
        self.inputs = inputs


def state_payload(payload: Any) -> tuple[BaseException | None, dict[str, Any] | None]:
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
        # started_at or finished_at, or one shared by a batch (only a READY row after an
        # upstream finished has its own), and codes are small ints Python caches (for a
        # node's first attempts).
        self._times: list[float] = []
        self._nodes: list[Node | None] = []
        self._codes: list[int] = []  # kind, and for node rows: state and attempt
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
        self._add_time(event.time)
        self._add_node(None)
        self._add_code(OBJECT)
        self._add_payload(event)

    def node_added(self, time: float, node: Node) -> None:
        self._add_time(time)
        self._add_node(node)
        self._add_code(ADDED)
        self._add_payload(node.declared_inputs)

    def nodes_added(self, time: float, nodes: list[Node]) -> None:
        """`node_added` for many nodes at once (a run's whole graph): C-level extends."""
        count = len(nodes)
        self._times.extend(repeat(time, count))
        self._nodes.extend(nodes)
        self._codes.extend(repeat(ADDED, count))
        self._payloads.extend([node.declared_inputs for node in nodes])

    def nodes_state(self, time: float, nodes: list[Node], state: NodeState) -> None:
        """`node_state` without error or inputs for many nodes at once."""
        code = STATE_CODE[state]
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
        self._add_code(STATE_CODE[state] | attempt << _ATTEMPT_SHIFT)
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
        add_code(OUTPUT | attempt << _KIND_BITS)
        add_payload(outputs)
        add_time(time)
        add_node(node)
        add_code(_SUCCEEDED_CODE | attempt << _ATTEMPT_SHIFT)
        add_payload(None)

    # -- reading ------------------------------------------------------------------------

    def since(self, index: int, end: int | None = None) -> list[Event]:
        """The typed events from position `index` on (up to `end`, exclusive)."""
        return [self.event(i) for i in range(index, len(self._payloads) if end is None else end)]

    def columns(self, index: int, end: int) -> LogColumns:
        """Rows `index` to `end` as raw columns (see `Run.event_rows`)."""
        return (
            self._times[index:end],
            self._nodes[index:end],
            self._codes[index:end],
            self._payloads[index:end],
        )

    @property
    def complete(self) -> int:
        """Rows written in full. A row's columns are appended one by one, payload last, so
        a reader on another thread (the history writer) reads only below this bound."""
        return len(self._payloads)

    def event(self, i: int) -> Event:
        code = self._codes[i]
        kind = code & KIND_MASK
        payload = self._payloads[i]
        if kind == OBJECT:
            return payload
        node = self._nodes[i]
        assert node is not None
        time = self._times[i]
        if kind == STATE:
            state, attempt = unpack_state(code)
            error, inputs = state_payload(payload)
            return NodeStateChanged(time, self.run_id, node.id, state, attempt, error, inputs)
        if kind == OUTPUT:
            return NodeOutput(time, self.run_id, node.id, output_attempt(code), payload)
        return NodeAdded(time, self.run_id, node.id, node.tool.name, payload, node.group)


class LogReader:
    """Reading a run's event log by position; shared by live runs and stored ones."""

    _log: EventLog

    def events_since(self, index: int) -> list[Event]:
        """Events from position `index` on; `index + len(result)` is where to ask next."""
        return self._log.since(index)

    @property
    def event_count(self) -> int:
        return len(self._log)

    def event_rows(self, index: int, end: int | None = None) -> LogColumns:
        """Events `index` to `end` (default: all so far) as raw columns (time, node, code,
        payload), for readers that take thousands of events at a time and would rather
        not build an event object each (the monitor, the history writer). Decode with
        `code & KIND_MASK`, `unpack_state`, `state_payload`, `output_attempt`; a row of
        kind OBJECT carries the event itself as its payload."""
        return self._log.columns(index, len(self._log) if end is None else end)
