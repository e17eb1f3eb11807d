"""Node and run states.

Which changes between them are legal, and what each change does, is written down in one
place: the transition tables of `graphdeck._machine` (docs/design.md §8.2).
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

    #: position in declaration order: the index of the state in the transition tables
    #: and in the event log's row codes (set below; a list index is cheaper than hashing
    #: an enum member, which the scheduler does several times per node)
    code: int

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

    code: int

    @property
    def is_terminal(self) -> bool:
        return self in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)


for _code, _state in enumerate(NodeState):
    _state.code = _code
for _code, _run_state in enumerate(RunState):
    _run_state.code = _code

TERMINAL_NODE_STATES = frozenset(
    {
        NodeState.SUCCEEDED,
        NodeState.FAILED,
        NodeState.TIMED_OUT,
        NodeState.CANCELLED,
        NodeState.SKIPPED,
    }
)

#: outcomes that leave dependents unable to run
UNSUCCESSFUL_NODE_STATES = TERMINAL_NODE_STATES - {NodeState.SUCCEEDED}


class IllegalTransition(RuntimeError):
    """A node or run was asked to make a state change the transition tables forbid (a bug
    in graphdeck). The message carries the node's recent history."""
