"""The graph preview is built off the GUI thread: a builder that raises is one line and
Run stays disabled; one that never returns leaves the window responsive; only the newest
request is ever shown; and the first run takes the graph already built."""

from __future__ import annotations

import textwrap
import threading

from PySide6.QtCore import QTimer

from graphdeck import graphify, tool
from graphdeck.gui.preview import GraphPreview
from guisupport import load, run_and_wait, set_inputs


@tool(outputs=["v"])
async def echo(x):
    return {"v": x}


#: per input value, what the builder waits for before it returns (none: it returns at once)
gates: dict[int, threading.Event] = {}


@graphify(name="gated", outputs=["v"])
def gated(x=1):
    if x in gates:
        gates[x].wait()
    return {"v": echo(x=x).v}


def test_a_builder_that_raises_is_one_line_and_run_stays_disabled(qtbot, window, tmp_path):
    path = tmp_path / "raises.py"
    path.write_text(
        textwrap.dedent(
            """
            from graphdeck import graphify, tool

            @tool(outputs=["v"])
            async def one(x): return {"v": x}

            @graphify(name="g", outputs=["v"])
            def g(x=1):
                return {"v": one(x=x / 0).v}
            """
        )
    )
    load(qtbot, window, path)
    message = window.controls.error_label.text()
    assert message.startswith(f"{path}:9: graphify 'g' failed to build: ZeroDivisionError")
    assert "\n" not in message
    assert not window.controls.run_button.isEnabled() and not window.run_action.isEnabled()
    assert window.graph_view.nodes == {}
    assert window.start_run() is None  # refused with the same line
    assert window.controls.error_label.text() == message


HANGS = """
import os, time
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def one(x): return {{"v": x}}

@graphify(name="hangs", outputs=["v"])
def hangs(x=1):
    while not os.path.exists({marker!r}):  # the test makes it at the end
        time.sleep(0.02)
    return {{"v": one(x=x).v}}
"""


def test_a_builder_that_never_returns_leaves_the_window_responsive(qtbot, window, tmp_path):
    marker = tmp_path / "release"
    path = tmp_path / "hangs.py"
    path.write_text(textwrap.dedent(HANGS.format(marker=str(marker))))
    window.open_file(path)
    qtbot.waitUntil(lambda: not window.document.busy, timeout=10000)
    try:
        qtbot.waitUntil(window.preview_note.isVisible, timeout=5000)
        assert window.preview_note.text().startswith("building graph 'hangs'")
        ticks: list[int] = []
        QTimer.singleShot(50, lambda: ticks.append(1))
        qtbot.waitUntil(lambda: ticks == [1], timeout=2000)  # events are still handled
        assert window.preview.busy
        assert not window.controls.run_button.isEnabled() and not window.run_action.isEnabled()
        set_inputs(window, x="2")  # a newer request while the first one still hangs
        qtbot.wait(300)
        assert window.preview.busy and not window.controls.run_button.isEnabled()
    finally:
        marker.touch()
    qtbot.waitUntil(lambda: not window.preview.busy, timeout=10000)
    assert not window.preview_note.isVisible()
    assert window.controls.run_button.isEnabled()
    assert window.graph_view.nodes["one_0"].inputs == {"x": 2}  # the newer request's graph


def test_an_older_build_finishing_late_is_never_shown(qtbot, gui_loop):
    preview = GraphPreview()
    built, building = [], []
    preview.built.connect(built.append)
    preview.building.connect(building.append)
    gates[1] = threading.Event()
    try:
        preview.request(gated, {"x": 1}, key=1, file=None)
        qtbot.wait(200)  # past the debounce: building x=1 in its thread
        preview.request(gated, {"x": 2}, key=2, file=None)
        qtbot.waitUntil(lambda: len(built) == 1, timeout=5000)
    finally:
        gates.pop(1).set()
    qtbot.wait(100)  # x=1's thread returns now: its graph must be dropped
    assert building == ["gated", "gated"]
    assert [graph.inputs for graph in built] == [{"x": 2}]
    assert preview.ready and preview.graph is built[0]


def test_typing_builds_the_first_and_the_last_inputs_only(qtbot, gui_loop, monkeypatch):
    calls: list[dict] = []
    original = type(gated).build
    monkeypatch.setattr(
        type(gated),
        "build",
        lambda self, **inputs: calls.append(inputs) or original(self, **inputs),
    )
    preview = GraphPreview()
    for x in range(1, 6):  # five keys, faster than the debounce
        preview.request(gated, {"x": x}, key=x, file=None)
    qtbot.waitUntil(lambda: preview.ready, timeout=5000)
    assert calls == [{"x": 1}, {"x": 5}]
    assert preview.graph is not None and preview.graph.inputs == {"x": 5}


def test_the_built_graph_is_handed_out_once_for_exactly_its_inputs(qtbot, gui_loop):
    preview = GraphPreview()
    preview.request(gated, {"x": 1}, key=("x", "1"), file=None)
    qtbot.waitUntil(lambda: preview.ready, timeout=5000)
    assert preview.take(gated, ("x", "True")) is None  # 1 == True, but not what was typed
    assert preview.take(echo, ("x", "1")) is None
    graph = preview.take(gated, ("x", "1"))
    assert graph is not None and graph.inputs == {"x": 1}
    assert preview.take(gated, ("x", "1")) is None  # a graph runs once
    preview.clear()
    assert not preview.busy and not preview.ready


def test_the_first_run_takes_the_previewed_graph(qtbot, window, tmp_path):
    path = tmp_path / "counted.py"
    path.write_text(
        textwrap.dedent(
            """
            from graphdeck import graphify, tool

            builds = []

            @tool(outputs=["v"])
            async def one(x): return {"v": x}

            @graphify(name="counted", outputs=["v"])
            def counted(x=1):
                builds.append(x)
                return {"v": one(x=x).v}
            """
        )
    )
    load(qtbot, window, path)
    builds = window.document.graphs["counted"].fn.__globals__["builds"]
    previewed = window.preview.graph
    handle = run_and_wait(qtbot, window)
    assert handle.graph is previewed and builds == [1]  # built once, off the GUI thread
    assert handle.outputs == {"v": 1}
    again = run_and_wait(qtbot, window)  # the same inputs again: built anew (a graph runs once)
    assert again.graph is not previewed and builds == [1, 1]
