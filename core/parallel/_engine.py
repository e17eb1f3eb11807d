"""The one engine behind every primitive of `graphdeck.parallel`.

At most `limit` worker tasks pull items in input order and await each inline, the design
the scheduler uses (docs/design.md §4.1): no Task, Future or semaphore per item, and items given
as factories are only called when a slot is free, so memory stays flat however many there
are. Items are awaitables, zero-argument callables returning one, or (map) arguments of a
function.

What the reference module got wrong and this one must not (docs/design.md §5): results come
back in input order; "first" cancels the losers at once; retries really re-invoke;
`task_timeout` exists; fail-fast keeps completed results and records what it cancelled.
Cancelling the caller cancels and awaits every item, and closes the coroutines that never
started (no "coroutine was never awaited" warnings).

A worker Task cancelled before its first step never runs a line of its coroutine (not even
a `finally`): that happens whenever an item fails or wins before its first `await` while
other workers are still waiting for their first turn. So the engine's bookkeeping of its
workers lives in a done-callback, which runs however a Task ends.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Protocol

from .. import limits
from .._context import exit_requested
from ._results import GatherResult, TaskResult, TaskStatus

#: seconds cancelled items get to stop before they are abandoned (still referenced)
CANCEL_GRACE = 2.0
_ids = itertools.count(1)
_abandoned: set[asyncio.Task[None]] = set()


class Observer(Protocol):
    """Hook for the monitor: told when items start and end and when occupancy changes."""

    def started(self, result: TaskResult) -> None: ...
    def finished(self, result: TaskResult) -> None: ...
    def occupancy(self, active: int, peak: int) -> None: ...


def take_items(items: Iterable[Any]) -> list[Any]:
    """All of `items`, each checked to be an awaitable or a factory of one.

    Checking them all before anything starts means a bad item leaves nothing half-started;
    the coroutines given with it are closed, since they will never run and must not warn
    "coroutine was never awaited" later.
    """
    taken: list[Any] = []
    try:
        taken.extend(items)
        for index, item in enumerate(taken):
            _check_item(index, item)
    except BaseException:
        release_all(taken)
        raise
    return taken


def release_all(items: Iterable[Any]) -> None:
    """Free what items that will never start hold (an argument error refused them)."""
    for item in items:
        _release(item)


def _check_item(index: int, item: Any) -> None:
    if not (inspect.isawaitable(item) or callable(item)):
        raise TypeError(
            f"item {index} is a {type(item).__name__}: give an awaitable "
            "or a zero-argument callable that returns one"
        )


def _release(item: Any) -> None:
    """Free what an item that will never start holds."""
    if inspect.iscoroutine(item):
        item.close()
    elif isinstance(item, asyncio.Future):
        item.cancel()


class Engine:
    def __init__(
        self,
        *,
        limit: float,
        task_timeout: float | None = None,
        stop_on_failure: bool = False,
        stop_on_success: bool = False,
        retries: int = 0,
        per_second: float | None = None,
        observer: Observer | None = None,
        call: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> None:
        self.limit = limit
        self.task_timeout = task_timeout
        self.stop_on_failure = stop_on_failure
        self.stop_on_success = stop_on_success
        self.retries = retries
        self.observer = observer
        self.call = call
        self.id = f"g{next(_ids)}"
        self.results: list[TaskResult] = []
        self.active = 0
        self.peak = 0
        self.first_error: BaseException | None = None
        self.first_success: TaskResult | None = None
        self._interval = 1.0 / per_second if per_second else 0.0
        self._next_start = 0.0
        self._queue: deque[tuple[TaskResult, Any]] = deque()
        self._source: Iterator[Any] | None = None
        self._source_left = 0.0  # items the source still holds (inf if unknown)
        # Invariant: every worker Task that is not done yet. A Task leaves it in its
        # done-callback (`_worker_done`), also when it was cancelled before it ever ran.
        self._workers: set[asyncio.Task[None]] = set()
        self._closed = False  # no more items will be added
        self._stopping = False  # no more items may start
        self._stop_status = TaskStatus.CANCELLED  # what unfinished items become
        # Invariant: made by `run`; resolved by the done-callback that empties `_workers`.
        self._idle: asyncio.Future[None] | None = None
        self._began = time.monotonic()

    # -- feeding ------------------------------------------------------------------------

    def add(self, item: Any) -> TaskResult:
        """Queue one item (an awaitable or a zero-argument factory of one)."""
        if self.call is None:
            _check_item(len(self.results), item)
        result = TaskResult(self.id, len(self.results))
        self.results.append(result)
        if self._stopping:
            self._settle_unstarted(result, item)
        else:
            self._queue.append((result, item))
            self._fill()
        return result

    def feed(self, items: Iterable[Any]) -> None:
        """Take items lazily from an iterable, one whenever a slot frees up."""
        self._source_left = len(items) if hasattr(items, "__len__") else float("inf")  # type: ignore[arg-type]
        self._source = iter(items)

    def _take(self) -> tuple[TaskResult, Any] | None:
        if self._queue:
            return self._queue.popleft()
        if self._source is not None:
            for item in self._source:
                self._source_left -= 1
                result = TaskResult(self.id, len(self.results))
                self.results.append(result)
                return result, item
            self._source = None
            self._source_left = 0
        return None

    # -- running ------------------------------------------------------------------------

    async def run(self, timeout: float | None = None) -> GatherResult:
        """Close the engine to new items, wait for all of them and report.

        A global `timeout` stops everything still going: unfinished items become TIMEOUT.
        Cancelling the caller cancels and awaits every item, then re-raises.
        """
        self._closed = True
        self._fill()
        try:
            if self._workers or self._queue or self._source is not None:
                self._idle = asyncio.get_running_loop().create_future()
                if self._workers:
                    async with asyncio.timeout(timeout):
                        await self._idle
        except TimeoutError:
            await self.stop(TaskStatus.TIMEOUT)
        except asyncio.CancelledError:
            await self.stop(TaskStatus.CANCELLED)
            raise
        finally:
            self._settle_leftovers()
        return GatherResult.from_results(self.results, (time.monotonic() - self._began) * 1e3)

    async def stop(self, status: TaskStatus = TaskStatus.CANCELLED) -> None:
        """Start nothing more; cancel what runs and wait for it (bounded by the grace
        period: an item that ignores cancellation is abandoned, still referenced)."""
        self._halt(status, None)
        workers = list(self._workers)
        if workers:
            _, stuck = await asyncio.wait(workers, timeout=CANCEL_GRACE)
            for task in stuck:
                _abandoned.add(task)
                task.add_done_callback(_abandoned.discard)

    def _halt(self, status: TaskStatus, keep: asyncio.Task[None] | None) -> None:
        if not self._stopping:
            self._stopping = True
            self._stop_status = status
        for worker in self._workers:
            if worker is not keep:
                worker.cancel()

    def _fill(self) -> None:
        """Start workers for waiting items, up to the limit. Workers keep pulling until
        nothing is left, so this only matters when items arrive or the run starts."""
        if self._stopping:
            return
        workers = self._workers
        waiting = len(self._queue) + self._source_left
        idle = len(workers) - self.active
        loop = asyncio.get_running_loop()
        while len(workers) < self.limit and idle < waiting:
            task = loop.create_task(self._worker(), name=f"graphdeck-{self.id}")
            workers.add(task)
            task.add_done_callback(self._worker_done)
            idle += 1

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        """Forget a worker however it ended: returned, raised, cancelled while running, or
        cancelled before its first step (then none of its own code ever ran).

        Between a worker's return and this callback, `_fill` still counts it as a free
        worker; refilling here starts whatever was added in that window.
        """
        self._workers.discard(task)
        self._fill()
        if not self._workers and self._closed and self._idle and not self._idle.done():
            self._idle.set_result(None)

    async def _worker(self) -> None:
        """Pull items in order and await each inline until none is left or the engine
        stops. It keeps no engine bookkeeping of its own (see `_worker_done`): it may be
        cancelled before its first step, and then none of this code runs."""
        task = asyncio.current_task()
        assert task is not None
        observer = self.observer
        yielded = time.monotonic()
        yield_after = limits.YIELD_AFTER
        while not self._stopping:
            if time.monotonic() - yielded > yield_after:
                await asyncio.sleep(0)  # items that never suspend must not starve the loop
                yielded = time.monotonic()
                continue
            entry = self._take()
            if entry is None:
                return
            result, item = entry
            if self._interval:
                try:
                    await self._pace()
                except asyncio.CancelledError:
                    self._settle_unstarted(result, item)
                    raise
            result.status = TaskStatus.RUNNING
            result.started_at = time.monotonic()
            self.active += 1
            if self.active > self.peak:
                self.peak = self.active
            if observer is not None:
                observer.started(result)
                observer.occupancy(self.active, self.peak)
            try:
                await self._attempts(result, item, task)
            except asyncio.CancelledError:
                self._settle(result, self._stop_status if self._stopping else TaskStatus.CANCELLED)
                if task.cancelling():
                    raise
                # the item cancelled itself: go on with the next one
            finally:
                self.active -= 1
                if observer is not None:
                    observer.occupancy(self.active, self.peak)

    async def _attempts(self, result: TaskResult, item: Any, task: asyncio.Task[None]) -> None:
        while True:
            try:
                awaitable = self._start(item)
                if self.task_timeout is None:
                    value = await awaitable
                else:
                    async with asyncio.timeout(self.task_timeout):
                        value = await awaitable
            except (Exception, SystemExit, KeyboardInterrupt) as error:
                # SystemExit / KeyboardInterrupt from an item (a `sys.exit` in user code) fail
                # that item, never retried: out of a worker Task asyncio would re-raise them
                # from the loop and end the process.
                if not isinstance(error, Exception) and exit_requested():
                    raise
                retryable = isinstance(error, Exception) and self._retryable(item)
                if result.retries < self.retries and retryable and not self._stopping:
                    result.retries += 1
                    continue
                timed_out = isinstance(error, TimeoutError)
                self._settle(result, TaskStatus.TIMEOUT if timed_out else TaskStatus.FAILED, error)
                if self.first_error is None:
                    self.first_error = error
                if self.stop_on_failure:
                    self._halt(TaskStatus.CANCELLED, task)
                return
            self._settle(result, TaskStatus.COMPLETED, value=value)
            if self.stop_on_success and self.first_success is None:
                self.first_success = result
                self._halt(TaskStatus.CANCELLED, task)
            return

    def _retryable(self, item: Any) -> bool:
        """Only a factory (or a mapped call) can make a fresh awaitable for a new attempt."""
        return self.call is not None or not inspect.isawaitable(item)

    def _start(self, item: Any) -> Awaitable[Any]:
        if self.call is not None:
            return self.call(item)
        if inspect.isawaitable(item):
            return item
        awaitable = item()
        if not inspect.isawaitable(awaitable):
            raise TypeError(f"factory returned {type(awaitable).__name__}, not an awaitable")
        return awaitable

    async def _pace(self) -> None:
        """Space starts `1 / per_second` apart (a simple, fair rate limit)."""
        now = time.monotonic()
        start = max(now, self._next_start)
        self._next_start = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)

    # -- settling -----------------------------------------------------------------------

    def _settle(
        self,
        result: TaskResult,
        status: TaskStatus,
        error: BaseException | None = None,
        value: Any = None,
    ) -> None:
        result.status = status
        result.error = error
        result.result = value
        result.finished_at = time.monotonic()
        if self.observer is not None:
            self.observer.finished(result)

    def _settle_unstarted(self, result: TaskResult, item: Any) -> None:
        """An item that will never start: record it and release what it holds."""
        _release(item)
        result.status = self._stop_status if self._stopping else TaskStatus.CANCELLED
        if self.observer is not None:
            self.observer.finished(result)

    def _settle_leftovers(self) -> None:
        while self._queue:
            self._settle_unstarted(*self._queue.popleft())
        if self._source is not None:
            for item in self._source:
                result = TaskResult(self.id, len(self.results))
                self.results.append(result)
                self._settle_unstarted(result, item)
            self._source = None
            self._source_left = 0
