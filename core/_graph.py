"""The task graph: nodes, references between them, validation and topological order.

One `Node` object is both the graph's description of a tool call and the run's record of
it (state, outputs, attempts). A graph is built for exactly one run (graphify builders
run with that run's concrete inputs), so keeping them apart would only double the
objects per node, and objects per node are what a 100k-node run pays for (docs/design.md §4.3).
"""

from __future__ import annotations

from collections import deque
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, NamedTuple

from ._states import NodeState
from .errors import GraphBuildError

if TYPE_CHECKING:
    import asyncio

    from ._tool import Tool


class Ref:
    """A reference to one output (`key`) of node `node_id`, or to its whole output dict
    when `key` is None. Resolved to the concrete value when the node's inputs are ready."""

    __slots__ = ("key", "node_id")

    def __init__(self, node_id: str, key: str | None = None) -> None:
        self.node_id = node_id
        self.key = key

    def __repr__(self) -> str:
        return f"Ref({self.node_id!r}, {self.key!r})" if self.key else f"Ref({self.node_id!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Ref and other.node_id == self.node_id and other.key == self.key

    def __hash__(self) -> int:
        return hash((self.node_id, self.key))


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


class _OnSide:
    """A seldom-set node attribute, kept on the node's side object (`Node._rare`): a slot
    costs 8 B on every node of a 100k-node run, and these are set on a few at most."""

    def __init__(self, default: Any = None, *, doc: str) -> None:
        self.default = default
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.field = name.lstrip("_")  # its name on `_Rare`

    def __get__(self, node: Node | None, owner: type | None = None) -> Any:
        if node is None:
            return self
        rare = node._rare
        return self.default if rare is None else getattr(rare, self.field)

    def __set__(self, node: Node, value: Any) -> None:
        if value is not self.default or node._rare is not None:
            setattr(node._side(), self.field, value)


class Node:
    """A tool call in a graph, and the record of its execution in the run.

    Public read-only attributes: `id`, `tool`, `kind`, `group`, `state`, `inputs`,
    `outputs`, `error`, `attempts`, `started_at`, `finished_at`.
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
        # Ids of the nodes this one reads from (deduplicated), and the Node objects that
        # read from this one (filled in when the graph is finalised).
        self.upstream: tuple[str, ...] = upstream
        # A tuple once finalised: ~40 B less per node than a list (measured at 100k nodes).
        self.dependents: tuple[Node, ...] | list[Node] | None = None
        self.state = NodeState.PENDING
        self.outputs: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.attempt = 0  # number of the current attempt; 0 = never ran
        self._waiting = 0  # upstream nodes (or map children) not yet finished
        self._worker: asyncio.Task[None] | None = None  # the worker executing it
        self._waiter: asyncio.Future[dict[str, Any]] | None = None  # graph_fn awaits this
        self._rare: _Rare | None = None

    where = _OnSide(doc="The remote worker the last attempt ran on (None: this process).")
    children = _OnSide(
        doc="A map node's children, one per item, once it expanded (None before, and "
        "for every other node)."
    )
    _override = _OnSide(doc="Inputs edited for the node's next re-run.")
    _history = _OnSide(doc="Attempts before the current one (retries, re-runs).")
    _cancel_requested = _OnSide(False, doc="`cancel_node` asked for this attempt to stop.")

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
    def attempts(self) -> AttemptList:
        past = AttemptList(self._history or ())
        if self.attempt and (not past or past[-1].number != self.attempt):
            past.append(
                Attempt(self.attempt, self.state, self.started_at, self.finished_at, self.error)
            )
        return past

    @property
    def tool_name(self) -> str:
        return self.tool.name

    def archive_attempt(self, outcome: NodeState) -> None:
        """Move the current attempt into the history (before a retry or a re-run)."""
        if not self.attempt:
            return
        history = self._history
        if history is None:
            history = self._history = []
        elif history[-1].number == self.attempt:
            return
        history.append(
            Attempt(self.attempt, outcome, self.started_at, self.finished_at, self.error)
        )

    def __repr__(self) -> str:
        return f"<Node {self.id} {self.tool.name} {self.state.value}>"


def count_states(nodes: Iterable[Node]) -> dict[NodeState, int]:
    """How many of `nodes` are in each state (every state present, zeros included)."""
    result = dict.fromkeys(NodeState, 0)
    for node in nodes:
        result[node.state] += 1
    return result


class _Rare:
    __slots__ = ("cancel_requested", "children", "history", "override", "where")

    def __init__(self) -> None:
        self.cancel_requested = False
        self.children: list[Node] | None = None
        self.history: list[Attempt] | None = None
        self.override: dict[str, Any] | None = None
        self.where: str | None = None


class NodeHandle:
    """What calling a tool inside a graphify builder returns.

    `handle.out` (or `handle["out"]`) is a reference to output `out`; passing the handle
    itself refers to the whole output dict. Handles and refs may be nested in lists and
    dicts given to other tools (fan-in).
    """

    __slots__ = ("_node",)

    def __init__(self, node: Node) -> None:
        self._node = node

    @property
    def node_id(self) -> str:
        return self._node.id

    def __getitem__(self, key: str) -> Ref:
        node = self._node
        declared = node.tool.outputs
        if declared is not None and key not in declared:
            raise GraphBuildError(
                f"node {node.id!r}: tool {node.tool.name!r} has no output "
                f"{key!r} (its outputs: {', '.join(declared)})"
            )
        return Ref(node.id, key)

    def __getattr__(self, key: str) -> Ref:
        if key[:2] == "__":
            raise AttributeError(key)
        return self.__getitem__(key)

    def __iter__(self) -> Iterator[Any]:
        # Without this, `for x in handle` would loop forever over __getitem__(0), (1), …
        raise GraphBuildError(
            f"node {self._node.id!r}: its outputs are not known while the graph is built; "
            "to fan out over a value computed at run time, call `some_tool.map(x=ref)`"
        )

    def __repr__(self) -> str:
        return f"<NodeHandle {self._node.id}>"


#: `object.__new__`, looked up once (each lookup makes a bound method): the handles and refs
#: a builder makes skip their __init__, one frame less each (a 10k-node build makes 20k)
new_bare = object.__new__


def handle_type(outputs: tuple[str, ...] | None) -> type[NodeHandle]:
    """A NodeHandle subclass with one property per declared output (made once per tool).

    `handle.out` is then a plain attribute, where `__getattr__` would first have Python
    fail the normal lookup and build an AttributeError (~1 µs per reference; a 100k-way
    fan-in makes 100k of them).
    """
    names = [k for k in outputs or () if k.isidentifier() and not hasattr(NodeHandle, k)]
    if not names:
        return NodeHandle
    namespace: dict[str, Any] = {"__slots__": ()}
    for name in names:
        namespace[name] = property(_output_ref(name), doc=f"a reference to output {name!r}")
    return type("NodeHandle", (NodeHandle,), namespace)


def _output_ref(key: str) -> Any:
    def ref(handle: NodeHandle) -> Ref:
        made = new_bare(Ref)
        made.node_id = handle._node.id
        made.key = key
        return made

    return ref


_SCALARS = frozenset({int, float, str, bool, bytes, type(None)})


def collect_refs(value: Any, found: list[str]) -> Any:
    """Return `value` with every NodeHandle replaced by a Ref, appending referenced node ids
    to `found`. Containers are copied only when they hold a reference."""
    kind = type(value)
    if kind is Ref:
        found.append(value.node_id)
        return value
    if kind is list or kind is tuple:
        before = len(found)
        items = []
        for item in value:
            item_kind = type(item)
            if item_kind is Ref:  # a fan-in's list of `handle.out`: no call per item
                found.append(item.node_id)
            elif item_kind not in _SCALARS:
                item = collect_refs(item, found)
            items.append(item)
        if len(found) == before:
            return value
        return items if kind is list else tuple(items)
    if kind is dict:
        items_d = None
        for k, v in value.items():
            if type(v) in _SCALARS:
                continue
            converted = collect_refs(v, found)
            if converted is not v:
                if items_d is None:
                    items_d = dict(value)
                items_d[k] = converted
        return value if items_d is None else items_d
    if isinstance(value, NodeHandle):  # (one handle class per tool: no registry of them)
        found.append(value._node.id)
        return Ref(value._node.id)
    if hasattr(value, "_graphdeck_refs_"):  # SubgraphHandle and similar composites
        return collect_refs(value._graphdeck_refs_(), found)
    return value


def resolve_refs(value: Any, nodes: Mapping[str, Node]) -> Any:
    """Replace every Ref in `value` by the concrete output it points to."""
    kind = type(value)
    if kind is dict:
        return dict(zip(value, _resolve_all(value.values(), nodes), strict=True))
    if kind is list:
        return _resolve_all(value, nodes)
    if kind is tuple:
        return tuple(_resolve_all(value, nodes))
    if kind is Ref:
        return _resolve_all((value,), nodes)[0]
    return value


def _resolve_all(items: Iterable[Any], nodes: Mapping[str, Node]) -> list[Any]:
    """`items` resolved, as a list: the one place a Ref is read, with no call per item
    (a fan-in has thousands)."""
    resolved = []
    for item in items:
        item_type = type(item)
        if item_type is Ref:
            outputs = nodes[item.node_id].outputs
            assert outputs is not None, f"{item} read before its node succeeded"
            item = outputs if item.key is None else outputs[item.key]
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
        self._finalized = False
        self._linked = False  # dependents were set by a finalize()
        # Invariant: while True, every node's upstream was added before it, so insertion
        # order is topological and no cycle is possible.
        self._ordered = True

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

    # -- building -----------------------------------------------------------------------

    def add_node(
        self,
        node_id: str,
        tool: Tool,
        inputs: Mapping[str, Any] | None = None,
        kind: str = NodeKind.TOOL,
        group: str | None = None,
    ) -> Node:
        """Add a call of `tool` with `inputs` (values, Refs or NodeHandles, possibly nested).

        References may point to nodes added later; `finalize()` checks them all. The
        inputs mapping is kept, not copied: the caller hands it over.
        """
        nodes = self._nodes
        if node_id in nodes:
            raise GraphBuildError(f"duplicate node id {node_id!r}")
        if type(inputs) is not dict:
            inputs = dict(inputs or {})
        clean = inputs
        found: list[str] | None = None
        for value in inputs.values():  # the common case, kept short: values and refs
            value_type = type(value)
            if value_type in _SCALARS:
                continue
            if value_type is Ref:
                if found is None:
                    found = []
                found.append(value.node_id)
            else:  # handles, containers: the general walk
                found = []
                clean = collect_refs(inputs, found)
                break
        if not found:
            upstream: tuple[str, ...] = ()
        else:
            upstream = (found[0],) if len(found) == 1 else tuple(dict.fromkeys(found))
            for upstream_id in upstream:
                if upstream_id not in nodes:
                    self._ordered = False  # a forward reference: finalize() must sort
        node = nodes[node_id] = Node(node_id, tool, clean, upstream, kind, group)
        self._finalized = False
        return node

    def _append_node(self, node: Node) -> None:
        """Add a node whose upstream is already in the graph (graph_fn calls, map
        children); keeps topological order without re-validating."""
        self._nodes[node.id] = node

    def finalize(self) -> TaskGraph:
        """Check every reference, reject cycles, order nodes topologically and link each
        node to its dependents. Idempotent."""
        if self._finalized:
            return self
        nodes = self._nodes
        if self._linked:  # finalised before, then nodes were added: link afresh
            for node in nodes.values():
                node.dependents = None
        # Dependents tuples are shared between nodes with the same dependents (every
        # branch of a fan-in has the same one): ~90 B per node saved on the shapes that
        # matter. A node's first dependent gives it a shared 1-tuple; more make a list,
        # turned into a (shared) tuple at the end.
        single: dict[Node, tuple[Node, ...]] = {}
        grown: list[Node] = []
        for node in nodes.values():
            if not node.upstream:
                continue
            for upstream_id in node.upstream:
                source = nodes.get(upstream_id)
                if source is None:
                    raise GraphBuildError(
                        f"node {node.id!r} ({node.tool.name}) refers to unknown node "
                        f"{upstream_id!r}"
                    )
                dependents = source.dependents
                if dependents is None:
                    source.dependents = single.get(node) or single.setdefault(node, (node,))
                elif type(dependents) is tuple:
                    source.dependents = [*dependents, node]
                    grown.append(source)
                else:
                    dependents.append(node)  # type: ignore[union-attr]
            _check_ref_keys(node, nodes)
        self._linked = True
        for name, value in self.outputs.items():
            found: list[str] = []
            self.outputs[name] = collect_refs(value, found)
            for upstream_id in found:
                if upstream_id not in nodes:
                    raise GraphBuildError(
                        f"graph output {name!r} refers to unknown node {upstream_id!r}"
                    )
        shared: dict[tuple[Node, ...], tuple[Node, ...]] = {}
        for node in grown:
            dependents = tuple(node.dependents or ())
            node.dependents = shared.setdefault(dependents, dependents)
        if not self._ordered:
            self._nodes = _topological(nodes)
            self._ordered = True
        self._finalized = True
        return self


def _check_ref_keys(node: Node, nodes: Mapping[str, Node]) -> None:
    """Every `Ref(x, key)` in the node's inputs must name an output x's tool declares."""
    _check_refs_in(node, node.declared_inputs.values(), nodes)


def _check_refs_in(node: Node, items: Any, nodes: Mapping[str, Node]) -> None:
    for item in items:
        kind = type(item)
        if kind is Ref:
            declared = nodes[item.node_id].tool.outputs
            if item.key is not None and declared is not None and item.key not in declared:
                source = nodes[item.node_id]
                raise GraphBuildError(
                    f"node {node.id!r} ({node.tool.name}) reads output {item.key!r} of "
                    f"node {source.id!r}, but tool {source.tool.name!r} declares only "
                    f"{', '.join(declared)}"
                )
        elif kind is list or kind is tuple:
            _check_refs_in(node, item, nodes)
        elif kind is dict:
            _check_refs_in(node, item.values(), nodes)


def _topological(nodes: dict[str, Node]) -> dict[str, Node]:
    """Kahn's algorithm, stable with respect to insertion order; raises on a cycle."""
    indegree = {node_id: len(node.upstream) for node_id, node in nodes.items()}
    queue = deque(node for node_id, node in nodes.items() if indegree[node_id] == 0)
    ordered: dict[str, Node] = {}
    while queue:
        node = queue.popleft()
        ordered[node.id] = node
        for dependent in node.dependents or ():
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
