"""Choosing what to run: Run waits for the file, for valid inputs and, for a graphify,
for its preview; an agent needs no preview; remembered inputs fill the form."""

from __future__ import annotations

import textwrap

import pytest

from graphdeck.gui.controls import ControlsPanel
from graphdeck.gui.document import GraphDocument
from graphdeck.gui.graph_setup import GraphSetup
from graphdeck.gui.preview import GraphPreview
from graphdeck.gui.remembered import Remembered
from graphdeck.gui.runs_list import RunsListModel
from graphdeck.gui.tracker import RunController

GRAPHS = """
from graphdeck import graph_fn, graphify, tool

@tool(outputs=["v"])
async def one(x): return {"v": x}

@graphify(name="static", outputs=["v"])
def static(x=1):
    return {"v": one(x=x).v}

@graph_fn(name="agent")
async def agent(n=2, *, context):
    return {}
"""


@pytest.fixture
def setup(qtbot, gui_loop, settings, tmp_path):
    """(setup, controls, what `ready_changed` said, the graph file)"""
    path = tmp_path / "graphs.py"
    path.write_text(textwrap.dedent(GRAPHS))
    controls = ControlsPanel(RunsListModel(RunController()))
    qtbot.addWidget(controls)
    document, preview = GraphDocument(), GraphPreview()
    chooser = GraphSetup(document, controls, preview, Remembered(settings))
    said: list[bool] = []
    chooser.ready_changed.connect(said.append)
    yield chooser, controls, said, path
    preview.clear()
    document.close()  # its loading child ends with it


def test_a_graphify_is_ready_once_built_an_agent_at_once(qtbot, setup):
    chooser, controls, said, path = setup
    with qtbot.waitSignal(chooser.preview_changed, timeout=5000) as shown:
        chooser._document.open(path)
    assert list(shown.args[0]) == ["one_0"]
    assert chooser.ready and said[-1] is True and said[0] is False  # loading first
    controls.select_graph("agent")
    assert chooser.ready and said[-1] is True  # nothing to build
    controls.inputs_form.fields["n"].setText("[1,")
    assert not chooser.ready and said[-1] is False


def test_remembered_inputs_fill_the_form(qtbot, setup, settings):
    chooser, controls, _said, path = setup
    Remembered(settings).remember_inputs(path, "static", {"x": "5"})
    with qtbot.waitSignal(chooser.preview_changed, timeout=5000):
        chooser._document.open(path)
    assert controls.inputs_form.texts() == {"x": "5"}
    assert chooser.inputs_key() == (("x", "5"),)
