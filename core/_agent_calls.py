"""What a running agent's awaits become: each tool call a node of its run, under the
run's cap; `tool.map(...)` one node per item. And the guard that keeps an agent body's
`sys.exit` from ending the process."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from . import _context
from ._machine import RunMachine
from ._node import Node
from ._scheduler import Scheduler
from ._tool import Tool


class AgentCalls:
    """The tool calls of a graph_fn run (a part of `Run`)."""

    _machine: RunMachine
    _sched: Scheduler
    # Invariant: per id base (a tool's name), how many ids were handed out: ids are
    # `name_0`, `name_1`, … in call order.
    _dynamic_ids: dict[str, int]

    def _new_call(
        self, tool: Tool, inputs: dict[str, Any], node_id: str, group: str | None
    ) -> Node:
        node = Node(node_id, tool, inputs, group=group)
        node._waiter = asyncio.get_running_loop().create_future()
        self._machine.add_call(node)
        self._sched.fill()
        return node

    def _dynamic_id(self, base: str) -> str:
        n = self._dynamic_ids.get(base, 0)
        self._dynamic_ids[base] = n + 1
        return f"{base}_{n}"

    async def call_tool(self, tool: Tool, inputs: dict[str, Any]) -> dict[str, Any]:
        """A tool awaited inside the agent: an implicit node under the run's cap.

        With a slot free and nothing queued, the node runs right here, in the task that
        awaits it (no worker, no future to wake it: a call then costs about what the same
        call under a semaphore does); otherwise it is queued like any node."""
        node_id = self._dynamic_id(tool.name)
        if self._sched.may_run_in_caller(tool):
            node = Node(node_id, tool, inputs)
            self._machine.add_call(node, queue=False)
            return await self._sched.run_in_caller(node)
        node = self._new_call(tool, inputs, node_id, None)
        waiter = node._waiter
        try:
            return await waiter
        except asyncio.CancelledError:
            self._machine.cancel_node(node)
            raise

    async def call_map(self, tool: Tool, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`tool.map(...)` inside the agent: one node per item, grouped; results in input
        order. The first failure cancels the items still going and is raised."""
        group = self._dynamic_id(f"{tool.name}.map")
        nodes = [self._new_call(tool, item, f"{group}[{i}]", group) for i, item in enumerate(items)]
        waiters = [n._waiter for n in nodes]
        try:
            if waiters:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_EXCEPTION)
            for waiter in waiters:
                if waiter.done() and waiter.exception() is not None:
                    raise waiter.exception()
            return [w.result() for w in waiters]
        except BaseException:
            for node in nodes:
                self._machine.cancel_node(node)
            for waiter in waiters:
                waiter.add_done_callback(consume_exception)
            raise


class AgentExited(Exception):
    """Carries a SystemExit or KeyboardInterrupt an agent body raised out of its Task
    (which would otherwise re-raise it from the event loop and end the process)."""

    def __init__(self, exit: BaseException) -> None:
        super().__init__(exit)
        self.exit = exit


async def exits_as_errors(body: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await body
    except (SystemExit, KeyboardInterrupt) as exc:
        if _context.exit_requested():
            raise
        raise AgentExited(exc) from exc


def consume_exception(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
