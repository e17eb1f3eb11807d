"""Why a node was cancelled (or skipped), in words: "cancelled by you", "cancelled when
you cancelled the run", "stopped by the run's stop policy after b failed", "upstream a
was cancelled"…

The core records that a node was cancelled, not why, so the reason is worked out from
what is known: which cancels this window asked for (`RunTracker.cancel_asked`), the run's
policy, error and warnings, and the nodes upstream. It is exact for what this window did
and for a run's own rules; a cancel issued elsewhere (a script holding the Run) reads as
"the run was cancelled". (An exact cause would need the core to record it with the
CANCELLED state change; see the README.)
"""

from __future__ import annotations

from graphdeck import Node, NodeState, Run
from graphdeck.errors import CancellationIgnored, RunTimedOut

from .tracker import CancelAsked, RunTracker

UNSUCCESSFUL = (NodeState.FAILED, NodeState.TIMED_OUT)


def why_not_run(node: Node, run: Run, tracker: RunTracker | None) -> str:
    """For a cancelled or skipped node: why, in one sentence ("" for any other state)."""
    if node.state is NodeState.SKIPPED:
        return _why_skipped(node, run)
    if node.state is not NodeState.CANCELLED:
        return ""
    if isinstance(node.error, CancellationIgnored):
        return "it ignored cancellation past the grace period and was abandoned"
    asked = tracker.cancel_asked if tracker is not None else _NOBODY
    if node.id in asked.nodes:
        return "cancelled by you"
    if asked.run_at is not None and (node.finished_at or 0) >= asked.run_at:
        return "cancelled when you cancelled the run"
    if isinstance(run.error, RunTimedOut) or "timed out after" in str(run.error or ""):
        return "cancelled when the run timed out"
    reason = _stop_policy(node, run) or _upstream(node, run, asked.nodes)
    if reason:
        return reason
    if any(getattr(w, "kind", "") == "agent_returned" for w in getattr(run, "warnings", ())):
        return "cancelled: the agent returned before this call finished"
    return "cancelled with the run"


_NOBODY = CancelAsked()


def _stop_policy(node: Node, run: Run) -> str:
    """The first failure before `node` ended, if the run stops at the first failure."""
    if run.on_error != "stop":
        return ""
    ended = node.finished_at or float("inf")
    failures = [
        n for n in run.nodes.values() if n.state in UNSUCCESSFUL and (n.finished_at or 0) <= ended
    ]
    if not failures:
        return ""
    first = min(failures, key=lambda n: n.finished_at or 0)
    return f"stopped by the run's stop policy after {first.id} {_said(first.state)}"


def _upstream(node: Node, run: Run, asked: set[str]) -> str:
    nodes = run.nodes
    for upstream_id in node.upstream:
        upstream = nodes.get(upstream_id)
        if upstream is not None and upstream.state is NodeState.CANCELLED:
            by = " by you" if upstream_id in asked else ""
            return f"upstream {upstream_id} was cancelled{by}"
    return ""


def _why_skipped(node: Node, run: Run) -> str:
    nodes = run.nodes
    for upstream_id in node.upstream:
        upstream = nodes.get(upstream_id)
        if upstream is not None and upstream.state in (*UNSUCCESSFUL, NodeState.SKIPPED):
            return f"skipped: upstream {upstream_id} {_said(upstream.state)}"
    return "skipped: something it needs did not succeed"


def _said(state: NodeState) -> str:
    return state.value.replace("_", " ")
