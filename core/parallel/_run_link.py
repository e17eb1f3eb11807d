"""Show a parallel primitive's items in the agent run that uses it.

Inside a running graph_fn each item becomes a node of the run (kind "external", grouped
under its gather), and the primitive's own occupancy is emitted as
`GroupOccupancyChanged`, so the monitor shows both. The items are plain awaits, so they
do not count against the run's cap: the primitive has its own limit.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

from .. import _context
from .._node import Node, NodeKind
from .._run import Run
from .._states import NodeState, RunState
from .._tool import Tool
from ..events import GroupOccupancyChanged
from ._results import TaskResult, TaskStatus

_STATE_OF = {
    TaskStatus.COMPLETED: NodeState.SUCCEEDED,
    TaskStatus.FAILED: NodeState.FAILED,
    TaskStatus.TIMEOUT: NodeState.TIMED_OUT,
    TaskStatus.CANCELLED: NodeState.CANCELLED,
    TaskStatus.PENDING: NodeState.CANCELLED,
}


def _not_rerunnable(**_: Any) -> None:
    raise RuntimeError(
        "an item of a graphdeck.parallel primitive cannot be re-run on its own: "
        "its awaitable is gone; start the agent again"
    )


@functools.cache
def _item_tool(kind: str) -> Tool:
    return Tool(
        _not_rerunnable,
        outputs=["result"],
        timeout=None,
        retries=0,
        backoff=0.0,
        name=kind,
        pool=None,
    )


class RunObserver:
    """Mirrors an engine's items into the current agent run."""

    def __init__(self, run: Run, kind: str, limit: int | None) -> None:
        self._run = run
        self._tool = _item_tool(kind)
        self.group = run._dynamic_id(kind)
        self._limit = limit
        self._nodes: dict[int, Node] = {}
        self._sample = (0, 0)
        self._flush: asyncio.Handle | None = None

    def _node(self, result: TaskResult) -> Node:
        node = self._nodes.get(result.index)
        if node is None:
            node = Node(
                f"{self.group}[{result.index}]",
                self._tool,
                {"index": result.index},
                kind=NodeKind.EXTERNAL,
                group=self.group,
            )
            self._nodes[result.index] = node
            self._run._machine.add(node)
        return node

    def started(self, result: TaskResult) -> None:
        self._run._machine.external_started(self._node(result))

    def finished(self, result: TaskResult) -> None:
        node = self._node(result)
        outputs = {"result": result.result} if result.status is TaskStatus.COMPLETED else None
        self._run._machine.external_finished(node, _STATE_OF[result.status], result.error, outputs)

    def occupancy(self, active: int, peak: int) -> None:
        self._sample = (active, peak)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_soon(self._emit_occupancy)

    def _emit_occupancy(self) -> None:
        self._flush = None
        active, peak = self._sample
        self._run._emit(
            GroupOccupancyChanged(time.time(), self._run.id, self.group, active, peak, self._limit)
        )


def observer_for(kind: str, limit: int | None) -> RunObserver | None:
    """An observer when called from a running agent's own code (not from a tool body)."""
    if _context.inside_node.get():
        return None
    run = _context.current_run.get()
    if not isinstance(run, Run) or run.state is not RunState.RUNNING:
        return None
    return RunObserver(run, kind, limit)
