"""The history writer: the run's row written at once, write failures said (never silent),
and its backlog bounded by backpressure."""

from __future__ import annotations

import contextlib
import sqlite3
import time

from graphdeck import graphify, start, tool
from graphdeck.store import Recorder, RunStore


async def test_a_run_is_listed_as_soon_as_record_returns(store, graph) -> None:
    recorder = store.recorder()
    try:
        handle = start(graph, {"n": 2})
        recorder.record(handle, file="/graphs/squares.py")
        (listed,) = store.runs()  # before the run's first node has run
        assert (listed.id, listed.state, listed.file) == (
            handle.id,
            "running",
            "/graphs/squares.py",
        )
        assert store.load(handle.id).inputs == {"n": 2}
        await handle.result()
    finally:
        assert recorder.close()
    assert store.load(handle.id).summary.state == "succeeded"


async def test_a_full_disk_is_said_at_once_and_close_names_the_run_not_recorded(
    store, graph, disk_fills
) -> None:
    recorder = store.recorder()
    handle = start(graph, {"n": 200}, on_error="continue")
    recorder.record(handle)
    await handle.wait()
    began = time.monotonic()
    assert not recorder.flush(timeout=60)  # waiting would not help: it gives up at once
    assert time.monotonic() - began < 30
    assert recorder.problem.startswith("history not recorded: the disk holding the run history")
    assert not recorder.close(timeout=60)
    assert recorder.problem.startswith(f"history not recorded: run {handle.id} (squares)")
    assert "is full" in recorder.problem and "\n" not in recorder.problem


async def test_close_names_the_runs_a_lock_held_for_good_kept_out(store, graph) -> None:
    recorder = Recorder(store.path, interval=0.05)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        handle = start(graph, {"n": 2})
        recorder.record(handle)
        await handle.result()
        assert not recorder.close(timeout=0.5)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert recorder.problem.startswith(f"history not recorded: run {handle.id} (squares)")
    assert "locked by another process" in recorder.problem
    assert store.runs() == []


@tool(outputs=["v"])
async def instant(i: int) -> dict:
    return {"v": i}


@graphify(name="wide", inputs=["n"], outputs=["n"])
def wide(n):
    return {"n": len([instant(i=i).v for i in range(n)])}


async def test_runs_faster_than_the_writer_wait_for_it_instead_of_piling_up(store) -> None:
    runs, nodes, limit = 40, 1_000, 10_000  # each run: ~5,000 log rows
    recorder = Recorder(store.path, max_backlog=limit)
    peak = one_run = 0
    try:
        for _ in range(runs):
            handle = start(wide, {"n": nodes}, max_concurrency=64)
            recorder.record(handle)
            await handle.result()
            one_run = max(one_run, handle.event_count)
            peak = max(peak, recorder.backlog)
        assert recorder.flush(timeout=60)
    finally:
        assert recorder.close()
    # The writer is slower per node than these runs: without backpressure the backlog
    # grows with every run; with it, it stays within the limit plus the run that ended.
    assert peak <= limit + one_run, f"{peak:,} rows behind"
    assert len(store.runs(limit=None)) == runs
    assert {r.nodes for r in store.runs(limit=None)} == {nodes}


async def test_past_the_limit_a_run_is_refused_while_the_database_fails(store, graph) -> None:
    recorder = Recorder(store.path, interval=0.05, max_backlog=10)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        first = start(graph, {"n": 5}, on_error="continue")
        recorder.record(first)
        with contextlib.suppress(Exception):
            await first.result()
        second = start(graph, {"n": 2})
        assert recorder.record(second) is False  # at once: waiting would not help
        assert recorder.problem.startswith(f"history not recorded: run {second.id} (squares)")
        assert "waiting for the database" in recorder.problem
        await second.result()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert recorder.close()
    assert [r.id for r in RunStore(store.path).runs()] == [first.id]
    assert second.id in recorder.problem  # still said after close
