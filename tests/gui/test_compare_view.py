"""Comparing two runs in the monitor: selected in the runs list or in History, a table
sortable by change, the graph coloured by it, a node's two sides (issue 16)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel

from graphdeck.gui.compare_model import CHANGES
from graphdeck.gui.compare_view import COLUMNS, CompareDialog
from guisupport import listed, load, run_and_wait, set_inputs, write_pipeline


def two_runs(qtbot, win, tmp_path):
    """The pipeline (step x == 3 raises) from 0, then from 1: in the second, a, b and d
    give other outputs, c fails and merge never runs."""
    path = tmp_path / "pipeline.py"
    write_pipeline(path, broken=3)
    load(qtbot, win, path, "pipeline")
    first = run_and_wait(qtbot, win)
    set_inputs(win, start="1")
    second = run_and_wait(qtbot, win)
    return first, second


def select_both(win) -> None:
    runs = win.controls.runs_list
    model = runs.model()
    for row in (0, 1):
        runs.selectionModel().select(model.index(row), QItemSelectionModel.SelectionFlag.Select)


def shown_dialog(qtbot, win) -> CompareDialog:
    qtbot.waitUntil(lambda: len(win.findChildren(CompareDialog)) == 1, timeout=10000)
    (dialog,) = win.findChildren(CompareDialog)
    return dialog


def test_compare_two_runs_of_the_runs_list(qtbot, window, tmp_path):
    first, second = two_runs(qtbot, window, tmp_path)
    action = window.compare_flow.action
    assert not action.isEnabled()  # one run selected
    select_both(window)
    assert action.isEnabled()
    action.trigger()
    dialog = shown_dialog(qtbot, window)
    assert (dialog.a, dialog.b) == (first, second)  # the earlier is A
    assert dialog.changed == {
        "step_0": "outputs_changed",
        "step_1": "outputs_changed",
        "step_2": "state_changed",
        "step_3": "outputs_changed",
        "merge_0": "state_changed",
    }
    summary = dialog.summary.text()  # (a node counts under each of its changes)
    assert summary.startswith(f"A {first.id[:6]} → B {second.id[:6]}: state changed 2 · ")
    assert "outputs changed 5" in summary
    # sorted by change: the state changes first
    assert set(dialog.row_ids()[:2]) == {"step_2", "merge_0"}
    dialog.table.sortItems(COLUMNS.index("node"))
    assert dialog.row_ids() == sorted(dialog.row_ids())
    # the graph is coloured by what changed
    assert dialog.graph.colour_of("step_2") == CHANGES["state_changed"][0]
    assert dialog.graph.colour_of("step_0") == CHANGES["outputs_changed"][0]
    # a row shows the node in both runs, side by side
    dialog.select_node("step_2")
    a_text, b_text = dialog.side_a.toPlainText(), dialog.side_b.toPlainText()
    assert "succeeded" in a_text and '"v": 3' in a_text
    assert "failed" in b_text and "cannot take 3" in b_text
    dialog.close()


def test_a_graph_click_selects_the_row(qtbot, window, tmp_path):
    two_runs(qtbot, window, tmp_path)
    select_both(window)
    dialog = window.compare_flow.show(
        *(t.run for t in window.controls.runs_list.selected_trackers())
    )
    dialog.graph.node_clicked.emit("step_3")
    rows = dialog.table.selectionModel().selectedRows()
    assert [dialog.table.item(r.row(), 0).text() for r in rows] == ["step_3"]
    assert "step_3" in dialog.side_b.toPlainText() and '"v": 3' in dialog.side_b.toPlainText()
    dialog.close()


def test_compare_two_runs_from_history(qtbot, history_window, tmp_path):
    win = history_window
    first, second = two_runs(qtbot, win, tmp_path)
    assert win.session.recorder.flush()
    win.history.refresh()
    qtbot.waitUntil(lambda: len(listed(win)) == 2, timeout=5000)
    table = win.history.table
    for row in (0, 1):
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        table.selectionModel().select(win.history.model.index(row, 0), flags)
    win.controls.runs_list.clear_selection()
    assert win.compare_flow.action.isEnabled()
    win.compare_flow.action.trigger()
    dialog = shown_dialog(qtbot, win)
    assert (dialog.a.id, dialog.b.id) == (first.id, second.id)
    assert dialog.changed["step_2"] == "state_changed"
    dialog.close()


def test_every_column_is_in_view_at_the_default_size(qtbot, window, tmp_path):
    """The table's splitter gave it a third of the window: its seconds, ratio and outputs
    columns were hidden behind the graph. At the default size they are all in view, and
    the graph keeps room of its own."""
    two_runs(qtbot, window, tmp_path)
    select_both(window)
    window.compare_flow.action.trigger()
    dialog = shown_dialog(qtbot, window)
    qtbot.waitExposed(dialog)
    table = dialog.table
    qtbot.waitUntil(lambda: table.viewport().width() > 0)
    room = table.viewport().width()
    for column, name in enumerate(COLUMNS):
        left = table.columnViewportPosition(column)
        assert left >= 0 and left + table.columnWidth(column) <= room, name
        assert table.columnWidth(column) >= table.horizontalHeader().sectionSizeHint(column), name
    assert not table.horizontalScrollBar().isVisible()
    assert dialog.graph.width() >= 400
