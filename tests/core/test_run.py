"""run / run_async / start: outcomes, failure policies, timeouts, retries, cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time

import pytest

from asyncsupport import until
from graphdeck import (
    CancellationIgnored,
    NodeState,
    RunCancelled,
    RunFailed,
    RunState,
    RunTimedOut,
    _collector,
    graph_fn,
    graphify,
    run,
    run_async,
    start,
    tool,
)
from graphdeck import runner as runner_module
from graphdeck.events import NodeStateChanged, OccupancyChanged, RunFinished, RunWarning

S = NodeState


def runtime_tasks() -> list[asyncio.Task]:
    """The graphdeck tasks (run drivers, workers, agent bodies) still alive."""
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("graphdeck-")]


@tool(outputs=["v"])
async def slow(x: int, delay: float = 0.0) -> dict:
    await asyncio.sleep(delay)
    return {"v": x}


@tool(outputs=["v"])
async def boom(x: int) -> dict:
    raise ValueError(f"boom {x}")


@tool(outputs=["v"])
async def collect(xs: list) -> dict:
    return {"v": list(xs)}


@graphify(outputs=["a", "b"])
def two_branches(fail=True, delay=0.2):
    """Branch a: slow_0 -> boom_0 (or slow_1) -> slow_1 (or slow_2); branch b, independent:
    slow_2 -> slow_3 (or slow_3 -> slow_4 when nothing fails), the first one taking `delay`."""
    head = slow(x=1)
    broken = boom(x=head.v) if fail else slow(x=head.v)
    after_broken = slow(x=broken.v)
    b1 = slow(x=2, delay=delay)
    b2 = slow(x=b1.v)
    return {"a": after_broken.v, "b": b2.v}


def test_runner_module_exposes_the_same_objects() -> None:
    import graphdeck

    assert runner_module.run is graphdeck.run and runner_module.run_async is graphdeck.run_async


async def test_run_inside_running_loop_tells_user_to_await_run_async() -> None:
    with pytest.raises(RuntimeError, match=r"run_async"):
        run(two_branches)


def test_start_outside_loop_explains() -> None:
    with pytest.raises(RuntimeError, match="running event loop"):
        start(two_branches)


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="on_error"):
        run(two_branches, on_error="ignore")
    with pytest.raises(ValueError, match="max_concurrency"):
        run(two_branches, max_concurrency=0)
    with pytest.raises(ValueError, match="timeout"):
        run(two_branches, timeout=-1)


async def test_stop_policy_cancels_running_skips_dependents_keeps_results() -> None:
    handle = start(two_branches, max_concurrency=4)
    with pytest.raises(RunFailed) as info:
        await handle.result()
    nodes = handle.nodes
    assert nodes["boom_0"].state is S.FAILED
    assert nodes["slow_1"].state is S.SKIPPED  # dependent of the failure
    assert nodes["slow_0"].state is S.SUCCEEDED and nodes["slow_0"].outputs == {"v": 1}
    assert nodes["slow_2"].state is S.CANCELLED  # was running (0.2 s) when boom failed
    assert nodes["slow_3"].state is S.CANCELLED  # pending behind it
    assert handle.state is RunState.FAILED
    error = info.value
    assert error.failed_nodes == ["boom_0"]
    assert isinstance(error.errors["boom_0"], ValueError)
    assert "boom_0" in str(error) and "boom 1" in str(error)
    assert error.partial_outputs == {}


async def test_continue_policy_finishes_independent_branches() -> None:
    handle = start(two_branches, {"delay": 0.01}, on_error="continue")
    with pytest.raises(RunFailed) as info:
        await handle.result()
    nodes = handle.nodes
    assert nodes["boom_0"].state is S.FAILED
    assert nodes["slow_1"].state is S.SKIPPED
    assert nodes["slow_3"].state is S.SUCCEEDED
    assert info.value.partial_outputs == {"b": 2}


async def test_success_returns_outputs_and_every_node_succeeded() -> None:
    handle = start(two_branches, {"fail": False, "delay": 0.0})
    assert await handle.result() == {"a": 1, "b": 2}
    assert handle.state is RunState.SUCCEEDED
    assert {n.state for n in handle.nodes.values()} == {S.SUCCEEDED}


async def test_tool_timeout_marks_timed_out_within_tolerance() -> None:
    @tool(outputs=["v"], timeout=0.1)
    async def hang() -> dict:
        await asyncio.sleep(60)
        return {"v": 0}

    @graphify(outputs=["v"])
    def g():
        return {"v": hang().v}

    began = time.monotonic()
    handle = start(g)
    with pytest.raises(RunFailed):
        await handle.result()
    assert time.monotonic() - began < 1.0
    node = handle.nodes["hang_0"]
    assert node.state is S.TIMED_OUT
    assert isinstance(node.error, TimeoutError)
    assert 0.08 <= node.finished_at - node.started_at <= 0.3


async def test_retries_make_new_attempts_and_can_succeed() -> None:
    calls = 0

    @tool(outputs=["v"], retries=2)
    async def flaky() -> dict:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError(f"try {calls}")
        return {"v": calls}

    @graphify(outputs=["v"])
    def g():
        return {"v": flaky().v}

    handle = start(g)
    assert await handle.result() == {"v": 3}
    node = handle.nodes["flaky_0"]
    assert len(node.attempts) == 3 and node.attempts == 3
    assert [a.state for a in node.attempts] == [S.FAILED, S.FAILED, S.SUCCEEDED]
    states = [e.state for e in handle.events_since(0) if isinstance(e, NodeStateChanged)]
    assert states.count(S.RETRYING) == 2


async def test_retries_exhausted_fail_with_last_error() -> None:
    @tool(outputs=["v"], retries=1)
    async def always() -> dict:
        raise KeyError("nope")

    @graphify(outputs=["v"])
    def g():
        return {"v": always().v}

    handle = start(g)
    with pytest.raises(RunFailed):
        await handle.result()
    assert handle.nodes["always_0"].attempts == 2
    # the last attempt's error alone, not "during handling of" the first attempt's
    assert handle.nodes["always_0"].error.__context__ is None


async def test_an_agents_retried_call_fails_with_its_last_error_alone() -> None:
    """The agent call path (run in the caller) retried inside the except block too."""

    @tool(outputs=["v"], retries=1)
    async def always_fails() -> dict:
        raise KeyError("nope")

    @graph_fn(name="asks")
    async def asks(*, context):
        return await always_fails()

    handle = start(asks)
    with pytest.raises(RunFailed):
        await handle.result()
    (node,) = handle.nodes.values()
    assert node.attempts == 2 and node.error.__context__ is None


async def test_run_timeout_cancels_and_raises_run_timed_out() -> None:
    handle = start(two_branches, {"fail": False, "delay": 5.0}, timeout=0.1)
    began = time.monotonic()
    with pytest.raises(RunTimedOut) as info:
        await handle.result()
    assert time.monotonic() - began < 1.0
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, RunFailed)
    assert handle.nodes["slow_3"].state is S.CANCELLED


async def test_cancel_run_cancels_running_marks_rest_and_raises_run_cancelled() -> None:
    handle = start(two_branches, {"fail": False, "delay": 5.0})
    await until(handle, lambda: handle.nodes["slow_3"].state is S.RUNNING)
    handle.cancel()
    with pytest.raises(RunCancelled):
        await handle.result()
    assert handle.state is RunState.CANCELLED
    assert handle.nodes["slow_3"].state is S.CANCELLED
    assert handle.nodes["slow_4"].state is S.CANCELLED
    assert all(n.state.is_terminal for n in handle.nodes.values())


async def test_a_cancelled_run_ends_its_running_nodes_in_one_batch(monkeypatch) -> None:
    """The workers that unwind from the run's cancel in one turn of the loop end their
    nodes together (a full cap of 10k would otherwise settle one by one), each node
    still with its own CANCELLED event after its code has unwound, and the slots back."""
    from graphdeck import _machine

    batches: list[int] = []
    many_ended = _machine.BATCH_TRANSITIONS[(S.RUNNING, S.CANCELLED)]

    def counted(machine, nodes, new) -> None:
        batches.append(len(nodes))
        many_ended(machine, nodes, new)

    monkeypatch.setitem(_machine.BATCH_TRANSITIONS, (S.RUNNING, S.CANCELLED), counted)
    unwound: list[int] = []

    @tool(outputs=["v"])
    async def waits(x: int) -> dict:
        try:
            await asyncio.sleep(30)
        finally:
            unwound.append(x)
        return {"v": x}

    @graphify(outputs=["v"])
    def wide(n=50):
        return {"v": collect(xs=[waits(x=i).v for i in range(n)]).v}

    handle = start(wide, max_concurrency=50)
    await until(handle, lambda: handle.occupancy.active == 50)
    handle.cancel()
    with pytest.raises(RunCancelled):
        await handle.result()
    assert batches == [50] and sorted(unwound) == list(range(50))
    ends = [
        e
        for e in handle.events_since(0)
        if isinstance(e, NodeStateChanged) and e.state is S.CANCELLED and e.node_id != "collect_0"
    ]
    assert sorted(e.node_id for e in ends) == sorted(f"waits_{i}" for i in range(50))
    samples = [e for e in handle.events_since(0) if isinstance(e, OccupancyChanged)]
    assert samples[-1].active == 0 and handle.occupancy.active == 0


async def test_cancelling_run_async_caller_cancels_the_run() -> None:
    started = asyncio.Event()

    @tool(outputs=["v"])
    async def forever() -> dict:
        started.set()
        await asyncio.sleep(60)
        return {"v": 1}

    @graphify(outputs=["v"])
    def g():
        return {"v": forever().v}

    caller = asyncio.create_task(run_async(g))
    await started.wait()  # the run is under way, its node running
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    # run_async waited for the run to wind down: nothing of it is left running.
    assert runtime_tasks() == []


async def test_cancel_one_node_cancels_its_dependents_and_others_go_on() -> None:
    handle = start(two_branches, {"fail": False, "delay": 0.3})
    node = handle.nodes["slow_3"]
    await until(handle, lambda: node.state is S.RUNNING)
    handle.cancel_node("slow_3")
    with pytest.raises(RunCancelled) as info:
        await handle.result()
    assert node.state is S.CANCELLED
    assert handle.nodes["slow_4"].state is S.CANCELLED
    assert handle.nodes["slow_2"].state is S.SUCCEEDED  # the other branch finished
    assert info.value.partial_outputs == {"a": 1}


async def test_cancel_pending_node() -> None:
    handle = start(two_branches, {"fail": False, "delay": 0.05})
    handle.cancel_node("slow_4")
    with pytest.raises(RunCancelled):
        await handle.result()
    assert handle.nodes["slow_4"].state is S.CANCELLED
    assert handle.nodes["slow_3"].state is S.SUCCEEDED


async def test_tool_swallowing_cancellation_is_abandoned_and_reported_by_name() -> None:
    release = asyncio.Event()

    @tool(outputs=["v"])
    async def stubborn() -> dict:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):  # misbehaving user code
                await asyncio.sleep(0.01)
        return {"v": 0}

    @graphify(outputs=["v"])
    def g():
        return {"v": stubborn().v}

    handle = start(g, cancel_grace=0.2)
    await until(handle, lambda: handle.nodes["stubborn_0"].state is S.RUNNING)
    began = time.monotonic()
    handle.cancel()
    with pytest.raises(RunCancelled):
        await handle.result()
    assert 0.15 <= time.monotonic() - began < 1.0
    node = handle.nodes["stubborn_0"]
    assert node.state is S.CANCELLED
    assert isinstance(node.error, CancellationIgnored)
    assert "stubborn" in str(node.error)
    # A loaded machine may add a "loop_blocked" warning (a GC pause); only the
    # abandonment is this test's business.
    abandoned = [
        e for e in handle.events_since(0) if isinstance(e, RunWarning) and e.kind == "abandoned"
    ]
    assert abandoned and "stubborn" in abandoned[0].message
    release.set()  # let the abandoned code end so the test leaves nothing behind
    await asyncio.wait(list(handle._abandoned))


async def test_node_swallowing_a_node_cancel_is_abandoned_others_continue() -> None:
    release = asyncio.Event()

    @tool(outputs=["v"])
    async def stubborn() -> dict:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)
        return {"v": 0}

    @graphify(outputs=["s", "o"])
    def g():
        return {"s": stubborn().v, "o": slow(x=5, delay=0.4).v}

    handle = start(g, cancel_grace=0.1)
    await until(handle, lambda: handle.nodes["stubborn_0"].state is S.RUNNING)
    handle.cancel_node("stubborn_0")
    with pytest.raises(RunCancelled) as info:
        await handle.result()
    assert info.value.partial_outputs == {"o": 5}
    assert isinstance(handle.nodes["stubborn_0"].error, CancellationIgnored)
    release.set()
    await asyncio.wait(list(handle._abandoned))


async def test_blocking_plain_tools_run_concurrently_up_to_the_cap() -> None:
    import threading

    # Every body blocks until four are in their threads at once: only concurrent threads
    # get past the barrier (in series, the first would time out waiting for the others).
    barrier = threading.Barrier(4, timeout=10)
    loop_turns = 0

    @tool(outputs=["v"])
    def block(i: int) -> int:
        barrier.wait()
        return i

    @graphify(outputs=["v"])
    def g(n=4):
        return {"v": collect(xs=[block(i=i).v for i in range(n)]).v}

    async def count_turns() -> None:  # the loop kept turning while the threads blocked
        nonlocal loop_turns
        while True:
            await asyncio.sleep(0)
            loop_turns += 1

    counter = asyncio.create_task(count_turns())
    try:
        assert await run_async(g, max_concurrency=4) == {"v": [0, 1, 2, 3]}
    finally:
        counter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await counter
    assert loop_turns > 0


async def test_occupancy_peaks_at_the_cap_and_returns_to_zero() -> None:
    @graphify(outputs=["v"])
    def wide(n=40):
        return {"v": collect(xs=[slow(x=i, delay=0.01).v for i in range(n)]).v}

    handle = start(wide, max_concurrency=6)
    await handle.result()
    assert handle.occupancy == (0, 6, 6)
    samples = [e for e in handle.events_since(0) if isinstance(e, OccupancyChanged)]
    assert max(e.active for e in samples) == 6 and samples[-1].active == 0
    assert all(e.cap == 6 for e in samples)


async def test_events_iterator_replays_then_follows_live_and_ends() -> None:
    handle = start(two_branches, {"fail": False, "delay": 0.05})
    seen = [event async for event in handle.events()]
    assert isinstance(seen[-1], RunFinished) and seen[-1].state is RunState.SUCCEEDED
    assert seen == handle.events_since(0)
    late = [event async for event in handle.events()]  # after the end: the full replay
    assert late == seen
    times = [e.time for e in seen]
    assert times == sorted(times)


# -- the garbage collector's thresholds during runs (docs/design.md §4.6) ------------------


@tool(outputs=["v"])
async def thresholds_now(x: int, delay: float = 0.0) -> dict:
    await asyncio.sleep(delay)
    return {"v": gc.get_threshold()}


@graphify(outputs=["v"])
def seen_thresholds(delay=0.0):
    return {"v": thresholds_now(x=0, delay=delay).v}


@graphify(outputs=["v"])
def never_builds():
    raise ValueError("no graph today")


@pytest.fixture
def process_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        yield (700, 10, 10)
    finally:
        gc.set_threshold(*before)


async def test_runs_use_the_run_thresholds_and_give_them_back(process_thresholds) -> None:
    out = await run_async(seen_thresholds)
    assert out["v"] == _collector.RUN_THRESHOLDS
    assert gc.get_threshold() == process_thresholds
    assert _collector.live_runs() == 0


async def test_thresholds_come_back_after_cancel_failure_and_build_error(
    process_thresholds,
) -> None:
    handle = start(seen_thresholds, {"delay": 30})
    await until(handle, lambda: handle.nodes["thresholds_now_0"].state is S.RUNNING)
    assert gc.get_threshold() == _collector.RUN_THRESHOLDS
    handle.cancel()
    with pytest.raises(RunCancelled):
        await handle.result()
    assert gc.get_threshold() == process_thresholds
    with pytest.raises(RunFailed):
        await run_async(two_branches, {"delay": 0})
    assert gc.get_threshold() == process_thresholds
    with pytest.raises(ValueError, match="no graph today"):
        start(never_builds)
    assert gc.get_threshold() == process_thresholds
    assert _collector.live_runs() == 0


async def test_thresholds_stay_until_the_last_concurrent_run_ends(process_thresholds) -> None:
    long = start(seen_thresholds, {"delay": 30})
    short = await run_async(seen_thresholds)
    assert short["v"] == _collector.RUN_THRESHOLDS
    assert gc.get_threshold() == _collector.RUN_THRESHOLDS  # `long` is still live
    long.cancel()
    await long.wait()
    assert gc.get_threshold() == process_thresholds
    assert _collector.live_runs() == 0


async def test_thresholds_set_by_the_user_during_a_run_are_kept(process_thresholds) -> None:
    handle = start(seen_thresholds, {"delay": 30})
    await until(handle, lambda: handle.nodes["thresholds_now_0"].state is S.RUNNING)
    gc.set_threshold(1234, 5, 5)
    handle.cancel()
    await handle.wait()
    assert gc.get_threshold() == (1234, 5, 5)
    assert _collector.live_runs() == 0
