"""Decisions about a whole run that change no state: which nodes a re-run executes, what
a finished run's outputs are, and the error it ends with. Pure functions of the graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ._graph import TaskGraph
from ._node import Node, NodeKind, count_states
from ._refs import collect_refs, resolve_refs
from ._states import UNSUCCESSFUL_NODE_STATES, NodeState, RunState
from .errors import RunCancelled, RunError, RunFailed, RunTimedOut

RerunMode = Literal["node", "downstream", "failed"]
RERUN_MODES = ("node", "downstream", "failed")


def rerun_targets(
    graph: TaskGraph, node_ids: list[str] | None, mode: str
) -> tuple[list[Node], list[Node]]:
    """(nodes to re-run in topological order, maps to expand afresh).

    - "node": the given nodes;
    - "downstream": the given nodes and everything downstream of them;
    - "failed": failed, timed-out, cancelled and skipped nodes (all of them, or those
      among `node_ids`) and everything downstream of them.
    """
    nodes = graph._nodes
    if mode not in RERUN_MODES:
        raise ValueError(f"mode must be one of {RERUN_MODES}, got {mode!r}")
    if mode == "failed":
        pool = [node_of(graph, i) for i in node_ids] if node_ids else nodes.values()
        roots = [n for n in pool if n.state in UNSUCCESSFUL_NODE_STATES]
    else:
        if not node_ids:
            raise ValueError(f"mode={mode!r} needs the ids of the nodes to re-run")
        roots = [node_of(graph, i) for i in node_ids]
    chosen = {n.id for n in roots}
    if mode != "node":
        stack = list(roots)
        while stack:
            for dependent in stack.pop().dependents:
                if dependent.id not in chosen:
                    chosen.add(dependent.id)
                    stack.append(dependent)
    for node in roots:  # re-running a map directly re-runs all of its items
        if node.kind is NodeKind.MAP and mode != "failed":
            chosen.update(c.id for c in node.children or ())
    reexpand = []
    for node in list(nodes.values()):
        if (
            node.kind is NodeKind.MAP
            and node.id in chosen
            and node.children
            and any(u in chosen for u in node.upstream)
        ):
            # Its inputs will change: it expands afresh when they resolve.
            chosen.difference_update(c.id for c in node.children)
            reexpand.append(node)
    return [n for n in nodes.values() if n.id in chosen], reexpand


def node_of(graph: TaskGraph, node_id: str) -> Node:
    try:
        return graph._nodes[node_id]
    except KeyError:
        raise KeyError(f"graph {graph.name!r} has no node {node_id!r}") from None


def graph_outputs(graph: TaskGraph) -> dict[str, Any]:
    """The graph's outputs whose nodes succeeded (all of them when the run did)."""
    nodes = graph._nodes
    outputs = {}
    for name, value in graph.outputs.items():
        found: list[str] = []
        collect_refs(value, found)
        if all(nodes[i].state is NodeState.SUCCEEDED for i in found):
            outputs[name] = resolve_refs(value, nodes)
    return outputs


def run_error(
    run_id: str,
    name: str,
    graph: TaskGraph,
    state: RunState,
    outputs: Mapping[str, Any],
    body_error: BaseException | None,
    timeout: float | None,
) -> RunError:
    """The error a run that did not succeed ends with: which nodes failed and how, and
    the per-state counts. `timeout` is set when the run's own timeout ended it."""
    errors: dict[str, BaseException] = {
        node.id: node.error
        for node in graph._nodes.values()
        if node.state in (NodeState.FAILED, NodeState.TIMED_OUT) and node.error
    }
    if body_error is not None:
        errors[name] = body_error
    counts = {s.value: n for s, n in count_states(graph._nodes.values()).items() if n}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no nodes"
    options = {"run_id": run_id, "errors": errors, "partial_outputs": outputs}
    if state is RunState.CANCELLED:
        return RunCancelled(f"run {name!r} ({run_id}) was cancelled ({summary})", **options)
    if timeout is not None:
        message = f"run {name!r} ({run_id}) timed out after {timeout:g}s ({summary})"
        return RunTimedOut(message, **options)
    shown = list(errors.items())[:5]
    detail = "; ".join(f"{k}: {type(e).__name__}: {e}" for k, e in shown)
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    message = f"run {name!r} ({run_id}) failed: {len(errors)} failed [{detail}{more}] ({summary})"
    return RunFailed(message, **options)


def agent_outputs(returned: Any) -> dict[str, Any]:
    """What an agent body returned, as the run's outputs."""
    if returned is None:
        return {}
    if isinstance(returned, Mapping):
        return dict(returned)
    return {"result": returned}


def judge_round(nodes: list[Node] | None) -> RunState:
    """The outcome of a round whose nodes all ended: succeeded if every one did, failed if
    one failed or timed out, else cancelled."""
    states = {node.state for node in nodes or ()}
    if states <= {NodeState.SUCCEEDED}:
        return RunState.SUCCEEDED
    if states & {NodeState.FAILED, NodeState.TIMED_OUT}:
        return RunState.FAILED
    return RunState.CANCELLED
