"""The task graph: nodes, references between them, validation and topological order.

One `Node` object is both the graph's description of a tool call and the run's record of
it (state, outputs, attempts). A graph is built for exactly one run (graphify builders run
with that run's concrete inputs), so keeping them apart would only double the objects per
node, and objects per node are what a 100k-node run pays for (docs/design.md §4.3).
"""

from __future__ import annotations

from collections import deque
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, Sequence, ValuesView
from typing import Any, NamedTuple

from ._states import NodeState
from ._tool import Tool
from .errors import GraphBuildError


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
    of a 100k-node run cost 4 MB (docs/design.md §5)."""

    __slots__ = ("cancel_requested", "children", "history", "override", "where")

    def __init__(self) -> None:
        self.cancel_requested = False  # `cancel_node` asked the running attempt to stop
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


_SCALARS = frozenset({int, float, str, bool, bytes, type(None)})


def collect_refs(value: Any, found: list[str]) -> Any:
    """Return `value` with every reference-like object (a builder's handle) replaced by a
    Ref, appending every referenced node id to `found`. Containers are copied only when
    something in them had to be replaced."""
    kind = type(value)
    if kind is Ref:
        found.append(value.node_id)
        return value
    if kind is list or kind is tuple:
        replaced = None
        for index, item in enumerate(value):
            item_kind = type(item)
            if item_kind is Ref:  # a fan-in's list of `handle.out`: no call per item
                found.append(item.node_id)
            elif item_kind not in _SCALARS:
                converted = collect_refs(item, found)
                if converted is not item:
                    if replaced is None:
                        replaced = list(value)
                    replaced[index] = converted
        if replaced is None:
            return value
        return replaced if kind is list else tuple(replaced)
    if kind is dict:
        copied = None
        for key, item in value.items():
            if type(item) in _SCALARS:
                continue
            converted = collect_refs(item, found)
            if converted is not item:
                if copied is None:
                    copied = dict(value)
                copied[key] = converted
        return value if copied is None else copied
    # Builder handles and subgraph results say what they refer to. (Looked up on the class:
    # a user object answering any attribute, such as a mock, is a plain value.)
    as_refs = getattr(kind, "_graphdeck_refs_", None)
    if as_refs is not None:
        return collect_refs(as_refs(value), found)
    return value


def _shallow_refs(inputs: dict[str, Any], found: list[str]) -> bool:
    """The usual inputs: values, Refs and lists of Refs (a fan-in). Appends the node ids
    they refer to and returns True; False when the inputs need `collect_refs`."""
    for value in inputs.values():
        value_type = type(value)
        if value_type is Ref:
            found.append(value.node_id)
        elif value_type is list:
            for item in value:
                if type(item) is Ref:
                    found.append(item.node_id)
                elif type(item) not in _SCALARS:
                    return False
        elif value_type not in _SCALARS:
            return False
    return True


def resolve_refs(value: Any, nodes: Mapping[str, Node]) -> Any:
    """Replace every Ref in `value` by the concrete output it points to."""
    kind = type(value)
    if kind is dict:
        return resolve_inputs(value, nodes)
    if kind is list:
        return _resolve_all(value, nodes)
    if kind is tuple:
        return tuple(_resolve_all(value, nodes))
    if kind is Ref:
        return _resolve_all((value,), nodes)[0]
    return value


def resolve_inputs(inputs: dict[str, Any], nodes: Mapping[str, Node]) -> dict[str, Any]:
    """A node's inputs with every Ref replaced by the value it points to."""
    return dict(zip(inputs, _resolve_all(inputs.values(), nodes), strict=True))


def _resolve_all(items: Iterable[Any], nodes: Mapping[str, Node]) -> list[Any]:
    """`items` resolved, as a list: the one place a Ref is read, with no call per Ref or
    per list of Refs (a fan-in has thousands; a DAG node's inputs, a few)."""
    resolved = []
    for item in items:
        item_type = type(item)
        if item_type is Ref:
            outputs = nodes[item.node_id].outputs
            assert outputs is not None, f"{item} read before its node succeeded"
            item = outputs if item.key is None else outputs[item.key]
        elif item_type is list:
            item = _resolve_all(item, nodes)
        elif item_type not in _SCALARS:
            item = resolve_refs(item, nodes)
        resolved.append(item)
    return resolved


class NodeView:
    """The nodes of a graph in topological order.

    Iterating yields the `Node` objects; `view["id"]` looks one up by id and `view[i]`
    gives the i-th in order; `keys()`, `values()`, `items()` and `get()` behave as on a
    dict from id to node.
    """

    __slots__ = ("_nodes",)

    def __init__(self, nodes: dict[str, Node]) -> None:
        self._nodes = nodes

    def __getitem__(self, key: str | int) -> Node:
        if isinstance(key, int):
            return list(self._nodes.values())[key]
        return self._nodes[key]

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, Node):
            return self._nodes.get(key.id) is key
        return key in self._nodes

    def get(self, node_id: str, default: Node | None = None) -> Node | None:
        return self._nodes.get(node_id, default)

    def keys(self) -> KeysView[str]:
        return self._nodes.keys()

    def values(self) -> ValuesView[Node]:
        return self._nodes.values()

    def items(self) -> ItemsView[str, Node]:
        return self._nodes.items()

    def __repr__(self) -> str:
        return f"<NodeView {len(self)} nodes>"


class EdgeView:
    """The edges (upstream id, downstream id) of a graph, in topological order of the
    downstream node. Computed on access: the graph stores adjacency, not edge objects."""

    __slots__ = ("_nodes",)

    def __init__(self, nodes: dict[str, Node]) -> None:
        self._nodes = nodes

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for node in self._nodes.values():
            for upstream_id in node.upstream:
                yield (upstream_id, node.id)
            for child in node.children or ():
                yield (child.id, node.id)

    def __len__(self) -> int:
        return sum(len(n.upstream) + len(n.children or ()) for n in self._nodes.values())

    def __contains__(self, edge: object) -> bool:
        if not (isinstance(edge, tuple) and len(edge) == 2):
            return False
        node = self._nodes.get(edge[1])
        return node is not None and (
            edge[0] in node.upstream or any(c.id == edge[0] for c in node.children or ())
        )

    def __repr__(self) -> str:
        return f"<EdgeView {len(self)} edges>"


class TaskGraph:
    """A static DAG of tool calls: what a graphify builder produced, or what a graph_fn
    run has called so far. Inspectable before any node starts.

    `nodes` (topological order), `edges`, `inputs` (the graph's input values), `outputs`
    (name -> Ref or constant), `topological_order()`.
    """

    def __init__(self, name: str, inputs: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.inputs: dict[str, Any] = dict(inputs or {})
        self.outputs: dict[str, Any] = {}
        self._nodes: dict[str, Node] = {}
        # Nodes added before one of their upstream nodes (hand-built graphs): linked, and
        # the graph sorted, by `finalize`.
        self._forward: list[Node] = []
        # Nodes that got a second dependent while the graph grew (a list, made a shared
        # tuple by `finalize`).
        self._grown: list[Node] = []
        self._by_hand = Ref.by_hand  # (see `Ref.by_hand`)
        self._finalized = False

    @property
    def nodes(self) -> NodeView:
        return NodeView(self._nodes)

    @property
    def edges(self) -> EdgeView:
        return EdgeView(self._nodes)

    def topological_order(self) -> list[str]:
        return list(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __repr__(self) -> str:
        return f"<TaskGraph {self.name!r}: {len(self._nodes)} nodes>"

    def prepare(self, inputs: Mapping[str, Any] | None) -> tuple[TaskGraph, None]:
        """What `graphdeck.start` runs for a prebuilt graph: the graph itself (no agent)."""
        if inputs:
            raise GraphBuildError("a prebuilt TaskGraph takes no inputs; they are in its nodes")
        if any(node.state is not NodeState.PENDING for node in self._nodes.values()):
            raise GraphBuildError(
                f"TaskGraph {self.name!r} has already run; build a new one to run it again "
                "(or use Run.rerun)"
            )
        return self.finalize(), None

    # -- building -----------------------------------------------------------------------

    def add_node(
        self,
        node_id: str,
        tool: Tool,
        inputs: Mapping[str, Any] | None = None,
        kind: str = NodeKind.TOOL,
        group: str | None = None,
    ) -> Node:
        """Add a call of `tool` with `inputs` (values, Refs or handles, possibly nested).

        Each reference is checked here, where it is made, against the node it names when
        that node exists already (the usual case); references to nodes added later are
        checked by `finalize()`. The inputs mapping is kept, not copied.
        """
        nodes = self._nodes
        if node_id in nodes:
            raise GraphBuildError(f"duplicate node id {node_id!r}")
        if type(inputs) is not dict:
            inputs = dict(inputs or {})
        found: list[str] = []
        if not _shallow_refs(inputs, found):  # handles, nested containers: the general walk
            found.clear()
            inputs = collect_refs(inputs, found)
        upstream: tuple[str, ...] = (
            () if not found else (found[0],) if len(found) == 1 else tuple(dict.fromkeys(found))
        )
        node = Node(node_id, tool, inputs, upstream, kind, group)
        if upstream:
            self._link(node)
        nodes[node_id] = node
        self._finalized = False
        return node

    def _link(self, node: Node) -> None:
        """Register `node` as a dependent of its upstream nodes and check the output keys
        it reads. A node's first dependent is a 1-tuple shared by all of its upstream
        nodes (every branch of a fan-in has the same one: no list per node)."""
        nodes = self._nodes
        alone = (node,)
        for upstream_id in node.upstream:
            source = nodes.get(upstream_id)
            if source is None:
                self._forward.append(node)
                return
            dependents = source.dependents
            if not dependents:
                source.dependents = alone
            elif type(dependents) is tuple:
                source.dependents = [*dependents, node]
                self._grown.append(source)
            else:
                dependents.append(node)

    def append(self, node: Node) -> None:
        """Add a node whose upstream is already in the graph and linked (graph_fn calls,
        map children): keeps topological order without re-validating."""
        self._nodes[node.id] = node

    def finalize(self) -> TaskGraph:
        """Link and check forward references, reject cycles, order nodes topologically,
        and check the graph's outputs. Idempotent."""
        if self._finalized:
            return self
        nodes = self._nodes
        if self._forward:
            for node in nodes.values():  # link afresh: some links were never made
                node.dependents = ()
            self._grown = []
            for node in nodes.values():
                if node.upstream:
                    self._link_known(node)
            self._nodes = _topological(nodes)
            self._forward = []
        for name, value in self.outputs.items():
            found: list[str] = []
            self.outputs[name] = collect_refs(value, found)
            for upstream_id in found:
                if upstream_id not in self._nodes:
                    raise GraphBuildError(
                        f"graph output {name!r} refers to unknown node {upstream_id!r}"
                    )
        if Ref.by_hand != self._by_hand:  # a hand-made Ref may name an undeclared output
            for node in self._nodes.values():
                _check_ref_keys(node, node.declared_inputs.values(), self._nodes)
            self._by_hand = Ref.by_hand
        shared: dict[tuple[Node, ...], tuple[Node, ...]] = {}
        for node in self._grown:
            dependents = tuple(node.dependents)
            node.dependents = shared.setdefault(dependents, dependents)
        self._grown = []
        self._finalized = True
        return self

    def _link_known(self, node: Node) -> None:
        for upstream_id in node.upstream:
            if upstream_id not in self._nodes:
                raise GraphBuildError(
                    f"node {node.id!r} ({node.tool.name}) refers to unknown node {upstream_id!r}"
                )
        self._link(node)


def _check_ref_keys(node: Node, items: Iterable[Any], nodes: Mapping[str, Node]) -> None:
    """Every `Ref(x, key)` in the node's inputs must name an output x's tool declares."""
    for item in items:
        kind = type(item)
        if kind is Ref:
            if item.key is None:
                continue
            source = nodes[item.node_id]
            declared = source.tool.outputs
            if declared is not None and item.key not in declared:
                raise GraphBuildError(
                    f"node {node.id!r} ({node.tool.name}) reads output {item.key!r} of "
                    f"node {source.id!r}, but tool {source.tool.name!r} declares only "
                    f"{', '.join(declared)}"
                )
        elif kind is list or kind is tuple:
            _check_ref_keys(node, item, nodes)
        elif kind is dict:
            _check_ref_keys(node, item.values(), nodes)


def _topological(nodes: dict[str, Node]) -> dict[str, Node]:
    """Kahn's algorithm, stable with respect to insertion order; raises on a cycle."""
    indegree = {node_id: len(node.upstream) for node_id, node in nodes.items()}
    queue = deque(node for node_id, node in nodes.items() if indegree[node_id] == 0)
    ordered: dict[str, Node] = {}
    while queue:
        node = queue.popleft()
        ordered[node.id] = node
        for dependent in node.dependents:
            indegree[dependent.id] -= 1
            if indegree[dependent.id] == 0:
                queue.append(dependent)
    if len(ordered) != len(nodes):
        raise GraphBuildError(_describe_cycle(nodes, ordered))
    return ordered


def _describe_cycle(nodes: dict[str, Node], ordered: dict[str, Node]) -> str:
    remaining = {node_id for node_id in nodes if node_id not in ordered}
    start = next(iter(node_id for node_id in nodes if node_id in remaining))
    path = [start]
    seen = {start: 0}
    current = start
    while True:
        current = next(u for u in nodes[current].upstream if u in remaining)
        if current in seen:
            cycle = [*path[seen[current] :], current]
            cycle.reverse()
            return f"cycle in graph: {' -> '.join(cycle)} (node {cycle[0]!r} depends on itself)"
        seen[current] = len(path)
        path.append(current)


def bind_graph_inputs(
    graph_name: str,
    declared: Sequence[str],
    defaults: Mapping[str, Any],
    given: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Check a run's inputs against the graph's declared ones, filling in defaults."""
    given = dict(given or {})
    unknown = [k for k in given if k not in declared]
    if unknown:
        raise GraphBuildError(
            f"graph {graph_name!r} got unknown input(s) {unknown}; "
            f"it takes {list(declared) or 'no inputs'}"
        )
    values = {k: given[k] if k in given else defaults[k] for k in declared if k in given}
    values.update({k: defaults[k] for k in declared if k not in given and k in defaults})
    missing = [k for k in declared if k not in values]
    if missing:
        raise GraphBuildError(f"graph {graph_name!r} is missing input(s) {missing}")
    return values
