"""Two runs side by side: per node, what changed between them.

    from graphdeck.store import compare
    report = compare(store.load(a_id), store.load(b_id))   # stored runs, or live ones

Outputs are compared by their stored form (what the history keeps: JSON, or a repr
marker for values JSON cannot hold), so a live run and a stored one compare alike.
"""

from __future__ import annotations

import json
from typing import Any

from ._encode import encode_mapping
from ._store import StoredRun

#: a node counts as slower (faster) when it took 20 % longer (shorter) than before, and
#: the difference is at least NOTICEABLE_S: a tool that returns at once takes
#: microseconds, and 20 % of that is the machine's noise, not a change
SLOWER = 1.2
FASTER = 1 / SLOWER
NOTICEABLE_S = 0.01


def compare(a: Any, b: Any) -> dict[str, Any]:
    """Per node present in either run: its state, seconds and attempts in each, whether its
    outputs are equal; and a summary. `a` and `b` are stored runs (`RunStore.load`) or
    runs with live node records (a `Run`, a `StoredRunView`).

    {"a": id, "b": id,
     "nodes": [{"id", "a_state", "b_state", "a_seconds", "b_seconds", "change",
                "outputs_equal", "a_attempts", "b_attempts"}, ...],
     "summary": {"only_a", "only_b", "state_changed", "slower", "faster",
                 "outputs_changed"}}   (lists of node ids)
    """
    left, right = _records(a), _records(b)
    nodes = []
    for node_id in [*left, *(i for i in right if i not in left)]:
        x, y = left.get(node_id), right.get(node_id)
        seconds = (x or {}).get("seconds"), (y or {}).get("seconds")
        both = x is not None and y is not None
        nodes.append(
            {
                "id": node_id,
                "a_state": x and x["state"],
                "b_state": y and y["state"],
                "a_seconds": seconds[0],
                "b_seconds": seconds[1],
                "change": _change(*seconds),
                "outputs_equal": x["outputs"] == y["outputs"] if both else None,  # type: ignore[index]
                "a_attempts": x and x["attempts"],
                "b_attempts": y and y["attempts"],
            }
        )
    return {"a": a.id, "b": b.id, "nodes": nodes, "summary": _summary(nodes)}


def _records(run: Any) -> dict[str, dict[str, Any]]:
    """node id -> {state, seconds, outputs (stored form), attempts} for either kind of run."""
    if isinstance(run, StoredRun):
        records = {}
        for node in run.nodes:
            last = node.attempts[-1] if node.attempts else None
            records[node.id] = {
                "state": node.state,
                "seconds": _seconds(last.started_at, last.finished_at) if last else None,
                "outputs": node.outputs,
                "attempts": len(node.attempts),
            }
        return records
    return {
        node.id: {
            "state": str(node.state),
            "seconds": _seconds(node.started_at, node.finished_at),
            "outputs": _stored_form(node.outputs),
            "attempts": len(node.attempts),
        }
        for node in run.nodes.values()
    }


def _stored_form(outputs: dict[str, Any] | None) -> Any:
    text, _ = encode_mapping(outputs)
    return None if text is None else json.loads(text)


def _seconds(started: float | None, finished: float | None) -> float | None:
    if started is None or finished is None:
        return None
    return round(finished - started, 6)


def _change(before: float | None, after: float | None) -> float | None:
    """`after / before` (1.5: half as long again), None without both."""
    if before is None or after is None or before <= 0:
        return None
    return round(after / before, 3)


def _noticeable(node: dict[str, Any]) -> bool:
    if node["change"] is None:
        return False
    return abs(node["b_seconds"] - node["a_seconds"]) >= NOTICEABLE_S


def _summary(nodes: list[dict[str, Any]]) -> dict[str, list[str]]:
    def ids(test: Any) -> list[str]:
        return [n["id"] for n in nodes if test(n)]

    return {
        "only_a": ids(lambda n: n["b_state"] is None),
        "only_b": ids(lambda n: n["a_state"] is None),
        "state_changed": ids(
            lambda n: None not in (n["a_state"], n["b_state"]) and n["a_state"] != n["b_state"]
        ),
        "slower": ids(lambda n: _noticeable(n) and n["change"] > SLOWER),
        "faster": ids(lambda n: _noticeable(n) and n["change"] < FASTER),
        "outputs_changed": ids(lambda n: n["outputs_equal"] is False),
    }
