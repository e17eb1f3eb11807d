"""Node and run states, and the one table of legal node transitions.

Every state change of a node goes through `Scheduler.set_state`, which checks it against
`_TRANSITIONS`: an impossible change is caught where it happens instead of showing up
later as a wrong count in the monitor.
"""

from __future__ import annotations

from enum import StrEnum


class NodeState(StrEnum):
    """Lifecycle of one node (one tool call) inside a run."""

    PENDING = "pending"  # waiting for inputs
    READY = "ready"  # inputs resolved, queued for a slot of the run's cap
    RUNNING = "running"  # holds a slot; its tool body is executing
    RETRYING = "retrying"  # an attempt failed; waiting to try again (slot held)
    SUCCEEDED = "succeeded"  # outputs recorded
    FAILED = "failed"  # the last attempt raised
    TIMED_OUT = "timed_out"  # the last attempt ran past the tool's timeout
    CANCELLED = "cancelled"  # cancelled by the user, by its run, or by the stop policy
    SKIPPED = "skipped"  # an upstream node did not succeed, so it never ran

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_NODE_STATES


class RunState(StrEnum):
    """Lifecycle of a run. A finished run may be re-opened by `Run.rerun`."""

    PENDING = "pending"  # created, nothing started yet
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # a node failed (or the agent body raised, or the run timed out)
    CANCELLED = "cancelled"  # cancelled through its handle or by its parent run

    @property
    def is_terminal(self) -> bool:
        return self in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)


TERMINAL_NODE_STATES = frozenset(
    {
        NodeState.SUCCEEDED,
        NodeState.FAILED,
        NodeState.TIMED_OUT,
        NodeState.CANCELLED,
        NodeState.SKIPPED,
    }
)

# Invariant: a terminal state leaves only through PENDING or READY, which `Run.rerun`
# uses to open a new attempt; a retry goes RUNNING -> RETRYING -> RUNNING.
_TRANSITIONS: dict[NodeState, frozenset[NodeState]] = {
    NodeState.PENDING: frozenset({NodeState.READY, NodeState.CANCELLED, NodeState.SKIPPED}),
    # READY -> FAILED: its inputs could not be prepared (a missing upstream output).
    NodeState.READY: frozenset(
        {NodeState.RUNNING, NodeState.CANCELLED, NodeState.SKIPPED, NodeState.FAILED}
    ),
    NodeState.RUNNING: frozenset(
        {
            NodeState.SUCCEEDED,
            NodeState.FAILED,
            NodeState.TIMED_OUT,
            NodeState.CANCELLED,
            NodeState.RETRYING,
        }
    ),
    NodeState.RETRYING: frozenset({NodeState.RUNNING, NodeState.CANCELLED}),
    **{
        terminal: frozenset({NodeState.PENDING, NodeState.READY})
        for terminal in TERMINAL_NODE_STATES
    },
}

# Outcomes that make dependents unable to run.
UNSUCCESSFUL_NODE_STATES = TERMINAL_NODE_STATES - {NodeState.SUCCEEDED}


class IllegalTransition(RuntimeError):
    """A node was asked to make a state change the transition table forbids (a bug)."""
