"""A node: one tool call in a graph, and the record of its execution in the run.

One `Node` object is both the graph's description of a call and the run's record of it
(state, outputs, attempts). A graph is built for exactly one run (graphify builders run
with that run's concrete inputs), so keeping them apart would only double the objects per
node, and objects per node are what a 100k-node run pays for (docs/design.md §4.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from ._states import NodeState
from ._tool import Tool


class Ref:
    """A reference to one output (`key`) of node `node_id`, or to its whole output dict
    when `key` is None. Resolved to the concrete value when the node's inputs are ready."""

    __slots__ = ("key", "node_id")
    #: Refs made by calling `Ref(...)` (by hand) so far in this process. A builder's
    #: handles make theirs with `checked_ref`, for outputs the tool declares, so a graph
    #: checks every reference's key only when a hand-made Ref appeared while it was built.
    by_hand = 0

    def __init__(self, node_id: str, key: str | None = None) -> None:
        self.node_id = node_id
        self.key = key
        Ref.by_hand += 1

    def __repr__(self) -> str:
        return f"Ref({self.node_id!r}, {self.key!r})" if self.key else f"Ref({self.node_id!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Ref and other.node_id == self.node_id and other.key == self.key

    def __hash__(self) -> int:
        return hash((self.node_id, self.key))


_bare = object.__new__


def checked_ref(node_id: str, key: str | None) -> Ref:
    """A Ref whose key is known to be an output its node's tool declares (made by the
    builder): not counted in `Ref.by_hand`, so no check at `finalize`."""
    ref = _bare(Ref)
    ref.node_id = node_id
    ref.key = key
    return ref


class NodeKind:
    TOOL = "tool"  # executes its tool once per attempt, in a slot of the run's cap
    MAP = "map"  # expands into one child per item when its inputs resolve; holds no slot
    EXTERNAL = "external"  # executed elsewhere (a graphdeck.parallel item); only recorded


class Attempt(NamedTuple):
    """One past or current execution of a node."""

    number: int
    state: NodeState
    started_at: float | None
    finished_at: float | None
    error: BaseException | None


class AttemptList(list):
    """The attempts of a node, oldest first.

    It also compares equal to an int, its length, so both `len(rec.attempts) == 2` and
    `rec.attempts == 2` read naturally in scripts and tests.
    """

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int) and not isinstance(other, bool):
            return len(self) == other
        return list.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __int__(self) -> int:
        return len(self)


class _Rare:
    """The attributes few nodes ever set, kept off the node itself: five slots on every node
    of a 100k-node run cost 4 MB (docs/design.md §4.3)."""

    __slots__ = ("cancel_requested", "children", "edited", "history", "override", "where")

    def __init__(self) -> None:
        self.cancel_requested = False  # `cancel_node` asked the running attempt to stop
        self.edited = False  # this attempt runs with edited inputs (re-run, breakpoint)
        self.children: list[Node] | None = None  # a map's items, once it expanded
        self.history: list[Attempt] | None = None  # attempts before the current one
        self.override: dict[str, Any] | None = None  # inputs edited for the next re-run
        self.where: str | None = None  # the remote worker the last attempt ran on


class Node:
    """A tool call in a graph, and the record of its execution in the run.

    Public read-only attributes: `id`, `tool`, `kind`, `group`, `state`, `inputs`,
    `outputs`, `error`, `attempts`, `started_at`, `finished_at`, `where`, `children`.
    Only the run's state machine (`graphdeck._machine`) changes them.
    """

    __slots__ = (
        "_rare",
        "_waiter",
        "_waiting",
        "_worker",
        "attempt",
        "declared_inputs",
        "dependents",
        "error",
        "finished_at",
        "group",
        "id",
        "kind",
        "outputs",
        "resolved_inputs",
        "started_at",
        "state",
        "tool",
        "upstream",
    )

    def __init__(
        self,
        node_id: str,
        tool: Tool,
        inputs: dict[str, Any],
        upstream: tuple[str, ...] = (),
        kind: str = NodeKind.TOOL,
        group: str | None = None,
    ) -> None:
        self.id = node_id
        self.tool = tool
        self.kind = kind
        self.group = group
        # Invariant: `declared_inputs` may hold Refs; `resolved_inputs` never does, and is
        # None until the node became READY (or is the same dict when there were no refs).
        self.declared_inputs = inputs
        self.resolved_inputs: dict[str, Any] | None = None if upstream else inputs
        # Ids of the nodes this one reads from (deduplicated), and the nodes that read
        # from this one (a tuple, often shared between nodes; a list while a graph grows).
        self.upstream: tuple[str, ...] = upstream
        self.dependents: tuple[Node, ...] | list[Node] = ()
        self.state = NodeState.PENDING
        self.outputs: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.attempt = 0  # number of the current attempt; 0 = never ran
        # Invariant: while PENDING (or a map RUNNING), the number of upstream nodes (map:
        # children) that have not finished yet; the node becomes ready when it reaches 0.
        self._waiting = 0
        self._worker: Any = None  # the scheduler's worker task holding it, if any
        self._waiter: Any = None  # the future an agent awaits for it (graph_fn calls)
        self._rare: _Rare | None = None

    def _side(self) -> _Rare:
        rare = self._rare
        if rare is None:
            rare = self._rare = _Rare()
        return rare

    @property
    def inputs(self) -> dict[str, Any]:
        """The concrete inputs once resolved, else the declared ones (which may hold Refs)."""
        resolved = self.resolved_inputs
        return resolved if resolved is not None else self.declared_inputs

    @property
    def where(self) -> str | None:
        """The remote worker the last attempt ran on (None: this process)."""
        return None if self._rare is None else self._rare.where

    @property
    def children(self) -> list[Node] | None:
        """A map node's items, once it expanded (None before, and for other nodes)."""
        return None if self._rare is None else self._rare.children

    @property
    def inputs_edited(self) -> bool:
        """This attempt's inputs were edited by hand (a re-run's, or at a breakpoint)."""
        return self._rare is not None and self._rare.edited

    @property
    def cancel_requested(self) -> bool:
        """`cancel_node` asked the current attempt to stop."""
        return self._rare is not None and self._rare.cancel_requested

    @property
    def attempts(self) -> AttemptList:
        past = AttemptList(self._rare.history or () if self._rare is not None else ())
        if self.attempt and (not past or past[-1].number != self.attempt):
            past.append(
                Attempt(self.attempt, self.state, self.started_at, self.finished_at, self.error)
            )
        return past

    @property
    def tool_name(self) -> str:
        return self.tool.name

    def restore(
        self,
        state: NodeState,
        attempts: Sequence[Attempt],
        outputs: dict[str, Any] | None,
        where: str | None = None,
    ) -> None:
        """Make this record what a stored run says it was (history replay): not a state
        change of a run, so it bypasses the run's state machine."""
        self.state = state
        self.outputs = outputs
        if not attempts:
            return
        *earlier, last = attempts
        if earlier:
            self._side().history = list(earlier)
        if where is not None:
            self._side().where = where
        self.attempt = last.number
        self.started_at, self.finished_at, self.error = (
            last.started_at,
            last.finished_at,
            last.error,
        )

    def __repr__(self) -> str:
        return f"<Node {self.id} {self.tool.name} {self.state.value}>"


def count_states(nodes: Iterable[Node]) -> dict[NodeState, int]:
    """How many of `nodes` are in each state (every state present, zeros included)."""
    result = dict.fromkeys(NodeState, 0)
    for node in nodes:
        result[node.state] += 1
    return result
