"""`@tool`: a function that becomes a node when called inside a graph.

Plain (`def`) tools run in a worker thread so a blocking body never stalls the event loop
or the monitor. Async tools run inline in a scheduler worker (no Task per node).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib
import inspect
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from . import _context
from ._threads import tool_threads
from .errors import GraphBuildError, ToolOutputError
from .values import Secret, reveal

if TYPE_CHECKING:
    from .limits import Pool


class Tool:
    """A function registered with `@tool`. See `tool` for the meaning of each option."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        outputs: Sequence[str] | None,
        timeout: float | None,
        retries: int,
        backoff: float,
        name: str | None,
        pool: Pool | None,
        executor: str | None = None,
    ) -> None:
        if executor not in (None, "local"):
            raise ValueError(
                f"tool {fn.__name__!r}: executor may only be 'local' (keep it in-process) "
                f"or None (the run decides), got {executor!r}"
            )
        if isinstance(outputs, str):
            outputs = [outputs]
        if timeout is not None and timeout <= 0:
            raise ValueError(f"tool {fn.__name__!r}: timeout must be > 0, got {timeout!r}")
        if retries < 0:
            raise ValueError(f"tool {fn.__name__!r}: retries must be >= 0, got {retries!r}")
        self.fn = fn
        self.name: str = name or fn.__name__
        self.outputs: tuple[str, ...] | None = tuple(outputs) if outputs is not None else None
        self._output_set = frozenset(self.outputs or ())  # (checked once per call)
        #: the handle class a graphify builder returns for a call of this tool (one
        #: property per declared output); made by the builder on first use
        self.handle_type: type | None = None
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.pool = pool
        self.executor = executor
        self.is_async = inspect.iscoroutinefunction(fn)
        #: the scheduler may await the body directly, no timeout or thread around it
        self.awaits_directly = self.is_async and timeout is None
        signature = inspect.signature(fn)
        params = signature.parameters.values()
        self._positional = [
            p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        self._accepts_any = any(p.kind is p.VAR_KEYWORD for p in params)
        self._params = frozenset(
            p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )
        self._required = frozenset(
            p.name
            for p in params
            if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )
        functools.update_wrapper(self, fn)

    def __repr__(self) -> str:
        return f"<tool {self.name}>"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle by reference when the tool can be imported from its module (a worker
        process imports it); otherwise by value, with the function (graph files loaded by
        path, tools defined inside functions). Pools stay behind: they are local limits."""
        module = sys.modules.get(self.fn.__module__)
        if (
            module is not None
            and module.__name__ != "__main__"  # a worker's __main__ is not this script
            and not module.__name__.startswith("graphdeck_user_")
            and getattr(module, self.fn.__name__, None) is self
        ):
            return _import_tool, (module.__name__, self.fn.__name__)
        options = (self.outputs, self.timeout, self.retries, self.backoff, self.name)
        return _rebuild_tool, (self.fn, *options, self.executor)

    # -- arguments and results ------------------------------------------------------------

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Turn a call's arguments into the node's named inputs, or say what is wrong."""
        required = self._required
        if args:
            if len(args) > len(self._positional):
                raise TypeError(
                    f"tool {self.name!r} takes {len(self._positional)} positional "
                    f"arguments but {len(args)} were given"
                )
            named = dict(zip(self._positional, args, strict=False))
            clash = named.keys() & kwargs.keys()
            if clash:
                raise TypeError(f"tool {self.name!r} got multiple values for {sorted(clash)}")
            kwargs = {**named, **kwargs}
        keys = kwargs.keys()
        if not self._accepts_any and not keys <= self._params:
            unknown = sorted(keys - self._params)
            raise TypeError(
                f"tool {self.name!r} got unexpected argument(s) {unknown}; "
                f"it takes {sorted(self._params)}"
            )
        if not required <= keys:
            missing = sorted(required - keys)
            raise TypeError(f"tool {self.name!r} is missing required argument(s) {missing}")
        return kwargs

    def normalize(self, result: Any) -> dict[str, Any]:
        """A mapping holding every declared output; with one declared output a bare value
        is wrapped. Anything else is a `ToolOutputError` naming the tool."""
        # `type(...) is dict` first: an ABC isinstance check costs microseconds per node.
        if type(result) is dict or isinstance(result, Mapping):
            outputs = result if type(result) is dict else dict(result)
            if not self._output_set.issubset(outputs):
                declared = self.outputs or ()
                missing = [k for k in declared if k not in outputs]
                raise ToolOutputError(
                    f"tool {self.name!r} returned a mapping without declared "
                    f"output(s) {missing} (it returned keys {sorted(map(str, outputs))})"
                )
            return outputs
        declared = self.outputs
        if declared is None:
            return {"result": result}
        if len(declared) == 1:
            return {declared[0]: result}
        raise ToolOutputError(
            f"tool {self.name!r} returned {type(result).__name__}, but it declares "
            f"{len(declared)} outputs {list(declared)}: return a dict with those keys"
        )

    # -- execution --------------------------------------------------------------------------

    def invoke(self, inputs: dict[str, Any], key: object = None) -> Awaitable[Any]:
        """Start one execution of the body and return what to await for its raw result.

        Plain functions go to a worker thread, with the caller's context variables, so a
        tool they call sees that it is inside a node and runs inline.
        """
        if self.is_async:
            return self.fn(**inputs)
        ctx = contextvars.copy_context()
        call = functools.partial(ctx.run, self.fn, **inputs)
        return asyncio.wrap_future(tool_threads().submit(call, key))

    async def attempt(self, inputs: dict[str, Any], key: object = None) -> dict[str, Any]:
        """One attempt under the tool's timeout, normalised. `key` (the node) names the
        thread a plain function runs in, while it runs (`ToolThreads.thread_of`)."""
        if self.timeout is None:
            return self.normalize(await self.invoke(inputs, key))
        deadline = asyncio.timeout(self.timeout)
        try:
            async with deadline:
                raw = await self.invoke(inputs, key)
        except TimeoutError:
            if not deadline.expired():  # the body's own timeout, not ours
                raise
            raise TimeoutError(
                f"tool {self.name!r} ran past its timeout of {self.timeout:g}s"
            ) from None
        return self.normalize(raw)

    async def call_detached(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run outside any graph (or inline inside another tool): timeout and retries
        apply, no node is recorded. CancelledError is never retried."""
        for attempt in range(self.retries + 1):
            try:
                return await self.attempt(inputs)
            except Exception:
                if attempt == self.retries:
                    raise
                await asyncio.sleep(self.backoff * (2**attempt))
        raise AssertionError("unreachable")

    def _call_detached_sync(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """A plain tool called with no event loop in this thread (a script, or another
        plain tool's worker thread): just call it. Retries apply; timeouts cannot."""
        for attempt in range(self.retries + 1):
            try:
                return self.normalize(self.fn(**inputs))
            except Exception:
                if attempt == self.retries:
                    raise
        raise AssertionError("unreachable")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        required = self._required
        # The usual call, checked here without calling `bind` (this runs once per node of
        # a build): exactly the required arguments, by name. (`issuperset` of the dict
        # itself: comparing key views costs twice as much.)
        if not args and len(kwargs) == len(required) and required.issuperset(kwargs):
            inputs = kwargs
        else:
            inputs = self.bind(args, kwargs)
        builder = _context.current_builder.get()
        if builder is not None:
            return builder.add_call(self, inputs)
        if not _context.inside_node.get():
            run = _context.current_run.get()
            if run is not None and _context.loop_running():
                return run.call_tool(self, inputs)  # (secrets revealed when it runs)
        if Secret.made:
            inputs = reveal(inputs)
        if not self.is_async and not _context.loop_running():
            return self._call_detached_sync(inputs)
        return self.call_detached(inputs)

    def map(self, **kwargs: Any) -> Any:
        """Call the tool once per item. List/tuple arguments are zipped (equal lengths);
        any other argument is passed unchanged to every call.

        In a graphify builder the lists may be references to run-time values: the map node
        expands into one child node per item when they resolve, and its outputs are lists
        (`handle.out[i]` is item i's `out`). In a graph_fn, or anywhere else, it returns an
        awaitable of the list of output dicts, in input order.
        """
        builder = _context.current_builder.get()
        if builder is not None:
            return builder.add_map(self, self.bind((), kwargs))
        items = map_items(self, kwargs)
        run = None if _context.inside_node.get() else _context.current_run.get()
        if run is not None:
            return run.call_map(self, items)
        return _gather_detached(self, items)


def _import_tool(module: str, attribute: str) -> Tool:
    return getattr(importlib.import_module(module), attribute)


def _rebuild_tool(
    fn: Callable[..., Any],
    outputs: tuple[str, ...] | None,
    timeout: float | None,
    retries: int,
    backoff: float,
    name: str,
    executor: str | None,
) -> Tool:
    options = {"timeout": timeout, "retries": retries, "backoff": backoff, "name": name}
    return tool(outputs=outputs, executor=executor, **options)(fn)


async def _gather_detached(tool: Tool, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(tool.call_detached(item)) for item in items]
    return [task.result() for task in tasks]


def map_items(tool: Tool, kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Split a map call's arguments into one input dict per item."""
    listed = {k: v for k, v in kwargs.items() if isinstance(v, list | tuple)}
    if not listed:
        raise GraphBuildError(
            f"{tool.name}.map(...) needs at least one list argument to map over; "
            f"got {sorted(kwargs)}"
        )
    lengths = {k: len(v) for k, v in listed.items()}
    if len(set(lengths.values())) > 1:
        raise GraphBuildError(f"{tool.name}.map(...): list arguments differ in length {lengths}")
    fixed = {k: v for k, v in kwargs.items() if k not in listed}
    count = next(iter(lengths.values()))
    return [tool.bind((), {**fixed, **{k: v[i] for k, v in listed.items()}}) for i in range(count)]


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...
@overload
def tool(
    *,
    outputs: Sequence[str] | None = None,
    timeout: float | None = None,
    retries: int = 0,
    backoff: float = 0.0,
    name: str | None = None,
    pool: Pool | None = None,
    executor: str | None = None,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    outputs: Sequence[str] | None = None,
    timeout: float | None = None,
    retries: int = 0,
    backoff: float = 0.0,
    name: str | None = None,
    pool: Pool | None = None,
    executor: str | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Declare a tool.

    outputs: the keys its result provides. With exactly one, a bare return value is
        wrapped; without `outputs`, a mapping is taken as is and anything else becomes
        `{"result": value}`.
    timeout: seconds per attempt; an attempt that runs longer ends TIMED_OUT.
    retries: extra attempts after a failure or timeout (never after a cancellation),
        `backoff * 2**n` seconds apart.
    pool: a `graphdeck.limits.Pool` every call must also hold a slot of.
    executor: "local" keeps the body in-process even when the run uses a remote executor
        (`run(..., executor="dask")`), e.g. for tools that touch local state.
    """

    def wrap(function: Callable[..., Any]) -> Tool:
        return Tool(
            function,
            outputs=outputs,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            name=name,
            pool=pool,
            executor=executor,
        )

    return wrap(fn) if fn is not None else wrap
