"""After opening a file that does not load or build, the window says the same thing
everywhere and shows no other run as if it were selected.

Before: the Timeline kept drawing the previous run although none was selected, the panel
said "failed to build: KeyError: 'depth'" while the status bar said "loaded
builder_raises.py: 1 graph(s)", the canvas said "No graph to show. Open a graph file…"
with a file open, and a load error read "could not load X (the reason is under it)"."""

from __future__ import annotations

from guisupport import load, run_and_wait, write_pipeline

BUILDER_RAISES = """
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def a(x: int):
    return {"v": x}

@graphify(name="bad_builder", outputs=["v"])
def bad_builder(n=3):
    cfg = {"layers": 2}
    return {"v": a(x=cfg["depth"]).v}
"""

SYNTAX_ERROR = """
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def a(x: int):
    return {"v": x
"""

AGENT = """
from graphdeck import graph_fn, tool

@tool(outputs=["v"])
async def a(x: int):
    return {"v": x}

@graph_fn(name="helper")
async def helper(x=1, *, context):
    return {"v": (await a(x=x))["v"]}
"""


def _bars(window) -> int:
    timeline = window.details.timeline
    return sum(len(item.opts["x0"]) for item in timeline.items.values())


def test_a_build_error_clears_the_last_run_and_is_said_the_same_everywhere(
    qtbot, window, tmp_path
) -> None:
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, window, path)
    window.details.setCurrentWidget(window.details.timeline)
    run_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: _bars(window) > 0, timeout=5000)

    (tmp_path / "builder_raises.py").write_text(BUILDER_RAISES)
    window.open_file(tmp_path / "builder_raises.py")
    qtbot.waitUntil(lambda: window.preview.error is not None, timeout=10000)
    assert window.current is None
    timeline = window.details.timeline
    assert timeline.tracker is None and _bars(window) == 0  # the tab on screen let go of it
    assert "No run selected" in timeline.selection.text() and not timeline.plot.isVisible()

    panel = window.controls.error_label.text()
    status = window.statusBar().currentMessage()
    canvas = window.graph_view.empty_hint()
    assert "KeyError: 'depth'" in panel
    assert status.startswith("could not build the graph: builder_raises.py, line 11:")
    assert "KeyError: 'depth'" in status and "loaded" not in status
    assert "Graph bad_builder could not be built" in canvas and "KeyError: 'depth'" in canvas
    assert "Open a graph file" not in canvas


def test_a_load_error_is_worded_plainly_and_the_canvas_points_at_it(
    qtbot, window, tmp_path
) -> None:
    (tmp_path / "syntax_err.py").write_text(SYNTAX_ERROR)
    load(qtbot, window, tmp_path / "syntax_err.py")
    status = window.statusBar().currentMessage()
    assert status == "could not load syntax_err.py, line 6: syntax error: '{' was never closed"
    assert "the reason is under it" not in status
    canvas = window.graph_view.empty_hint()
    assert canvas.startswith("syntax_err.py could not be loaded.") and "was never closed" in canvas
    assert "Fix the file and save it" in canvas


def test_an_agent_before_its_first_run_is_said_to_be_drawn_as_it_runs(
    qtbot, window, tmp_path
) -> None:
    (tmp_path / "agent.py").write_text(AGENT)
    load(qtbot, window, tmp_path / "agent.py")
    qtbot.waitUntil(window.run_action.isEnabled, timeout=5000)
    canvas = window.graph_view.empty_hint()
    assert "helper is an agent" in canvas and "drawn as it makes them" in canvas
    assert window.statusBar().currentMessage() == "loaded agent.py: 1 graph"
