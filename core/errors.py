"""Exceptions raised by graphdeck.

GraphdeckError
├── GraphBuildError        a graph cannot be built (cycle, bad reference, bad inputs)
├── ToolOutputError        a tool returned something that does not match `outputs=`
├── GraphLoadError         a graph file cannot be loaded (syntax, import, no graphs)
├── NodeCancelled          a node awaited inside a graph_fn was cancelled
├── CancellationIgnored    a node kept running after it was cancelled (grace expired)
└── RunError               base of the outcomes of `result()` / `run()`
    ├── RunFailed          one or more nodes failed; carries their errors and partials
    │   └── RunTimedOut    the run's own `timeout=` expired (also a TimeoutError)
    └── RunCancelled       the run was cancelled through its handle or its parent
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class GraphdeckError(Exception):
    """Base class of every error graphdeck raises on purpose."""


class GraphBuildError(GraphdeckError, ValueError):
    """The graph is malformed: a cycle, a reference to a missing node or output, bad inputs."""


class ToolOutputError(GraphdeckError, TypeError):
    """A tool's return value does not provide the outputs it declared."""


class GraphLoadError(GraphdeckError):
    """A graph file could not be loaded. `file`, `line` and `reason` say where and why."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {reason}")


class NodeCancelled(GraphdeckError):
    """The node an agent was awaiting was cancelled (by the user or by its run).

    A graph_fn may catch it and carry on; it is not a `CancelledError`, so catching it never
    hides a cancellation of the agent itself.
    """

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        super().__init__(f"node {node_id!r} was cancelled")


class CancellationIgnored(GraphdeckError):
    """A node's code swallowed `CancelledError` and was still running after the grace period.

    It is abandoned (left running, no longer awaited) and reported by name.
    """


class RunError(GraphdeckError):
    """Base of the ways a run can end without succeeding."""

    def __init__(
        self,
        message: str,
        *,
        run_id: str,
        errors: Mapping[str, BaseException] | None = None,
        partial_outputs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.run_id = run_id
        #: node id -> the exception that ended it
        self.errors: dict[str, BaseException] = dict(errors or {})
        #: the graph outputs that could still be computed
        self.partial_outputs: dict[str, Any] = dict(partial_outputs or {})

    @property
    def failed_nodes(self) -> list[str]:
        return list(self.errors)


class RunFailed(RunError):
    """One or more nodes failed (or the agent body raised). `errors` names them."""


class RunTimedOut(RunFailed, TimeoutError):
    """The run's `timeout=` expired before it finished."""


class RunCancelled(RunError):
    """The run was cancelled through `Run.cancel()` or by its parent run."""
