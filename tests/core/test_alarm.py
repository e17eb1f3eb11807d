"""The watchdog's alarm (rings unless re-armed in time) and its thread's lifetime."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest

from graphdeck import _alarm, graphify, run_async, tool

KINDS = [_alarm.PollingAlarm] + ([_alarm.TimerfdAlarm] if _alarm._timerfd is not None else [])


class Waiter:
    """A thread waiting on an alarm; `rang` records each wait's answer."""

    def __init__(self, alarm) -> None:
        self.rang: list[bool] = []
        self.thread = threading.Thread(target=self._wait, args=(alarm,), daemon=True)
        self.thread.start()

    def _wait(self, alarm) -> None:
        while True:
            answer = alarm.wait()
            self.rang.append(answer)
            if not answer:
                return

    def until(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.rang) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(self.rang) >= count, f"the alarm answered {self.rang}, wanted {count}"


def test_linux_has_the_kernel_timer() -> None:
    import sys

    if sys.platform.startswith("linux"):
        assert isinstance(_alarm.new_alarm(), _alarm.TimerfdAlarm)


@pytest.mark.parametrize("kind", KINDS)
def test_it_rings_once_after_its_deadline(kind) -> None:
    alarm = kind()
    waiter = Waiter(alarm)
    began = time.monotonic()
    alarm.arm(0.05)
    waiter.until(1)
    assert time.monotonic() - began >= 0.05
    assert waiter.rang == [True]
    alarm.close()
    waiter.until(2)
    assert waiter.rang == [True, False]


@pytest.mark.parametrize("kind", KINDS)
def test_re_arming_in_time_keeps_it_silent(kind) -> None:
    alarm = kind()
    waiter = Waiter(alarm)
    for _ in range(30):
        alarm.arm(1.0)
        time.sleep(0.01)
    assert waiter.rang == []
    alarm.close()
    waiter.until(1)
    assert waiter.rang == [False]


@pytest.mark.parametrize("kind", KINDS)
def test_a_disarmed_alarm_stays_silent_until_armed_again(kind) -> None:
    alarm = kind()
    waiter = Waiter(alarm)
    alarm.arm(0.05)
    alarm.disarm()
    time.sleep(0.3)
    assert waiter.rang == []
    alarm.arm(0.01)  # (a waiter parked with no deadline must hear of the new one)
    waiter.until(1)
    assert waiter.rang == [True]
    alarm.close()
    waiter.until(2)


@tool
async def echo(x: int) -> int:
    return x


@graphify(outputs=["y"])
def one_echo(x: int):
    return {"y": echo(x=x)}


def watchdog_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "graphdeck-watchdog"]


def test_one_parked_thread_serves_every_run_on_a_loop() -> None:
    before = set(watchdog_threads())
    loop = asyncio.new_event_loop()
    try:
        for x in range(3):
            assert loop.run_until_complete(run_async(one_echo, {"x": x}, block_threshold=0.1))
        assert len(set(watchdog_threads()) - before) == 1
    finally:
        loop.close()


def test_a_loop_gone_takes_its_watchdog_thread_with_it() -> None:
    """Each `asyncio.run` makes a loop: neither it nor its thread outlives it."""
    from graphdeck import _watchdog

    before = set(watchdog_threads())
    watchdogs_before = len(_watchdog._watchdogs)
    for x in range(3):
        asyncio.run(run_async(one_echo, {"x": x}, block_threshold=0.1))
    gc.collect()
    assert len(_watchdog._watchdogs) <= watchdogs_before
    for thread in set(watchdog_threads()) - before:
        thread.join(10)
        assert not thread.is_alive()


def test_a_loop_closed_while_watched_ends_its_watchdog_thread() -> None:
    """A loop closed with a run never finished: no beat pushes the alarm back any more;
    when it rings, the thread finds the loop closed and ends."""
    from graphdeck._watchdog import Watched, watchdog_for

    before = set(watchdog_threads())
    loop = asyncio.new_event_loop()

    async def watch() -> None:
        watched = Watched(0.05, frames_of=list, report=lambda block: None)
        watchdog_for(asyncio.get_running_loop()).watch(1, watched)

    loop.run_until_complete(watch())
    loop.close()
    [thread] = set(watchdog_threads()) - before
    thread.join(10)
    assert not thread.is_alive()
