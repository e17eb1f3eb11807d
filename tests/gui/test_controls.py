"""The controls panel: the file's graphs listed (the chosen one kept across reloads), and
the run options as `start()` takes them."""

from __future__ import annotations

from graphdeck.gui.controls import ControlsPanel
from graphdeck.gui.run_options import CLUSTER_CHOICE, RunOptions
from graphdeck.gui.runs_list import RunsListModel
from graphdeck.gui.tracker import RunController


def make_panel(qtbot) -> ControlsPanel:
    panel = ControlsPanel(RunsListModel(RunController()))
    qtbot.addWidget(panel)
    return panel


def test_a_reload_keeps_the_chosen_graph_and_says_so_once(qtbot):
    panel = make_panel(qtbot)
    panel.show_graphs("/g.py", ["one", "two"])
    panel.select_graph("two")
    changes: list[str] = []
    panel.graph_changed.connect(lambda: changes.append(panel.selected_graph_name()))
    panel.show_graphs("/g.py", ["one", "two", "three"])
    assert changes == ["two"]
    panel.show_graphs("/g.py", ["one"])  # "two" is gone: the first is chosen
    assert changes == ["two", "one"]


def test_a_load_failure_clears_graphs_inputs_and_run(qtbot):
    panel = make_panel(qtbot)
    panel.show_graphs("/g.py", ["one"])
    panel.set_graph_inputs(("n",), {"n": "3"}, None)
    panel.run_button.setEnabled(True)
    panel.show_load_failed("/g.py", "/g.py:1: syntax error")
    assert panel.graph_combo.count() == 0 and panel.inputs_form.fields == {}
    assert not panel.run_button.isEnabled()
    assert panel.error_label.text() == "/g.py:1: syntax error"


def test_run_options_read_the_controls(qtbot):
    panel = make_panel(qtbot)
    panel.cap_spin.setValue(16)
    panel.policy_combo.setCurrentText("continue")
    panel.executor_combo.setCurrentText(CLUSTER_CHOICE)
    assert panel.run_options() == RunOptions(16, "continue", "dask")
