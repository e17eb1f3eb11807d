"""`@graph_fn`: a reactive agent. Its body is ordinary async Python; the tool calls it
awaits become implicit nodes of its run, capped by the run's `max_concurrency`, while
plain awaits run on the loop uncapped. A graph_fn awaited inside another is a child run.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._graph import TaskGraph, bind_graph_inputs
from ._run import Run
from .events import ChannelMessage


class Channel:
    """Where an agent reports progress; each message is a `ChannelMessage` event."""

    def __init__(self, run: Run, name: str) -> None:
        self._run = run
        self.name = name

    async def send_text(self, text: str) -> None:
        """Emit `text` on this channel (shown in the monitor's log and the CLI)."""
        self._run._emit(ChannelMessage(time.time(), self._run.id, self.name, str(text)))


class Context:
    """The `context` keyword argument every graph_fn body receives."""

    def __init__(self, run: Run) -> None:
        self._run = run

    @property
    def run_id(self) -> str:
        return self._run.id

    @property
    def run(self) -> Run:
        return self._run

    def channel(self, name: str = "default") -> Channel:
        return Channel(self._run, name)


class GraphFn:
    """An agent definition. `await agent(**inputs)` runs it and returns its result dict."""

    kind = "graph_fn"

    def __init__(
        self, fn: Callable[..., Any], *, name: str | None, max_concurrency: int | None
    ) -> None:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"@graph_fn needs an `async def`; {fn.__name__!r} is not one")
        signature = inspect.signature(fn)
        if "context" not in signature.parameters:
            raise TypeError(
                f"graph_fn {fn.__name__!r} must accept a keyword argument `context` "
                "(write `async def f(..., *, context)`)"
            )
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency!r}")
        self.fn = fn
        self.name: str = name or fn.__name__
        self.max_concurrency = max_concurrency
        params = [
            p
            for p in signature.parameters.values()
            if p.name != "context" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        self.inputs: tuple[str, ...] = tuple(p.name for p in params)
        self.outputs: tuple[str, ...] = ()
        self.defaults: dict[str, Any] = {
            p.name: p.default for p in params if p.default is not p.empty
        }
        functools.update_wrapper(self, fn)

    def __repr__(self) -> str:
        return f"<graph_fn {self.name}>"

    def bind_inputs(self, inputs: Mapping[str, Any] | None) -> dict[str, Any]:
        return bind_graph_inputs(self.name, self.inputs, self.defaults, inputs)

    def prepare(self, inputs: Mapping[str, Any] | None) -> tuple[TaskGraph, GraphFn]:
        """What `graphdeck.start` runs: an empty graph its calls will fill, and this agent,
        whose body drives the run."""
        return TaskGraph(self.name, self.bind_inputs(inputs)), self

    def body(self, run: Run) -> Any:
        """The agent's body for `run`: its inputs, and a `context` on the run."""
        return self.fn(**run.inputs, context=Context(run))

    def __call__(self, *args: Any, max_concurrency: int | None = None, **kwargs: Any) -> Any:
        """Run as a run of its own (a child run inside a running agent); awaitable."""
        if args:
            kwargs = {**dict(zip(self.inputs, args, strict=False)), **kwargs}
        from .runner import run_async

        return run_async(self, kwargs, max_concurrency=max_concurrency)


def graph_fn(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    max_concurrency: int | None = None,
) -> Any:
    """Declare an agent: `async def f(..., *, context)`. `max_concurrency` caps its tool
    calls (default 4); a value given to a call or to `run()` overrides it."""

    def wrap(function: Callable[..., Any]) -> GraphFn:
        return GraphFn(function, name=name, max_concurrency=max_concurrency)

    return wrap(fn) if fn is not None else wrap
