"""graphdeck.analysis: the critical path of a run, on records with known times and on a
real run."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from graphdeck import graphify, run_async, start, tool
from graphdeck.analysis import critical_path


@dataclass
class Record:
    id: str
    started_at: float | None
    finished_at: float | None
    upstream: tuple[str, ...] = ()
    kind: str = "tool"
    group: str | None = None


@dataclass
class FakeRun:
    nodes: dict
    started_at: float = 0.0
    finished_at: float | None = 10.0


def fake(*records: Record, finished_at: float | None = 10.0) -> FakeRun:
    return FakeRun({r.id: r for r in records}, finished_at=finished_at)


def test_the_path_follows_the_input_that_arrived_last() -> None:
    run = fake(
        Record("a", 0.0, 1.0),
        Record("slow", 1.0, 6.0, ("a",)),
        Record("fast", 1.0, 2.0, ("a",)),
        Record("join", 6.0, 10.0, ("slow", "fast")),
    )
    path = critical_path(run)
    assert path.nodes == ["a", "slow", "join"]
    assert (path.length, path.running, path.waiting, path.wall) == (10.0, 10.0, 0.0, 10.0)


def test_time_with_inputs_ready_but_no_slot_counts_as_waiting() -> None:
    # cap 1: b's input was there at 1.0, it started at 4.0, after `other` let go of the slot
    run = fake(
        Record("a", 0.0, 1.0),
        Record("other", 1.0, 4.0),
        Record("b", 4.0, 10.0, ("a",)),
    )
    path = critical_path(run)
    assert path.nodes == ["a", "b"]
    assert path.running == 7.0 and path.waiting == 3.0
    assert path.waiting_share == pytest.approx(0.3)


def test_a_map_is_decided_by_its_last_item_and_that_by_what_the_map_waited_for() -> None:
    run = fake(
        Record("src", 0.0, 1.0),
        Record("m", 1.0, 9.0, ("src",), kind="map"),
        Record("m[0]", 1.0, 3.0, group="m"),
        Record("m[1]", 1.0, 9.0, group="m"),
        Record("after", 9.0, 10.0, ("m",)),
    )
    assert critical_path(run).nodes == ["src", "m[1]", "m", "after"]


def test_a_live_run_counts_running_nodes_up_to_now() -> None:
    run = fake(Record("a", 0.0, 2.0), Record("b", 2.0, None, ("a",)), finished_at=None)
    path = critical_path(run, now=5.0)
    assert path.nodes == ["a", "b"] and path.length == 5.0 and path.wall == 5.0


def test_a_run_that_ran_nothing_has_an_empty_path() -> None:
    assert critical_path(fake(Record("a", None, None))).nodes == []


@tool(outputs=["out"])
async def nap(seconds: float, x: int = 0) -> dict:
    await asyncio.sleep(seconds)
    return {"out": x}


@graphify(outputs=["out"])
def diamond():
    head = nap(seconds=0.0)
    slow = nap(seconds=0.3, x=head.out)
    quick = nap(seconds=0.0, x=head.out)
    return {"out": nap(seconds=0.0, x=[slow.out, quick.out]).out}


async def test_on_a_real_run_the_slow_branch_is_the_path() -> None:
    handle = start(diamond)
    await handle.result()
    path = critical_path(handle)
    assert path.nodes == ["nap_0", "nap_1", "nap_3"]
    assert 0.3 <= path.running <= path.length <= path.wall + 1e-6
    assert await run_async(diamond) == {"out": [0, 0]}
