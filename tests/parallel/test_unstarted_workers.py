"""Regressions: an item that fails or wins before its first `await` halts the engine while
other worker Tasks have not run yet. Cancelling such a Task means its coroutine never
starts, so no bookkeeping may live only in the worker's own code.

Every test is bounded by `asyncio.timeout(5)`: a regression fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import warnings

import pytest

from graphdeck.parallel import (
    FanOutConfig,
    FanOutExecutor,
    ParallelExecutor,
    TaskGroup,
    TaskStatus,
    parallel_gather,
)

HANG_GUARD = 5.0


async def work(n: int) -> int:
    if n == 1:
        raise ValueError("x")  # fails before any await
    await asyncio.sleep(0.5)
    return n


async def win_or_wait(n: int) -> int:
    if n == 1:
        return n  # wins before any await
    await asyncio.sleep(0.5)
    return n


def no_engine_tasks_left() -> bool:
    return not [t for t in asyncio.all_tasks() if t.get_name().startswith("graphdeck-")]


async def test_fail_fast_gather_returns_when_an_item_fails_before_its_first_await() -> None:
    executor = ParallelExecutor(max_concurrent=3, timeout=None, fail_fast=True)
    async with asyncio.timeout(HANG_GUARD):
        result = await executor.gather([work(0), work(1), work(2)])
    assert [r.status for r in result.results] == [
        TaskStatus.CANCELLED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
    ]
    assert isinstance(result.results[1].error, ValueError)
    assert no_engine_tasks_left()


async def test_task_group_returns_when_an_item_fails_before_its_first_await() -> None:
    async with asyncio.timeout(HANG_GUARD):
        async with TaskGroup(max_concurrent=3, fail_fast=True) as tg:
            for n in range(3):
                tg.spawn(work(n))
    assert tg.result is not None
    assert [r.status for r in tg.result.results] == [
        TaskStatus.CANCELLED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
    ]
    assert no_engine_tasks_left()


async def test_fan_out_first_returns_when_the_winner_wins_before_its_first_await() -> None:
    executor = FanOutExecutor(FanOutConfig(max_concurrent=3, timeout=None, aggregation="first"))
    async with asyncio.timeout(HANG_GUARD):
        winner = await executor.fan_out([win_or_wait(0), win_or_wait(1), win_or_wait(2)])
    assert winner == 1
    assert no_engine_tasks_left()


async def test_fan_out_first_with_factories_cancels_losers_that_never_ran() -> None:
    made: list[int] = []

    def factory(n: int):
        made.append(n)
        return win_or_wait(n)

    config = FanOutConfig(max_concurrent=3, timeout=None, aggregation="first")
    async with asyncio.timeout(HANG_GUARD):
        winner = await FanOutExecutor(config).fan_out([lambda n=n: factory(n) for n in range(4)])
    assert winner == 1
    assert made == [0, 1]  # items 2 and 3 never got a slot, so they were never made


async def test_task_group_body_error_before_any_item_ran_cancels_and_propagates() -> None:
    coros = [work(0), work(2)]
    with pytest.raises(ZeroDivisionError):
        async with asyncio.timeout(HANG_GUARD):
            async with TaskGroup(max_concurrent=2) as tg:
                for coro in coros:
                    tg.spawn(coro)
                1 / 0  # noqa: B018  (no await between the spawns and the error)
    assert tg.result is not None and tg.result.cancelled == 2
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in coros)
    assert no_engine_tasks_left()


async def test_fan_out_bad_worker_among_good_ones_starts_and_leaks_nothing() -> None:
    coros = [work(0), work(2)]
    with pytest.raises(TypeError, match="item 1 is a int"):
        await FanOutExecutor(FanOutConfig(timeout=None)).fan_out([coros[0], 5, coros[1]])
    await asyncio.sleep(0)  # a worker started by mistake would run now
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in coros)
    assert no_engine_tasks_left()


async def test_gather_bad_item_closes_the_coroutines_after_it() -> None:
    coros = [work(0), work(2), work(3)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TypeError, match="item 1 is a int"):
            await parallel_gather(coros[0], 5, coros[1], coros[2], timeout=None)
        gc.collect()
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in coros)
    assert not [w for w in caught if "never awaited" in str(w.message)]
    assert no_engine_tasks_left()


async def test_argument_errors_close_the_coroutines_they_refuse() -> None:
    coros = [work(0), work(2), work(3)]
    with pytest.raises(ValueError, match="max_concurrent"):
        await parallel_gather(coros[0], coros[1], max_concurrent=0)
    with pytest.raises(ValueError, match="timeout"):
        await ParallelExecutor().gather([coros[2]], timeout=0)
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in coros)


async def test_item_spawned_just_after_a_worker_returned_still_starts() -> None:
    # A worker that has returned stays counted until its done-callback runs; an item
    # spawned in between must still get a worker, not wait for the end of the block.
    first_done = asyncio.Event()
    second_started = asyncio.Event()

    async def first() -> None:
        first_done.set()  # its worker returns in this same step: the queue is empty

    async def second() -> None:
        second_started.set()

    async with asyncio.timeout(HANG_GUARD):
        async with TaskGroup(max_concurrent=1) as tg:
            tg.spawn(first())
            await first_done.wait()
            tg.spawn(second())
            await second_started.wait()  # hangs if nothing picks the item up
    assert tg.result is not None and tg.result.completed == 2


async def test_an_item_calling_sys_exit_fails_that_item_and_the_rest_go_on() -> None:
    import sys

    async def exits() -> None:
        sys.exit(3)

    async def fine() -> int:
        await asyncio.sleep(0)
        return 7

    result = await ParallelExecutor(max_concurrent=2, timeout=None).gather([exits(), fine()])
    assert result.get_results() == [7]
    [(_, error)] = result.get_errors()
    assert isinstance(error, SystemExit) and error.code == 3
