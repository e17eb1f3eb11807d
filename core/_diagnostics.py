"""Why is a run slow, why is it stuck: the answers a run can give about itself.

- blocks of the event loop by its code, as "loop_blocked" warnings (`_watchdog`);
- where a running node is now (`where`): the coroutine chain it is executing or awaiting,
  or the stack of the thread a plain `def` tool runs in;
- what a pending or ready node waits for (`waiting_for`): upstream nodes, a slot of the
  cap, a pool.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from . import limits
from ._frames import is_monitor_file
from ._node import Node, NodeKind
from ._states import NodeState
from ._threads import tool_threads
from ._watchdog import (
    Block,
    StackEntry,
    Watched,
    coroutine_frames,
    entry_of,
    frame_stack,
    watchdog_for,
)
from .events import RunWarning

#: `block_threshold` when not given: `limits.BLOCK_THRESHOLD`, read when the run starts
DEFAULT = object()


class Diagnostics:
    """A run's watchdog registration and its answers about its own nodes."""

    def __init__(self, run: Any, block_threshold: Any) -> None:
        if block_threshold is DEFAULT:
            block_threshold = limits.BLOCK_THRESHOLD
        if block_threshold is not None and block_threshold <= 0:
            raise ValueError(f"block_threshold must be > 0 seconds, got {block_threshold!r}")
        self.run = run
        self.block_threshold = block_threshold
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- loop blocks --------------------------------------------------------------------

    def watch(self) -> None:
        if self.block_threshold is None or self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        watched = Watched(self.block_threshold, self._frames, self._on_block)
        watchdog_for(self._loop).watch(id(self), watched)

    def unwatch(self) -> None:
        if self._loop is not None:
            watchdog_for(self._loop).unwatch(id(self))
            self._loop = None

    def _frames(self) -> Iterator[tuple[Any, set[int]]]:
        """(owner, ids of the frames it is executing) for each running node and the agent
        body: called on the watchdog's thread, so it only reads."""
        run = self.run
        for node in list(run.graph._nodes.values()):
            worker = node._worker
            if worker is not None and node.state is NodeState.RUNNING:
                yield node, {id(f) for f in coroutine_frames(worker.get_coro())}
        body = run._body_task
        if body is not None and not body.done():
            yield run, {id(f) for f in coroutine_frames(body.get_coro())}

    def _on_block(self, block: Block) -> None:
        """On the loop, once it turned again: report the block if it concerns this run."""
        run = self.run
        owner = block.owner
        if isinstance(owner, Node):
            if run.graph._nodes.get(owner.id) is not owner:
                return  # another run's node
            who = owner.id
        elif owner is run:
            who = f"agent {run.name!r}"
        elif owner is None:
            in_monitor = block.where is not None and is_monitor_file(block.where[0])
            who = "the monitor itself" if in_monitor else "code outside any node"
        else:
            return  # another run's agent
        where = block.where
        at = f"{where[0]}:{where[1]}" if where else "an unknown place"
        shown_at = f"{os.path.basename(where[0])}:{where[1]}" if where else at
        details = {
            "node": owner.id if isinstance(owner, Node) else None,
            "agent": run.name if owner is run else None,
            "seconds": round(block.seconds, 3),
            "where": at,
            "code": where[3] if where else "",
            "stack": [list(entry) for entry in block.stack],
        }
        message = f"{who} blocked the event loop for {block.seconds:.2f} s at {shown_at}"
        node_id = owner.id if isinstance(owner, Node) else None
        run._emit(RunWarning(time.time(), run.id, message, node_id, "loop_blocked", details))

    # -- where a running node is ------------------------------------------------------

    def where(self, node: Node) -> list[StackEntry]:
        """The stack of a running node, outermost first: the coroutine chain of an async
        tool down to what it awaits, or the thread of a plain `def` tool. Empty when the
        node is not running."""
        if node.state is not NodeState.RUNNING or node.kind is not NodeKind.TOOL:
            return []
        if not node.tool.is_async:
            thread = tool_threads().thread_of(node)
            frame = sys._current_frames().get(thread) if thread is not None else None
            return _from_call(frame_stack(frame), node.tool.fn.__code__.co_name)
        worker = node._worker
        if worker is None:
            return []
        frames = coroutine_frames(worker.get_coro())[1:]  # (not the worker's own frame)
        return [entry_of(f) for f in frames]

    # -- what a node waits for ----------------------------------------------------------

    def waiting_for(self, node: Node) -> dict[str, Any]:
        """What keeps a pending or ready node from running: {"upstream": [(id, state)]}
        for upstream nodes not yet succeeded; {"slot": {"cap", "busy": [ids]}} when the
        run's slots are all taken; {"pool": {"name", "size", "active", "waiting"}} for a
        full pool. Empty for a node that is not waiting."""
        run = self.run
        machine = run._machine
        reasons: dict[str, Any] = {}
        if node.state is NodeState.PENDING:
            nodes = run.graph._nodes
            unfinished = [
                (u, nodes[u].state.value)
                for u in node.upstream
                if nodes[u].state is not NodeState.SUCCEEDED
            ]
            if unfinished:
                reasons["upstream"] = unfinished
        elif node.state is NodeState.READY:
            if node._worker is None and machine.active >= machine.cap:
                busy = [
                    n.id
                    for n in run.graph._nodes.values()
                    if n.kind is NodeKind.TOOL
                    and n.state in (NodeState.RUNNING, NodeState.RETRYING)
                ]
                reasons["slot"] = {"cap": machine.cap, "busy": busy}
            pools = (*run._sched.pools, node.tool.pool) if node.tool.pool else run._sched.pools
            for pool in pools:
                if pool.active >= pool.size:
                    reasons["pool"] = {
                        "name": pool.name,
                        "size": pool.size,
                        "active": pool.active,
                        "waiting": pool.waiting,
                    }
                    break
        return reasons


def _from_call(stack: list[StackEntry], function: str) -> list[StackEntry]:
    """A thread's stack from the tool's own function on (the pool's frames left out)."""
    for index, entry in enumerate(stack):
        if entry[2] == function:
            return stack[index:]
    return stack
