"""The daemon threads plain-function tools run in: bounded, idle ones leave, exits land in
the future (the process survives a tool's sys.exit)."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from graphdeck._threads import ToolThreads


def _wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def test_tool_threads_leave_when_idle_so_a_long_session_does_not_keep_its_peak() -> None:
    threads = ToolThreads(max_threads=8, idle_seconds=0.05)
    futures = [threads.submit(lambda i=i: i * 2) for i in range(20)]
    assert [f.result(timeout=10) for f in futures] == [i * 2 for i in range(20)]
    assert 1 <= threads.size <= 8
    _wait_until(lambda: threads.size == 0)


def test_tool_threads_never_exceed_their_bound_and_queue_the_rest() -> None:
    gate = threading.Event()
    threads = ToolThreads(max_threads=3, idle_seconds=5)
    futures = [threads.submit(gate.wait) for _ in range(7)]
    _wait_until(lambda: sum(f.running() for f in futures) == 3)
    assert threads.size == 3
    gate.set()
    assert all(f.result(timeout=10) for f in futures)


def test_a_system_exit_in_a_tool_thread_lands_in_its_future() -> None:
    threads = ToolThreads(max_threads=1, idle_seconds=5)
    with pytest.raises(SystemExit):
        threads.submit(lambda: sys.exit(2)).result(timeout=10)
    assert threads.submit(lambda: "still serving").result(timeout=10) == "still serving"
