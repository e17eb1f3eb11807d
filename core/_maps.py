"""Map nodes (`tool.map(...)` in a builder): one item per element of a list known only at
run time. The map expands when its inputs resolve and aggregates its items' outputs when
the last one ends; it holds no slot of the cap itself. Part of the run's state machine:
every change it makes goes through the machine's tables (`RunMachine._node`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._node import Node
from ._states import NodeState
from ._tool import map_items

PENDING, READY, RUNNING = NodeState.PENDING, NodeState.READY, NodeState.RUNNING
SUCCEEDED, FAILED, TIMED_OUT = NodeState.SUCCEEDED, NodeState.FAILED, NodeState.TIMED_OUT
CANCELLED = NodeState.CANCELLED


class MapNodes:
    """Expanding and aggregating map nodes (a part of `RunMachine`)."""

    # The machine's: its graph, the one way a state changes, and announcing a new node.
    graph: Any
    _node: Callable[..., None]
    add: Callable[[Node], None]

    def _expand(self, node: Node, resolved: dict[str, Any] | None) -> None:
        """A map's inputs are known: one child per item (holding no slot itself)."""
        children = node.children
        if children is not None:
            # A re-run that keeps the map's inputs (a re-run planned to change them drops
            # the children first): only the re-opened items run again.
            self._node(node, READY, None, resolved)
            self._node(node, RUNNING)
            node._waiting = sum(1 for c in children if not c.state.is_terminal)
            if node._waiting == 0:
                self._aggregate(node)
            return
        self._node(node, READY, None, resolved)
        self._node(node, RUNNING)
        try:
            items = map_items(node.tool, node.inputs)
        except Exception as exc:
            self._node(node, FAILED, exc)
            return
        children = []
        existing = self.graph._nodes
        for index, item in enumerate(items):
            child_id = f"{node.id}[{index}]"
            child = existing.get(child_id)
            if child is None:
                child = Node(child_id, node.tool, item, group=node.id)
                child.dependents = (node,)
                self.add(child)
            else:
                self._node(child, PENDING)
                child.declared_inputs = child.resolved_inputs = item
            children.append(child)
        node._side().children = children
        node._waiting = len(children)
        if not children:
            self._aggregate(node)
            return
        for child in children:
            self._node(child, READY)

    def _aggregate(self, node: Node) -> None:
        """Every item of a map ended: its outputs are per-key lists in item order."""
        children = node.children or []
        if all(c.state is SUCCEEDED for c in children):
            keys = node.tool.outputs or (tuple(children[0].outputs or ()) if children else ())
            outputs = {k: [(c.outputs or {}).get(k) for c in children] for k in keys}
            self._node(node, SUCCEEDED, None, outputs)
            return
        failed = [c for c in children if c.state in (FAILED, TIMED_OUT)]
        if not failed:
            self._node(node, CANCELLED)
            return
        first = failed[0]
        error = RuntimeError(
            f"{len(failed)} of {len(children)} items of {node.id!r} failed; "
            f"first: {first.id}: {first.error!r}"
        )
        error.__cause__ = first.error
        self._node(node, FAILED, error)
