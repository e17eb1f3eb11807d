"""Starting runs: `start()` (a handle), `run_async()` (await the outputs), `run()` (sync).

    from graphdeck.runner import run, run_async

`target` is a graph_fn, a graphify or a prebuilt TaskGraph.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from . import _collector, _context
from ._diagnostics import DEFAULT
from ._graph import TaskGraph
from ._run import ABANDONED, Agent, Run
from .executors import Executor, parse_executor
from .limits import Pool

__all__ = ["DEFAULT_MAX_CONCURRENCY", "run", "run_async", "start"]

DEFAULT_MAX_CONCURRENCY = 4
#: seconds a cancelled node or agent gets to stop before it is abandoned and reported
DEFAULT_CANCEL_GRACE = 2.0
_POLICIES = ("stop", "continue")

T = TypeVar("T")


class Target(Protocol):
    """What `start` runs: a graph_fn, a graphify or a prebuilt TaskGraph. Each says what a
    run of it is (`prepare`): the graph to run, and the agent whose body drives it."""

    def prepare(self, inputs: Mapping[str, Any] | None) -> tuple[TaskGraph, Agent | None]: ...


def start(
    target: Target,
    inputs: Mapping[str, Any] | None = None,
    *,
    max_concurrency: int | None = None,
    on_error: str = "stop",
    timeout: float | None = None,
    pool: Pool | Sequence[Pool] | None = None,
    cancel_grace: float = DEFAULT_CANCEL_GRACE,
    executor: str | Executor | None = None,
    block_threshold: Any = DEFAULT,
    breakpoints: Sequence[str] = (),
) -> Run:
    """Start a run on the running event loop and return its `Run` handle at once.

    max_concurrency: slots for tool nodes (default: the graph_fn's own, else 4).
    on_error: "stop" (the first failure cancels running nodes; pending ones are
        cancelled, dependents skipped) or "continue" (independent branches finish).
        Agents (graph_fn) decide themselves: a failed tool call raises in their body.
    timeout: seconds for the whole run; when it expires the run is cancelled and fails
        with `RunTimedOut`.
    pool: process-wide `graphdeck.limits.Pool`(s) every tool node must also hold.
    cancel_grace: how long cancelled code may take to stop before it is abandoned.
    executor: where tool bodies run: "local" (default), "dask" (a LocalCluster on
        127.0.0.1, started and closed with the run), "dask://HOST:PORT", or an executor
        object (e.g. `graphdeck.executors.DaskExecutor`) you own. Child runs share it.
    block_threshold: seconds the event loop may stand still before the run reports
        whose code blocked it (a `RunWarning` of kind "loop_blocked"); None: never.
        Default: `graphdeck.limits.BLOCK_THRESHOLD` (0.1 s).
    breakpoints: node ids or tool names; a matching node is held before it starts and
        the run pauses (`Run.held`, `resume`, `step`, `set_inputs`).

    A graph that cannot be built (bad inputs, a cycle, a bad reference) raises
    `GraphBuildError` here, before anything runs.
    """
    _check_options(on_error, timeout, cancel_grace)
    cap = _resolve_cap(target, max_concurrency)
    prepare = getattr(target, "prepare", None)
    if prepare is None:
        raise TypeError(
            "run target must be a @graph_fn, a @graphify or a TaskGraph; "
            f"got {type(target).__name__}"
        )
    _collector.hold()  # a build is part of its run (§4.6); the run's driver holds its own
    try:
        graph, agent = prepare(inputs)
    finally:
        _collector.release()
    parent = _context.current_run.get()
    assert parent is None or isinstance(parent, Run)
    pools = _pools(pool)
    remote, owned = parse_executor(executor)
    if parent is not None:
        pools = tuple(dict.fromkeys(parent._sched.pools + pools))
        if remote is None:
            remote = parent._executor
    handle = Run(
        graph,
        cap=cap,
        on_error=on_error,
        timeout=timeout,
        pools=pools,
        grace=cancel_grace,
        agent=agent,
        parent=parent,
        executor=remote,
        owns_executor=owned,
        block_threshold=block_threshold,
    )
    for spec in breakpoints:
        handle.set_breakpoint(spec)
    if parent is not None:
        parent._adopt(handle)
    handle._open(None)
    if parent is not None and parent.paused:
        handle.pause()  # a child of a paused run starts paused
    return handle


async def run_async(
    target: Target, inputs: Mapping[str, Any] | None = None, **options: Any
) -> dict[str, Any]:
    """Run `target` and return its outputs. Raises `RunFailed` / `RunCancelled`.

    Cancelling the caller cancels the run, waits for it to wind down, then re-raises.
    Options are those of `start()`.
    """
    handle = start(target, inputs, **options)
    try:
        return await handle.result()
    except asyncio.CancelledError:
        handle.cancel()
        await asyncio.wait([asyncio.ensure_future(handle.wait())])
        raise


def run(target: Target, inputs: Mapping[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """Synchronous `run_async`: runs the graph on a new event loop and returns its outputs.

    Never call it from async code (it would need a second loop inside the first): await
    `run_async()` there instead. Ctrl-C cancels the run gracefully, then raises
    KeyboardInterrupt.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "graphdeck.run() was called inside a running event loop; "
            "use `await graphdeck.run_async(...)` there instead"
        )
    return run_in_new_loop(run_async(target, inputs, **options))


def run_in_new_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on a fresh loop; the first Ctrl-C cancels it (graceful shutdown).

    Unlike `asyncio.run`, leftover tasks get a bounded wait when the loop closes: a task
    that swallows cancellation (already reported by its run) cannot hang the process.
    """
    loop = asyncio.new_event_loop()
    task = loop.create_task(main)
    interrupted = False
    previous = None

    def on_sigint(signum: int, frame: Any) -> None:
        nonlocal interrupted
        if interrupted:
            _context.request_exit()
            raise KeyboardInterrupt
        interrupted = True
        loop.call_soon_threadsafe(task.cancel)

    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        try:
            return loop.run_until_complete(task)
        except asyncio.CancelledError:
            if interrupted:
                raise KeyboardInterrupt from None
            raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        close_loop(loop)


def close_loop(loop: asyncio.AbstractEventLoop, grace: float = DEFAULT_CANCEL_GRACE) -> None:
    """Cancel what is left, wait up to `grace` for it, and close the loop.

    Tasks a run already abandoned (they ignored cancellation for the run's grace period,
    and the run reported them by name) are not waited for again, and closing the loop does
    not report them a second time as "destroyed but pending".
    """
    leftover = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in leftover:
        task.cancel()
    waited = [t for t in leftover if t not in ABANDONED]
    if waited:
        loop.run_until_complete(asyncio.wait(waited, timeout=grace))
    for task in leftover:
        if task in ABANDONED:
            task._log_destroy_pending = False  # type: ignore[attr-defined]
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def _check_options(on_error: str, timeout: float | None, cancel_grace: float) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "graphdeck.start() needs a running event loop: call it from async code, "
            "or use graphdeck.run() from synchronous code"
        ) from None
    if on_error not in _POLICIES:
        raise ValueError(f"on_error must be 'stop' or 'continue', got {on_error!r}")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    if cancel_grace < 0:
        raise ValueError(f"cancel_grace must be >= 0, got {cancel_grace!r}")


def _resolve_cap(target: Target, max_concurrency: int | None) -> int:
    if max_concurrency is None:
        max_concurrency = getattr(target, "max_concurrency", None) or DEFAULT_MAX_CONCURRENCY
    if not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise ValueError(f"max_concurrency must be an int >= 1, got {max_concurrency!r}")
    return max_concurrency


def _pools(pool: Pool | Sequence[Pool] | None) -> tuple[Pool, ...]:
    if pool is None:
        return ()
    if isinstance(pool, Pool):
        return (pool,)
    pools = tuple(pool)
    for p in pools:
        if not isinstance(p, Pool):
            raise TypeError(f"pool must be a graphdeck.limits.Pool, got {type(p).__name__}")
    return pools
