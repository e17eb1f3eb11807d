"""Where a call happens decides what a tool call means (docs/design.md §3.1): inside a
graphify builder it adds a node, inside a running graph_fn it becomes a node of that run,
inside another tool's body it runs inline, anywhere else it simply runs.

These context variables carry that "where"; asyncio copies them into every task and worker
thread it starts, so `asyncio.gather` inside an agent keeps its tool calls in the agent's
run. They are typed by the small protocols below, so this bottom layer knows nothing of the
builder or the run that implement them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any, Protocol


class CallCollector(Protocol):
    """A graphify builder collecting tool calls into a graph (`_graphify.Builder`)."""

    def add_call(self, tool: Any, inputs: dict[str, Any]) -> Any: ...

    def add_map(self, tool: Any, inputs: dict[str, Any]) -> Any: ...


class ToolCaller(Protocol):
    """A running agent whose tool calls become nodes of its run (`_run.Run`)."""

    def call_tool(self, tool: Any, inputs: dict[str, Any]) -> Awaitable[dict[str, Any]]: ...

    def call_map(
        self, tool: Any, items: list[dict[str, Any]]
    ) -> Awaitable[list[dict[str, Any]]]: ...


#: the graphify builder currently running, if any
current_builder: ContextVar[CallCollector | None] = ContextVar("graphdeck_builder", default=None)
#: the graph_fn run whose body (or a task it started) is executing, if any
current_run: ContextVar[ToolCaller | None] = ContextVar("graphdeck_run", default=None)
#: True while a tool body executes, so tools it calls run inline instead of as new nodes
#: (a new node would wait for a slot its caller holds)
inside_node: ContextVar[bool] = ContextVar("graphdeck_inside_node", default=False)

#: set when the user interrupts a second time (Ctrl-C while the first is winding the run
#: down): from then on a KeyboardInterrupt is the user's, not a tool's, and is let through
_exit_requested = False


def request_exit() -> None:
    global _exit_requested
    _exit_requested = True


def exit_requested() -> bool:
    return _exit_requested


def loop_running() -> bool:
    """Whether this thread is running an event loop (no loop: nothing can be awaited)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
