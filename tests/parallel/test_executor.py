"""ParallelExecutor, parallel_gather, parallel_map, TaskThrottler."""

from __future__ import annotations

import asyncio
import gc
import time
import warnings

import pytest

from graphdeck.parallel import (
    GatherResult,
    ParallelExecutor,
    TaskStatus,
    TaskThrottler,
    parallel_gather,
    parallel_map,
)


class Gauge:
    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.started: list[int] = []

    async def work(self, value: int, delay: float = 0.0, fail: bool = False) -> int:
        self.active += 1
        self.peak = max(self.peak, self.active)
        self.started.append(value)
        try:
            await asyncio.sleep(delay)
            if fail:
                raise ValueError(f"item {value} failed")
            return value
        finally:
            self.active -= 1


async def test_results_come_back_in_input_order_not_completion_order() -> None:
    gauge = Gauge()
    # Seed defect: results were appended in start order. Later items finish first here.
    result = await parallel_gather(
        *(gauge.work(i, delay=0.005 * (6 - i)) for i in range(6)), max_concurrent=6
    )
    assert [r.index for r in result.results] == list(range(6))
    assert result.get_results() == list(range(6))
    assert result.total == result.completed == 6 and result.all_succeeded
    assert result.success_rate == 1.0


async def test_concurrency_is_bounded_and_reported() -> None:
    gauge = Gauge()
    result = await ParallelExecutor(max_concurrent=3).map(lambda i: gauge.work(i, 0.005), range(20))
    assert gauge.peak == 3 and result.completed == 20


async def test_factories_start_only_when_a_slot_is_free() -> None:
    gauge = Gauge()
    created = []

    def factory(i):
        created.append(i)
        return gauge.work(i, 0.01)

    executor = ParallelExecutor(max_concurrent=2)
    task = asyncio.create_task(executor.gather([lambda i=i: factory(i) for i in range(10)]))
    await asyncio.sleep(0.002)
    assert len(created) == 2  # not 10 coroutines created up front
    result = await task
    assert result.get_results() == list(range(10))


async def test_failures_are_recorded_without_fail_fast() -> None:
    gauge = Gauge()
    result = await parallel_gather(*(gauge.work(i, fail=i % 3 == 0) for i in range(7)))
    assert result.failed == 3 and result.completed == 4
    assert [tid for tid, _ in result.get_errors()] == [result.results[i].task_id for i in (0, 3, 6)]
    assert all(isinstance(e, ValueError) for _, e in result.get_errors())
    assert result.results[3].status is TaskStatus.FAILED


async def test_fail_fast_cancels_the_others_and_keeps_completed_results() -> None:
    gauge = Gauge()
    executor = ParallelExecutor(max_concurrent=4, fail_fast=True)
    items = [
        gauge.work(0, 0.0),
        gauge.work(1, 0.02, fail=True),
        gauge.work(2, 5.0),
        gauge.work(3, 5.0),
        gauge.work(4, 5.0),  # never started: closed, not "never awaited"
    ]
    began = time.monotonic()
    result = await executor.gather(items)
    assert time.monotonic() - began < 1.0
    statuses = [r.status for r in result.results]
    assert statuses == [
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
        TaskStatus.CANCELLED,
        TaskStatus.CANCELLED,
    ]
    assert result.results[0].result == 0  # seed defect: partial results were lost
    assert gauge.active == 0


async def test_return_partial_false_raises_first_error_with_partial_attached() -> None:
    gauge = Gauge()
    with pytest.raises(ValueError, match="item 1 failed") as info:
        await parallel_gather(gauge.work(0), gauge.work(1, fail=True), return_partial=False)
    partial = info.value.partial
    assert isinstance(partial, GatherResult) and partial.completed == 1 and partial.failed == 1


async def test_global_timeout_marks_unfinished_timeout_and_stops_them() -> None:
    gauge = Gauge()
    executor = ParallelExecutor(max_concurrent=2, timeout=0.1)
    began = time.monotonic()
    result = await executor.gather([gauge.work(0, 0.01), gauge.work(1, 5), gauge.work(2, 5)])
    elapsed = time.monotonic() - began
    assert 0.1 <= elapsed < 5  # never early, and the 5 s items were not waited for
    assert [r.status for r in result.results] == [
        TaskStatus.COMPLETED,
        TaskStatus.TIMEOUT,
        TaskStatus.TIMEOUT,
    ]
    assert result.timed_out == 2 and gauge.active == 0


async def test_global_timeout_with_return_partial_false_raises_timeout() -> None:
    gauge = Gauge()
    with pytest.raises(TimeoutError) as info:
        await ParallelExecutor(timeout=0.05).gather(
            [gauge.work(0), gauge.work(1, 5)], return_partial=False
        )
    assert info.value.partial.completed == 1 and info.value.partial.timed_out == 1


async def test_per_task_timeout_within_20ms() -> None:
    # Seed defect: the documented per-task timeout did not exist.
    gauge = Gauge()
    executor = ParallelExecutor(max_concurrent=3, task_timeout=0.05)
    result = await executor.gather([gauge.work(0, 0.01), gauge.work(1, 5), gauge.work(2, 0.02)])
    slow = result.results[1]
    assert slow.status is TaskStatus.TIMEOUT and isinstance(slow.error, TimeoutError)
    assert 50 <= slow.duration_ms <= 70
    assert result.completed == 2


async def test_cancelling_the_caller_cancels_and_awaits_everything() -> None:
    gauge = Gauge()
    task = asyncio.create_task(
        ParallelExecutor(max_concurrent=2).gather([gauge.work(i, 5) for i in range(6)])
    )
    await asyncio.sleep(0.01)
    assert gauge.active == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gauge.active == 0
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("graphdeck-")] == []


async def test_items_never_started_are_closed_without_warnings() -> None:
    gauge = Gauge()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await ParallelExecutor(max_concurrent=1, fail_fast=True).gather(
            [gauge.work(0, fail=True), *(gauge.work(i) for i in range(1, 5))]
        )
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]


async def test_item_that_cancels_itself_is_cancelled_others_continue() -> None:
    async def self_cancel():
        raise asyncio.CancelledError

    gauge = Gauge()
    result = await parallel_gather(self_cancel(), gauge.work(1), max_concurrent=1)
    assert [r.status for r in result.results] == [TaskStatus.CANCELLED, TaskStatus.COMPLETED]


async def test_max_per_second_spaces_the_starts() -> None:
    starts = []

    async def stamp(i):
        starts.append(time.monotonic())
        return i

    result = await parallel_map(stamp, range(5), max_concurrent=5, max_per_second=50)
    assert result.get_results() == list(range(5))
    # Starts are booked 1/50 s apart from the first (which does not wait); any one can
    # wake late under load, so compare each with the first, never with its neighbour.
    assert all(start - starts[0] >= k * 0.02 - 0.001 for k, start in enumerate(starts))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_concurrent"):
        ParallelExecutor(max_concurrent=0)
    with pytest.raises(ValueError, match="timeout"):
        ParallelExecutor(timeout=0)
    with pytest.raises(ValueError, match="max_concurrent"):
        TaskThrottler(0)


async def test_non_awaitable_item_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="item 1 is a int"):
        await parallel_gather(asyncio.sleep(0), 5)


async def test_empty_inputs() -> None:
    result = await parallel_gather()
    assert result.total == 0 and result.all_succeeded and result.success_rate == 0.0


async def test_throttler_counts_active_and_peak() -> None:
    throttler = TaskThrottler(max_concurrent=2)
    seen = []

    async def job():
        async with throttler:
            seen.append(throttler.active)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(job() for _ in range(6)))
    assert max(seen) == 2 and throttler.peak == 2 and throttler.active == 0
    assert throttler.max_concurrent == 2
