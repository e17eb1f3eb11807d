"""Running a stored run again, reusing what it computed ("Re-run failed" from history).

The graph is rebuilt from its file with the stored inputs. A node keeps its stored
outputs (its tool is swapped for one that returns them, so the user's code is not called
again) when it succeeded, its outputs were stored restorably, it is the same call (same
tool, same declared inputs) and everything upstream of it is restored too. Everything
else runs.
"""

from __future__ import annotations

from typing import Any

from .. import NodeKind, TaskGraph, Tool, tool
from ._encode import REPR_KEY, decode, encode_inputs, unrestorable_keys
from ._store import StoredRun


def restored_inputs(
    stored: dict[str, Any], defaults: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The graph inputs of a stored run, ready to run it again, and the names of those
    that cannot be restored. An input kept only as its repr is restored when the graph's
    default for it has that same repr (a tuple default such as `topics=("a", "b")`)."""
    inputs = dict(stored)
    lost = []
    for name in sorted(unrestorable_keys(stored)):
        if name in defaults and repr(defaults[name])[:20_000] == stored[name][REPR_KEY]:
            inputs[name] = defaults[name]
        else:
            lost.append(name)
    return inputs, lost


def restorable_outputs(stored: StoredRun, graph: TaskGraph) -> dict[str, dict[str, Any]]:
    """Node id -> stored outputs, for the nodes of `graph` that need not run again."""
    by_id = {node.id: node for node in stored.nodes}
    restored: dict[str, dict[str, Any]] = {}
    for node in graph._nodes.values():  # topological: upstream is decided first
        old = by_id.get(node.id)
        if old is None or node.kind is not NodeKind.TOOL or old.kind != NodeKind.TOOL:
            continue
        outputs = old.restorable_outputs
        if (
            outputs is not None
            and old.tool == node.tool.name
            and old.inputs == _decoded_inputs(node.declared_inputs)
            and all(upstream in restored for upstream in node.upstream)
        ):
            restored[node.id] = outputs
    return restored


def _decoded_inputs(inputs: dict[str, Any]) -> Any:
    """The inputs as the history stores them (references as `$ref` markers)."""
    return decode(encode_inputs(inputs))


def restore(graph: TaskGraph, outputs: dict[str, dict[str, Any]]) -> TaskGraph:
    """Make the nodes in `outputs` return their stored outputs instead of running."""
    for node_id, values in outputs.items():
        node = graph.nodes[node_id]
        node.tool = _returning(node.tool, values)
    return graph


def _returning(original: Tool, values: dict[str, Any]) -> Tool:
    async def restored(**_inputs: Any) -> dict[str, Any]:
        return dict(values)

    restored.__doc__ = f"stored outputs of {original.name} (not recomputed)"
    return tool(outputs=list(original.outputs or values), name=original.name)(restored)
