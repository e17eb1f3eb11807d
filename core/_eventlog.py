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

_OBJECT, _ADDED, _STATE, _OUTPUT = 0, 1, 2, 3
_STATES = tuple(NodeState)
_STATE_CODE = {state: code for code, state in enumerate(_STATES)}
_STATE_BITS = 4  # 9 states fit in 4 bits; the attempt number is stored above them


class _ErrorAndInputs:
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
        self._add_kind(_OBJECT)
        self._add_time(event.time)
        self._add_node(None)
        self._add_int(0)
        self._add_payload(event)

    def node_added(self, time: float, node: Node) -> None:
        self._add_kind(_ADDED)
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
        self._add_kind(_STATE)
        self._add_time(time)
        self._add_node(node)
        self._add_int(_STATE_CODE[state] | attempt << _STATE_BITS)
        self._add_payload(error if inputs is None else _ErrorAndInputs(error, inputs))

    def node_output(self, time: float, node: Node, attempt: int, outputs: dict[str, Any]) -> None:
        self._add_kind(_OUTPUT)
        self._add_time(time)
        self._add_node(node)
        self._add_int(attempt)
        self._add_payload(outputs)

    # -- reading ------------------------------------------------------------------------

    def since(self, index: int) -> list[Event]:
        """The typed events from position `index` on."""
        return [self.event(i) for i in range(index, len(self._kinds))]

    def event(self, i: int) -> Event:
        kind = self._kinds[i]
        payload = self._payloads[i]
        if kind == _OBJECT:
            return payload
        node = self._nodes[i]
        assert node is not None
        time = self._times[i]
        if kind == _STATE:
            packed = self._ints[i]
            state = _STATES[packed & ((1 << _STATE_BITS) - 1)]
            attempt = packed >> _STATE_BITS
            if type(payload) is _ErrorAndInputs:
                return NodeStateChanged(
                    time, self.run_id, node.id, state, attempt, payload.error, payload.inputs
                )
            return NodeStateChanged(time, self.run_id, node.id, state, attempt, payload)
        if kind == _OUTPUT:
            return NodeOutput(time, self.run_id, node.id, self._ints[i], payload)
        return NodeAdded(time, self.run_id, node.id, node.tool.name, payload, node.group)
