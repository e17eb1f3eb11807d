"""The task graph: its nodes in topological order, links between them, validation.

A graph is built for one run: a graphify builder adds a node per tool call, with that
run's concrete inputs; an agent's run adds one per tool call it awaits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import ItemsView, Iterator, KeysView, Mapping, Sequence, ValuesView
from typing import Any

from ._node import Node, NodeKind, Ref
from ._refs import check_ref_keys, collect_refs, shallow_refs
from ._states import NodeState
from ._tool import Tool
from .errors import GraphBuildError


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
        if not shallow_refs(inputs, found):  # handles, nested containers: the general walk
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
                check_ref_keys(node, node.declared_inputs.values(), self._nodes)
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
