"""Why is it slow, why is it stuck, in the monitor (issue 15): a node that blocked the
event loop is badged, said in the status bar and the inspector (with its stack), banded
on the occupancy plot and the timeline; a running node shows where it is, live, and a
"stuck?" hint; a waiting node says what for; the critical path is a View toggle; the
block threshold is a run option."""

from __future__ import annotations

import re
import textwrap

from PySide6.QtGui import QKeySequence

from graphdeck import NodeState
from graphdeck.events import RunWarning
from graphdeck.gui.critical_path_view import SHORTCUT
from graphdeck.gui.loop_blocks import block_line
from graphdeck.gui.node_text import waiting_words
from guisupport import load, run_and_wait

GRAPH = """
import asyncio, pathlib, time
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def rude(x):
    time.sleep(x)
    return {"v": x}

@tool(outputs=["v"])
async def slow(x):
    await asyncio.sleep(x)
    return {"v": x}

@tool(outputs=["v"])
def threaded(path):
    while not pathlib.Path(path).exists():
        time.sleep(0.02)
    return {"v": 1}

@graphify(name="blocks", outputs=["v"])
def blocks(block=0.8):
    return {"v": slow(x=rude(x=block).v).v}

@graphify(name="rude_fan", outputs=["vs"])
def rude_fan(block=0.6):
    return {"vs": [rude(x=block if i == 7 else 0).v for i in range(40)]}

@graphify(name="waits", outputs=["a", "b", "c"])
def waits(stop="", wait=30):
    return {"a": slow(x=wait).v, "b": threaded(path=stop).v, "c": slow(x=0).v}

@graphify(name="siblings", outputs=["vs"])
def siblings(long=30):
    return {"vs": [slow(x=x).v for x in (0.01, 0.01, 0.01, 0.01, long)]}

@graphify(name="chain", outputs=["a", "b"])
def chain(x=1.0):
    return {"a": slow(x=slow(x=x).v).v, "b": slow(x=0.01).v}
"""
#: the line of `time.sleep(x)` in `rude`
RUDE_LINE = 6


def _open(qtbot, window, tmp_path, graph: str, **inputs: str) -> None:
    path = tmp_path / "g.py"
    path.write_text(textwrap.dedent(GRAPH).lstrip("\n"))
    load(qtbot, window, path, graph)
    for name, text in inputs.items():
        window.controls.inputs_form.fields[name].setText(text)
    qtbot.waitUntil(lambda: window.preview.ready, timeout=10000)


def _inspect(window, node_id: str) -> str:
    window.graph_view.select_node(node_id)
    return window.details.inspector.text.toPlainText()


def test_a_block_by_a_member_of_a_closed_group_badges_the_group(qtbot, window, tmp_path) -> None:
    _open(qtbot, window, tmp_path, "rude_fan")
    window.controls.block_spin.setValue(300)
    handle = run_and_wait(qtbot, window)
    assert [w.details["node"] for w in handle.warnings if w.kind == "loop_blocked"] == ["rude_7"]
    view = window.graph_view
    qtbot.waitUntil(lambda: bool(view.marks.blocked), timeout=5000)
    [group] = [key for key, members in view.drawing.groups.items() if len(members) == 40]
    box = view.drawing.where["rude_7"]
    assert view.drawing.nodes[box].is_group and view.drawing.nodes[box].key == group
    assert view.marks.blocked == {box}


def test_a_block_is_badged_said_inspected_and_banded(qtbot, window, tmp_path) -> None:
    _open(qtbot, window, tmp_path, "blocks")
    # 300 ms: the test's own block only (a loaded machine may stall the loop for 100 ms).
    window.controls.block_spin.setValue(300)
    handle = run_and_wait(qtbot, window)
    ours = [w for w in handle.warnings if (w.details or {}).get("node") == "rude_0"]
    assert len(ours) == 1, handle.warnings
    status = window.statusBar()
    said = re.compile(rf"rude_0 blocked the event loop for \d\.\d s at g\.py:{RUDE_LINE}")
    qtbot.waitUntil(lambda: said.search(status.currentMessage()) is not None, timeout=5000)

    view = window.graph_view
    qtbot.waitUntil(lambda: view.drawing.where.get("rude_0") in view.marks.blocked, timeout=5000)
    assert view.drawing.where["slow_0"] not in view.marks.blocked

    text = _inspect(window, "rude_0")
    assert re.search(
        rf"blocked the event loop for \d\.\d\d s at g\.py:{RUDE_LINE}: time\.sleep", text
    )
    assert "stack, innermost first" in text and "rude" in text
    # the user's frames only: the worker, the event loop and the app are the same each time
    assert "frames of graphdeck and the event loop below" in text
    assert "_scheduler.py" not in text and "event_loop.py" not in text
    assert "blocked the event loop" not in _inspect(window, "slow_0")

    details = window.details
    details.setCurrentWidget(details.occupancy)
    qtbot.waitUntil(lambda: details.occupancy.bands.shown >= 1, timeout=5000)
    details.setCurrentWidget(details.timeline)
    bands = details.timeline.bands
    qtbot.waitUntil(lambda: bands is not None and bands.shown >= 1, timeout=5000)
    start, end = max(
        (item.getRegion() for item in bands.items[: bands.shown]), key=lambda r: r[1] - r[0]
    )
    assert 0.5 < end - start < 1.5 and start >= -0.1


AGENT = """
import time
from graphdeck import graph_fn, tool

@tool(outputs=["y"])
async def upper(x):
    return {"y": x.upper()}

@graph_fn(name="rude_agent")
async def rude_agent(*, context):
    time.sleep(0.8)
    return {"y": (await upper(x="a"))["y"]}
"""


def test_a_block_in_an_agent_body_is_the_agents(qtbot, window, tmp_path) -> None:
    path = tmp_path / "agent.py"
    path.write_text(textwrap.dedent(AGENT).lstrip("\n"))
    load(qtbot, window, path)
    window.controls.block_spin.setValue(300)
    handle = run_and_wait(qtbot, window)
    assert [w.details["agent"] for w in handle.warnings if w.kind == "loop_blocked"] == [
        "rude_agent"
    ]
    said = "agent 'rude_agent' (its own body, not a tool) blocked the event loop for"
    qtbot.waitUntil(lambda: said in window.statusBar().currentMessage(), timeout=5000)
    assert "at agent.py:10" in window.statusBar().currentMessage()
    view = window.graph_view
    qtbot.waitUntil(lambda: 0 in view.marks.blocked, timeout=5000)
    assert view.drawing.nodes[0].kind == "agent" and len(view.marks.blocked) == 1


def test_blocks_outside_a_node_are_said_as_such() -> None:
    def warning(**details) -> RunWarning:
        details = {"node": None, "agent": None, "seconds": 4.71, "where": "/x/b.py:3", **details}
        return RunWarning(0.0, "r", "m", details["node"], "loop_blocked", details)

    assert block_line(warning(node="rude_0")) == "rude_0 blocked the event loop for 4.7 s at b.py:3"
    assert block_line(warning()).startswith("code outside any node blocked the event loop")
    assert block_line(warning(agent="planner")).startswith(
        "agent 'planner' (its own body, not a tool) blocked"
    )


def test_a_running_node_shows_where_it_is_live(qtbot, window, tmp_path) -> None:
    stop = tmp_path / "stop"
    _open(qtbot, window, tmp_path, "waits", stop=repr(str(stop)))
    window.controls.cap_spin.setValue(2)
    handle = window.start_run()
    nodes = handle.nodes
    qtbot.waitUntil(
        lambda: (
            nodes["slow_0"].state is NodeState.RUNNING
            and nodes["threaded_0"].state is NodeState.RUNNING
        ),
        timeout=10000,
    )
    inspector = window.details.inspector.text
    _inspect(window, "slow_0")
    awaiting = re.compile(r"awaiting asyncio\.sleep at g\.py:11 for (?:at least )?(\d+) s")

    def seconds() -> int:
        found = awaiting.search(inspector.toPlainText())
        return int(found.group(1)) if found else -1

    qtbot.waitUntil(lambda: seconds() >= 0, timeout=5000)
    qtbot.waitUntil(lambda: seconds() >= 2, timeout=6000)  # refreshed while it runs
    assert "slow" in inspector.toPlainText()  # the chain

    in_thread = re.compile(
        r"(at g\.py:17 in threaded: time\.sleep\(0\.02\)|in pathlib\.\w+ at g\.py:16)"
        r" for (at least )?\d+ s \(in a worker thread\)"
    )
    _inspect(window, "threaded_0")
    qtbot.waitUntil(lambda: in_thread.search(inspector.toPlainText()) is not None, timeout=5000)
    waiting = _inspect(window, "slow_1")
    assert "waiting for a slot: cap 2, 2 busy (" in waiting and "slow_0" in waiting
    stop.write_text("")
    window.cancel_current_run()
    qtbot.waitUntil(lambda: handle.done and window.current.caught_up, timeout=10000)


def test_a_node_far_slower_than_its_siblings_is_hinted_stuck(qtbot, window, tmp_path) -> None:
    _open(qtbot, window, tmp_path, "siblings")
    handle = window.start_run()
    nodes = handle.nodes
    qtbot.waitUntil(
        lambda: sum(n.state is NodeState.SUCCEEDED for n in nodes.values()) >= 4, timeout=10000
    )
    long = next(n.id for n in nodes.values() if n.state is NodeState.RUNNING)
    inspector = window.details.inspector.text
    _inspect(window, long)
    qtbot.waitUntil(lambda: "stuck? running" in inspector.toPlainText(), timeout=6000)
    assert "finished siblings (slow nodes)" in inspector.toPlainText()
    window.cancel_current_run()
    qtbot.waitUntil(lambda: handle.done and window.current.caught_up, timeout=10000)


def test_the_critical_path_is_a_toggle(qtbot, window, tmp_path) -> None:
    _open(qtbot, window, tmp_path, "chain")
    toggle = window.critical_path
    assert toggle.action.shortcut() == QKeySequence(SHORTCUT)
    handle = window.start_run()
    toggle.action.trigger()
    qtbot.waitUntil(lambda: "longest chain so far" in toggle.label.text(), timeout=5000)
    qtbot.waitUntil(lambda: handle.done and window.current.caught_up, timeout=10000)
    qtbot.waitUntil(
        lambda: toggle.label.text().startswith("critical path: 2 node(s)"), timeout=5000
    )
    assert re.search(r"of the run's \d\.\d\d s \(\d+%\)", toggle.label.text())
    view = window.graph_view
    chain = {"slow_0", "slow_1"}
    assert set(toggle.path.nodes) == chain  # slow(x=1.0) then the slow that awaits it
    assert view.marks.critical == {view.drawing.where[n] for n in chain}
    window.details.setCurrentWidget(window.details.timeline)
    assert window.details.timeline.critical == chain
    toggle.action.trigger()
    assert not view.marks.critical and not toggle.label.isVisible()


def test_the_block_threshold_is_a_run_option(qtbot, window, tmp_path) -> None:
    _open(qtbot, window, tmp_path, "blocks", block="0.3")
    spin = window.controls.block_spin
    assert spin.value() == 100 and window.controls.run_options().block_threshold == 0.1
    spin.setValue(0)
    assert spin.text() == "off" and window.controls.run_options().block_threshold is None
    handle = run_and_wait(qtbot, window)
    assert not handle.warnings  # no watchdog at all


def test_waiting_reasons_in_words() -> None:
    assert waiting_words({"upstream": [("a_0", "running")]}) == "waiting for upstream a_0 (running)"
    assert waiting_words({"slot": {"cap": 2, "busy": ["a_0", "b_0"]}}) == (
        "waiting for a slot: cap 2, 2 busy (a_0, b_0)"
    )
    pool = {"name": "db", "size": 2, "active": 2, "waiting": 3}
    assert waiting_words({"pool": pool}) == "waiting for pool 'db': 2/2 busy, 3 waiting"
