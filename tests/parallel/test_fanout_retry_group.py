"""FanOutExecutor (all/first/merge), retry/RetryPolicy and TaskGroup."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from graphdeck.parallel import (
    FanOutConfig,
    FanOutExecutor,
    RetryPolicy,
    TaskGroup,
    TaskStatus,
    retry,
)


async def slow_value(value, delay, fail=False, log=None):
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError:
        if log is not None:
            log.append(("cancelled", value, time.monotonic()))
        raise
    if fail:
        raise RuntimeError(f"worker {value} failed")
    return value


async def test_first_returns_first_success_and_cancels_losers_at_once() -> None:
    log: list = []
    executor = FanOutExecutor(FanOutConfig(aggregation="first"))
    began = time.monotonic()
    winner = await executor.fan_out(
        [
            slow_value("slow", 1.0, log=log),
            slow_value("fast", 0.02, log=log),
            slow_value("bad", 0.01, fail=True, log=log),
        ]
    )
    elapsed = time.monotonic() - began
    assert winner == "fast"
    assert elapsed < 0.2  # seed defect: it waited for every worker
    assert [entry[1] for entry in log] == ["slow"]  # the loser was cancelled


async def test_first_with_all_failing_raises_exception_group() -> None:
    executor = FanOutExecutor(FanOutConfig(aggregation="first"))
    with pytest.raises(ExceptionGroup) as info:
        await executor.fan_out([slow_value(i, 0, fail=True) for i in range(3)])
    assert len(info.value.exceptions) == 3


async def test_merge_needs_merge_fn_before_anything_starts() -> None:
    started = []

    async def work():
        started.append(1)

    with pytest.raises(ValueError, match="merge_fn"):
        await FanOutExecutor(FanOutConfig(aggregation="merge")).fan_out([work(), work()])
    await asyncio.sleep(0)
    assert started == []


async def test_merge_combines_successful_results() -> None:
    executor = FanOutExecutor(FanOutConfig(aggregation="merge"))
    assert await executor.fan_out([slow_value(i, 0) for i in (1, 2, 3)], merge_fn=sum) == 6


async def test_retry_failed_really_reinvokes_factories() -> None:
    # Seed defect: retry was a stub that did nothing.
    calls = {"n": 0}

    async def flaky():
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("try again")
        return "ok"

    config = FanOutConfig(aggregation="all", retry_failed=True, max_retries=2)
    result = await FanOutExecutor(config).fan_out([flaky])
    assert result.get_results() == ["ok"] and result.results[0].retries == 2
    assert calls["n"] == 3


async def test_retry_failed_with_coroutine_objects_explains_factories() -> None:
    config = FanOutConfig(retry_failed=True)
    with pytest.raises(TypeError, match="factories"):
        await FanOutExecutor(config).fan_out([slow_value(1, 0)])


async def test_retry_with_backoff_then_success() -> None:
    attempts = []

    async def flaky():
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise OSError("flaky")
        return len(attempts)

    policy = RetryPolicy(max_attempts=4, backoff=0.02, max_backoff=1, jitter=0)
    assert await retry(flaky, policy) == 3
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert 0.018 <= gaps[0] < 0.04 and 0.038 <= gaps[1] < 0.07  # 0.02 then 0.04


async def test_retry_gives_up_with_the_last_error() -> None:
    async def broken():
        raise KeyError("nope")

    with pytest.raises(KeyError) as info:
        await retry(broken, RetryPolicy(max_attempts=2, backoff=0))
    assert "gave up after 2 attempts" in "".join(info.value.__notes__)


async def test_retry_only_retries_listed_exceptions() -> None:
    calls = []

    async def wrong_type():
        calls.append(1)
        raise TypeError("not retried")

    with pytest.raises(TypeError):
        await retry(wrong_type, RetryPolicy(max_attempts=5, backoff=0, retry_on=(OSError,)))
    assert calls == [1]


async def test_retry_never_swallows_an_outer_timeout() -> None:
    # tenacity issue 529: the cancellation from an outer timeout must not be retried.
    calls = []

    async def slow():
        calls.append(1)
        await asyncio.sleep(1)

    policy = RetryPolicy(max_attempts=10, backoff=0, retry_on=(BaseException,))
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await retry(slow, policy)
    assert time.monotonic() - began < 0.2 and calls == [1]


def test_retry_policy_validation() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)


async def test_task_group_awaits_everything_and_reports() -> None:
    async with TaskGroup(max_concurrent=2) as tg:
        for i in range(5):
            tg.spawn(slow_value(i, 0.01))
        tg.spawn(lambda: slow_value(99, 0))
    assert tg.result.get_results() == [0, 1, 2, 3, 4, 99]
    assert tg.peak == 2


async def test_task_group_fail_fast_cancels_the_rest() -> None:
    async with TaskGroup(fail_fast=True) as tg:
        tg.spawn(slow_value("slow", 5))
        tg.spawn(slow_value("bad", 0.01, fail=True))
    assert [r.status for r in tg.result.results] == [TaskStatus.CANCELLED, TaskStatus.FAILED]


async def test_task_group_body_error_cancels_items_and_propagates() -> None:
    log: list = []
    with pytest.raises(ZeroDivisionError):
        async with TaskGroup() as tg:
            tg.spawn(slow_value("a", 5, log=log))
            await asyncio.sleep(0.01)
            1 / 0  # noqa: B018
    assert log and log[0][1] == "a"
    assert tg.result.cancelled == 1
    with pytest.raises(RuntimeError, match="inside"):
        tg.spawn(slow_value("late", 0))
