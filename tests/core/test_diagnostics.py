"""Why is it slow, why is it stuck: the loop-blocking watchdog, where a running node is,
and what a waiting node waits for."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time

from asyncsupport import until
from graphdeck import NodeState, graph_fn, graphify, start, tool
from graphdeck.limits import Pool

S = NodeState
HERE = __file__


def line_of(function, text: str) -> int:
    source, first = inspect.getsourcelines(function)
    return first + next(i for i, line in enumerate(source) if text in line)


@tool(outputs=["out"])
async def rude(x: int) -> dict:
    time.sleep(0.5)  # noqa: ASYNC251 - blocks the loop, on purpose
    return {"out": x}


@tool(outputs=["out"])
async def polite(x: int) -> dict:
    await asyncio.sleep(0.5)
    return {"out": x}


@graphify(outputs=["a", "b"])
def one_rude_one_polite():
    return {"a": rude(x=1).out, "b": polite(x=2).out}


@graphify(outputs=["b"])
def only_polite():
    return {"b": polite(x=2).out}


def blocks(handle) -> list:
    """Blocks blamed on a node or an agent.

    A loaded CI machine can stall the loop in the runtime itself (a garbage
    collection); those are reported as "outside any node" and are not what these
    tests are about.
    """
    return [
        w
        for w in handle.warnings
        if w.kind == "loop_blocked" and (w.node_id or w.details.get("agent"))
    ]


async def test_a_blocking_tool_yields_one_warning_naming_the_node_and_its_line() -> None:
    handle = start(one_rude_one_polite)
    await handle.wait()
    [warning] = blocks(handle)
    line = line_of(rude.fn, "time.sleep(0.5)")
    assert warning.node_id == "rude_0"
    assert warning.details["node"] == "rude_0"
    assert warning.details["where"] == f"{HERE}:{line}"
    assert warning.details["code"].startswith("time.sleep(0.5)  # noqa")
    assert 0.3 <= warning.details["seconds"] <= 1.5
    assert warning.message.startswith("rude_0 blocked the event loop for ")
    assert warning.message.endswith(f" s at test_diagnostics.py:{line}")
    assert [f[2] for f in warning.details["stack"]][-1] == "rude"
    assert warning in handle.events_since(0)


async def test_the_portable_alarm_finds_the_block_too(monkeypatch) -> None:
    """Where the kernel timer is missing (not Linux), the watchdog's thread polls."""
    from graphdeck import _alarm
    from graphdeck._watchdog import watchdog_for

    monkeypatch.setattr(_alarm, "_timerfd", None)
    handle = start(one_rude_one_polite)
    assert isinstance(watchdog_for(asyncio.get_running_loop())._alarm, _alarm.PollingAlarm)
    await handle.wait()
    [warning] = blocks(handle)
    assert warning.node_id == "rude_0"
    assert warning.details["where"] == f"{HERE}:{line_of(rude.fn, 'time.sleep(0.5)')}"


async def test_awaiting_instead_of_blocking_yields_no_warning() -> None:
    handle = start(only_polite)
    await handle.wait()
    assert blocks(handle) == []


async def test_blocks_shorter_than_the_threshold_are_not_reported() -> None:
    handle = start(one_rude_one_polite, block_threshold=2.0)
    await handle.wait()
    assert blocks(handle) == []


async def test_no_watchdog_when_switched_off() -> None:
    handle = start(one_rude_one_polite, block_threshold=None)
    await handle.wait()
    assert blocks(handle) == []


async def test_a_block_in_the_runtime_while_it_settles_a_node_is_not_the_nodes(
    monkeypatch,
) -> None:
    """The worker's frames are on the stack while the runtime settles a node (and, in a
    100k fan-out, makes its dependents ready): a block there is not the tool's code."""
    from graphdeck import _scheduler

    # A stall in the runtime's own code: compiled as if it were in _scheduler.py.
    source = (
        "def slow_release(self, node):\n"
        "    if not stalled:\n"
        "        stalled.append(True)\n"
        "        time.sleep(0.4)\n"
        "    return release(self, node)\n"
    )
    scope = {"stalled": [], "time": time, "release": _scheduler.Scheduler._release}
    exec(compile(source, _scheduler.__file__, "exec"), scope)
    slow_release = scope["slow_release"]
    monkeypatch.setattr(_scheduler.Scheduler, "_release", slow_release)

    @graphify(outputs=["b"])
    def g():
        return {"b": polite(x=2).out}

    handle = start(g, block_threshold=0.1)
    await handle.wait()
    stalls = [w for w in handle.warnings if w.kind == "loop_blocked"]
    assert stalls, "the stall was not seen"
    assert all(w.node_id is None for w in stalls), [w.message for w in stalls]
    assert any(w.message.startswith("code outside any node") for w in stalls)


@graph_fn(name="sleepy_agent")
async def sleepy_agent(*, context):
    time.sleep(0.4)  # noqa: ASYNC251 - in the body, outside any tool call
    return await polite(x=3)


async def test_a_block_in_an_agent_body_is_the_agents_not_a_nodes() -> None:
    handle = start(sleepy_agent)
    await handle.wait()
    [warning] = blocks(handle)
    assert warning.node_id is None
    assert warning.details["agent"] == "sleepy_agent"
    assert warning.message.startswith("agent 'sleepy_agent' blocked the event loop")
    assert warning.details["where"].endswith(f":{line_of(sleepy_agent.fn, 'time.sleep')}")


# -- where a running node is ------------------------------------------------------------


async def test_where_shows_the_awaiting_frame_of_a_running_async_tool() -> None:
    @tool(outputs=["out"])
    async def waits_long(x: int) -> dict:
        await asyncio.sleep(30)  # waiting here
        return {"out": x}

    @graphify(outputs=["out"])
    def g():
        return {"out": waits_long(x=1).out}

    handle = start(g)
    await until(handle, lambda: handle.nodes["waits_long_0"].state is S.RUNNING)
    await asyncio.sleep(0)  # let the body reach its await
    stack = handle.where("waits_long_0")
    assert stack[0][2] == "waits_long"
    assert stack[0][3] == "await asyncio.sleep(30)  # waiting here"
    assert any(entry[2] == "sleep" for entry in stack)  # down to what it awaits
    handle.cancel()
    await handle.wait()
    assert handle.where("waits_long_0") == []


async def test_where_shows_the_thread_stack_of_a_plain_tool() -> None:
    inside, release = threading.Event(), threading.Event()

    @tool(outputs=["out"])
    def blocks_in_thread(x: int) -> dict:
        inside.set()
        release.wait(30)  # waiting in its thread
        return {"out": x}

    @graphify(outputs=["out"])
    def g():
        return {"out": blocks_in_thread(x=1).out}

    handle = start(g)
    await asyncio.get_running_loop().run_in_executor(None, inside.wait, 10)
    stack = handle.where("blocks_in_thread_0")
    release.set()
    await handle.result()
    assert stack[0][2] == "blocks_in_thread"
    assert any(e[3] == "release.wait(30)  # waiting in its thread" for e in stack)


# -- what a waiting node waits for ---------------------------------------------------------


async def test_a_pending_node_waits_for_its_unfinished_upstream() -> None:
    @graphify(outputs=["out"])
    def g():
        first = polite(x=1)
        return {"out": polite(x=first.out).out}

    handle = start(g)
    await until(handle, lambda: handle.nodes["polite_0"].state is S.RUNNING)
    assert handle.waiting_for("polite_1") == {"upstream": [("polite_0", "running")]}
    assert handle.waiting_for("polite_0") == {}
    handle.cancel()
    await handle.wait()


async def test_a_ready_node_waits_for_a_slot_and_says_which_nodes_hold_them() -> None:
    @graphify(outputs=["out"])
    def g():
        return {"out": [polite(x=i).out for i in range(3)]}

    handle = start(g, max_concurrency=2)
    await until(handle, lambda: handle.occupancy.active == 2)
    assert handle.nodes["polite_2"].state is S.READY
    assert handle.waiting_for("polite_2") == {"slot": {"cap": 2, "busy": ["polite_0", "polite_1"]}}
    handle.cancel()
    await handle.wait()


async def test_a_ready_node_waits_for_a_full_pool() -> None:
    pool = Pool("diagnostics-test", 1)

    @tool(outputs=["out"], pool=pool)
    async def pooled(x: int) -> dict:
        await asyncio.sleep(30)
        return {"out": x}

    @graphify(outputs=["out"])
    def g():
        return {"out": [pooled(x=i).out for i in range(2)]}

    handle = start(g, max_concurrency=4)
    await until(handle, lambda: handle.nodes["pooled_0"].state is S.RUNNING)
    for _ in range(100):  # the second worker queues for the pool (no event says so)
        if pool.waiting == 1:
            break
        await asyncio.sleep(0)
    assert handle.waiting_for("pooled_1") == {
        "pool": {"name": "diagnostics-test", "size": 1, "active": 1, "waiting": 1}
    }
    handle.cancel()
    await handle.wait()


def test_a_loop_waiting_in_its_selector_is_idle_not_blocked() -> None:
    """On a machine too loaded to run the process on time, a loop waiting for I/O looked
    blocked (reported "at selectors.py:468"); waiting is not blocking."""
    import selectors
    import sys

    from graphdeck._watchdog import _idle

    seen: dict[str, object] = {}
    main = threading.get_ident()

    def sample() -> None:
        while "frame" not in seen:
            frame = sys._current_frames().get(main)
            if frame is not None and frame.f_code.co_name == "select":
                seen["frame"] = frame
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    with selectors.DefaultSelector() as selector:
        while sampler.is_alive():
            selector.select(0.05)
    sampler.join()
    assert _idle(seen["frame"])
    assert not _idle(sys._getframe())  # running code is not idle


def test_the_environments_launcher_scripts_are_not_user_code() -> None:
    """The `graphdeck` launcher's `sys.exit(main())` is at the bottom of every stack in
    the monitor: a block of Qt's own work was blamed on "graphdeck:6"."""
    import sysconfig
    from pathlib import Path

    from graphdeck._frames import is_monitor_file, is_user_file, monitor_dir
    from graphdeck._watchdog import Block

    launcher = str(Path(sysconfig.get_paths()["scripts"]) / "graphdeck")
    assert not is_user_file(launcher)
    assert is_user_file(HERE)
    app = str(Path(monitor_dir()) / "app.py")
    exec_ = (app, 40, "run", "app.exec()")
    block = Block([(launcher, 6, "<module>", "sys.exit(main())"), exec_], None, 0.0)
    assert block.where == exec_ and is_monitor_file(app)  # "the monitor itself"
