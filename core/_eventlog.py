"""The run's append-only event log, stored compactly.

A 100k-node run emits half a million node events. Stored as NamedTuples they cost ~120 B
each and, being GC-tracked containers, made the garbage collector a third of the run's wall
time (measured: bench/scheduler.py). So node events are stored as columns: a kind byte, a
float time, the Node, one packed int and one optional payload reference — ~33 B and no new
object per event. Readers get the typed events of `graphdeck.events`, built on read; other
(rare) events are stored as the objects themselves.

Materialising later is exact because what it reads from the Node (id, tool name, group)
never changes, and everything that can change is stored in the row.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

from ._states import NodeState
from .events import Event, NodeAdded, NodeOutput, NodeStateChanged

if TYPE_CHECKING:
    from ._graph import Node

OBJECT, ADDED, STATE, OUTPUT = 0, 1, 2, 3
_STATES = tuple(NodeState)
_STATE_CODE = {state: code for code, state in enumerate(_STATES)}
_STATE_BITS = 4  # 9 states fit in 4 bits; the attempt number is stored above them
_STATE_MASK = (1 << _STATE_BITS) - 1


def unpack_state(packed: int) -> tuple[NodeState, int]:
    """(state, attempt) of a state row's packed int."""
    return _STATES[packed & _STATE_MASK], packed >> _STATE_BITS


class ErrorAndInputs:
    """Payload of a state change that carries both an error and resolved inputs (rare)."""

    __slots__ = ("error", "inputs")

    def __init__(self, error: BaseException | None, inputs: dict[str, Any]) -> None:
        self.error = error
        self.inputs = inputs


class EventLog:
    """Append-only; position in the log is the event's order within its run."""

    __slots__ = (
        "_add_int",
        "_add_kind",
        "_add_node",
        "_add_payload",
        "_add_time",
        "_ints",
        "_kinds",
        "_nodes",
        "_payloads",
        "_times",
        "run_id",
    )

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._kinds = bytearray()
        self._times = array("d")
        self._nodes: list[Node | None] = []
        self._ints = array("q")
        self._payloads: list[Any] = []
        # Bound appends, looked up once: writing a row is the scheduler's hottest path.
        self._add_kind = self._kinds.append
        self._add_time = self._times.append
        self._add_node = self._nodes.append
        self._add_int = self._ints.append
        self._add_payload = self._payloads.append

    def __len__(self) -> int:
        return len(self._kinds)

    # -- writing: five C-level appends per row, no object allocated ------------------------

    def append(self, event: Event) -> None:
        self._add_kind(OBJECT)
        self._add_time(event.time)
        self._add_node(None)
        self._add_int(0)
        self._add_payload(event)

    def node_added(self, time: float, node: Node) -> None:
        self._add_kind(ADDED)
        self._add_time(time)
        self._add_node(node)
        self._add_int(0)
        self._add_payload(node.declared_inputs)

    def node_state(
        self,
        time: float,
        node: Node,
        state: NodeState,
        attempt: int,
        error: BaseException | None,
        inputs: dict[str, Any] | None,
    ) -> None:
        self._add_kind(STATE)
        self._add_time(time)
        self._add_node(node)
        self._add_int(_STATE_CODE[state] | attempt << _STATE_BITS)
        self._add_payload(error if inputs is None else ErrorAndInputs(error, inputs))

    def node_output(self, time: float, node: Node, attempt: int, outputs: dict[str, Any]) -> None:
        self._add_kind(OUTPUT)
        self._add_time(time)
        self._add_node(node)
        self._add_int(attempt)
        self._add_payload(outputs)

    # -- reading ------------------------------------------------------------------------

    def since(self, index: int, end: int | None = None) -> list[Event]:
        """The typed events from position `index` on (up to `end`, exclusive)."""
        return [self.event(i) for i in range(index, len(self._kinds) if end is None else end)]

    def columns(self, index: int, end: int) -> tuple[bytes, array, list, array, list]:
        """Rows `index` to `end` as raw columns (kind, time, node, packed int, payload), for
        a reader that handles many rows and would rather not build an event per row (the
        history writer). Decode with `ADDED`/`STATE`/`OUTPUT` and `unpack_state`."""
        return (
            bytes(self._kinds[index:end]),
            self._times[index:end],
            self._nodes[index:end],
            self._ints[index:end],
            self._payloads[index:end],
        )

    @property
    def complete(self) -> int:
        """Rows written in full. A row's columns are appended one by one, payload last, so
        a reader on another thread (the history writer) reads only below this bound."""
        return len(self._payloads)

    def event(self, i: int) -> Event:
        kind = self._kinds[i]
        payload = self._payloads[i]
        if kind == OBJECT:
            return payload
        node = self._nodes[i]
        assert node is not None
        time = self._times[i]
        if kind == STATE:
            state, attempt = unpack_state(self._ints[i])
            if type(payload) is ErrorAndInputs:
                return NodeStateChanged(
                    time, self.run_id, node.id, state, attempt, payload.error, payload.inputs
                )
            return NodeStateChanged(time, self.run_id, node.id, state, attempt, payload)
        if kind == OUTPUT:
            return NodeOutput(time, self.run_id, node.id, self._ints[i], payload)
        return NodeAdded(time, self.run_id, node.id, node.tool.name, payload, node.group)
