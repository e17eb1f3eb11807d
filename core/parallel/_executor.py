"""Bounded gather and map: `ParallelExecutor`, `parallel_gather`, `parallel_map`,
their structured form `TaskGroup`, and `TaskThrottler`."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar

from ..limits import Limiter
from ._engine import Engine, release_all, take_items
from ._results import GatherResult, TaskResult
from ._run_link import observer_for

T = TypeVar("T")
_UNBOUNDED = float("inf")


def _check_positive(name: str, value: float | None, *, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if value is None or value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


class TaskThrottler(Limiter):
    """Bounded concurrency as an async context manager, with `active` and `peak`.

    throttler = TaskThrottler(max_concurrent=5)
    async with throttler:
        await do_work()
    """

    def __init__(self, max_concurrent: int = 10) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be >= 1, got {max_concurrent!r}")
        super().__init__(max_concurrent, "throttler")

    @property
    def max_concurrent(self) -> int:
        return self.size


class ParallelExecutor:
    """Fan-out/fan-in over awaitables with a concurrency limit, timeouts and fail-fast.

    max_concurrent: items running at once.
    timeout: seconds for a whole `gather`/`map` (a call's own `timeout=` overrides it);
        unfinished items then become TIMEOUT, are cancelled and awaited.
    task_timeout: seconds for each item.
    fail_fast: the first failure cancels every other item (completed results are kept).
    """

    def __init__(
        self,
        max_concurrent: int = 8,
        timeout: float | None = 60.0,
        task_timeout: float | None = None,
        fail_fast: bool = False,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be >= 1, got {max_concurrent!r}")
        _check_positive("timeout", timeout)
        _check_positive("task_timeout", task_timeout)
        self.max_concurrent = max_concurrent
        self.timeout = timeout
        self.task_timeout = task_timeout
        self.fail_fast = fail_fast

    def _engine(self, kind: str, **options: Any) -> Engine:
        return Engine(
            limit=self.max_concurrent,
            task_timeout=self.task_timeout,
            stop_on_failure=self.fail_fast,
            observer=observer_for(kind, self.max_concurrent),
            **options,
        )

    async def gather(
        self,
        items: Iterable[Awaitable[Any] | Callable[[], Awaitable[Any]]],
        timeout: float | None = None,
        return_partial: bool = True,
    ) -> GatherResult:
        """Run every item (awaitables, or zero-argument factories started only when a slot
        is free) and return their results in input order.

        With `return_partial=False`, an incomplete outcome raises instead: the first error,
        or TimeoutError; the partial `GatherResult` is attached as `.partial`.
        """
        items = take_items(items)  # a bad item raises here, before any item starts
        try:
            _check_positive("timeout", timeout)
        except ValueError:
            release_all(items)
            raise
        engine = self._engine("gather")
        for item in items:
            engine.add(item)
        result = await engine.run(timeout if timeout is not None else self.timeout)
        if not return_partial:
            _raise_if_incomplete(result, engine)
        return result

    async def map(
        self,
        func: Callable[[T], Awaitable[Any]],
        iterable: Iterable[T],
        timeout: float | None = None,
        *,
        max_per_second: float | None = None,
    ) -> GatherResult:
        """`func(item)` for every item, at most `max_concurrent` at once (and, if given, at
        most `max_per_second` starts per second); results in input order. Items are taken
        from `iterable` lazily, so a huge or endless one costs no memory up front."""
        _check_positive("timeout", timeout)
        _check_positive("max_per_second", max_per_second)
        engine = self._engine("map", call=func, per_second=max_per_second)
        engine.feed(iterable)
        return await engine.run(timeout if timeout is not None else self.timeout)


def _raise_if_incomplete(result: GatherResult, engine: Engine) -> None:
    if result.all_succeeded:
        return
    error: BaseException
    if result.timed_out and engine._stop_status.value == "timeout":
        error = TimeoutError(
            f"gather timed out: {result.completed} of {result.total} items completed"
        )
    elif engine.first_error is not None:
        error = engine.first_error
    else:
        error = RuntimeError(f"{result.cancelled} of {result.total} items were cancelled")
    error.partial = result  # type: ignore[attr-defined]
    raise error


async def parallel_gather(
    *aws: Awaitable[Any] | Callable[[], Awaitable[Any]],
    max_concurrent: int = 8,
    timeout: float | None = 60.0,
    return_partial: bool = True,
) -> GatherResult:
    """Await `aws` with at most `max_concurrent` at once; results in input order."""
    try:
        executor = ParallelExecutor(max_concurrent=max_concurrent, timeout=timeout)
    except ValueError:
        release_all(aws)  # refused before they could start: no "never awaited" warning
        raise
    return await executor.gather(aws, return_partial=return_partial)


async def parallel_map(
    func: Callable[[T], Awaitable[Any]],
    items: Iterable[T],
    max_concurrent: int = 8,
    timeout: float | None = 60.0,
    max_per_second: float | None = None,
) -> GatherResult:
    """`func(item)` for every item with bounded concurrency (and an optional start rate)."""
    executor = ParallelExecutor(max_concurrent=max_concurrent, timeout=timeout)
    return await executor.map(func, items, max_per_second=max_per_second)


class TaskGroup:
    """The structured form of `ParallelExecutor` (the same engine):

        async with TaskGroup(max_concurrent=4) as tg:
            tg.spawn(fetch(url))          # or a factory: tg.spawn(lambda: fetch(url))
        tg.result.get_results()

    Leaving the block waits for every item; `result` is the `GatherResult`. With
    `fail_fast` the first failure cancels the rest (completed results are kept). If the
    block itself raises or is cancelled, every item is cancelled and awaited first.
    """

    def __init__(self, max_concurrent: int | None = None, fail_fast: bool = True) -> None:
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError(f"max_concurrent must be >= 1, got {max_concurrent!r}")
        self.max_concurrent = max_concurrent
        self.fail_fast = fail_fast
        self.result: GatherResult | None = None
        self._engine: Engine | None = None

    async def __aenter__(self) -> TaskGroup:
        if self._engine is not None:
            raise RuntimeError("a TaskGroup can be entered only once")
        self._engine = Engine(
            limit=self.max_concurrent or _UNBOUNDED,
            stop_on_failure=self.fail_fast,
            observer=observer_for("task_group", self.max_concurrent),
        )
        return self

    def spawn(self, item: Awaitable[Any] | Callable[[], Awaitable[Any]]) -> TaskResult:
        """Add an item; it starts as soon as a slot is free. Returns its `TaskResult`."""
        if self._engine is None or self.result is not None:
            if inspect.iscoroutine(item):
                item.close()  # refused: it must not warn "never awaited" later
            raise RuntimeError("spawn() is only allowed inside `async with TaskGroup()`")
        return self._engine.add(item)

    @property
    def active(self) -> int:
        return self._engine.active if self._engine else 0

    @property
    def peak(self) -> int:
        return self._engine.peak if self._engine else 0

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        engine = self._engine
        assert engine is not None
        if exc is not None:
            await engine.stop()
        self.result = await engine.run()
