"""The history table: Open keeps the run selected (so Export acts on it), every row has a
date, runs of two files that define a graph of the same name are told apart, and a run's
state, graph and date show without scrolling sideways."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QDockWidget

from graphdeck.gui.history_model import HistoryModel, short_paths
from guisupport import PIPELINE, listed, load, load_source, run_and_wait, write_pipeline


def _cell(win, row: int, column: int) -> str:
    model = win.history.model
    return model.data(model.index(row, column))


def test_open_keeps_the_row_selected_for_export(qtbot, history_window, tomorrow, tmp_path):
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, history_window, path)
    first, second = run_and_wait(qtbot, history_window), run_and_wait(qtbot, history_window)
    assert history_window.session.recorder.flush()
    win = tomorrow()
    qtbot.waitUntil(lambda: len(listed(win)) == 2, timeout=5000)
    row = win.history.model.row_of(first.id)
    win.history.table.selectRow(row)
    with qtbot.waitSignal(win.history.model.modelReset, timeout=5000):  # the refresh after it
        win.history.open_button.click()
    qtbot.waitUntil(lambda: win.current is not None and win.current.run.id == first.id)
    assert win.history.selected_run().id == first.id
    assert win.history.export_button.isEnabled()
    assert second.id != first.id


def test_rows_have_a_date_and_the_file_telling_same_named_graphs_apart(
    qtbot, history_window, tmp_path
) -> None:
    win = history_window
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        write_pipeline(tmp_path / folder / "pipeline.py")
        load(qtbot, win, tmp_path / folder / "pipeline.py")
        run_and_wait(qtbot, win)
    assert win.session.recorder.flush()
    win.history.refresh()
    qtbot.waitUntil(lambda: len(listed(win)) == 2, timeout=5000)
    assert {"date", "started", "graph", "file"} <= set(HistoryModel.HEADERS)
    assert _cell(win, 0, HistoryModel.DATE) == time.strftime("%Y-%m-%d")
    assert {_cell(win, row, HistoryModel.FILE) for row in (0, 1)} == {
        "a/pipeline.py",
        "b/pipeline.py",
    }
    assert {_cell(win, row, HistoryModel.GRAPH) for row in (0, 1)} == {"pipeline"}


def test_short_paths_use_as_much_of_each_path_as_it_takes() -> None:
    assert short_paths({"/x/a/p.py", "/x/b/p.py", "/y/q.py"}) == {
        "/x/a/p.py": "a/p.py",
        "/x/b/p.py": "b/p.py",
        "/y/q.py": "q.py",
    }


def test_state_graph_and_date_show_at_the_first_window_size(qtbot, history_window, tmp_path):
    """At the default width the state column was past the pane's right edge (after the
    date, the time, the graph and the file): you had to scroll sideways to see it."""
    win = history_window
    source = PIPELINE.format(broken=-1, add=1).replace(
        '"pipeline"', '"a_pipeline_with_a_rather_long_descriptive_name"'
    )
    load_source(qtbot, win, tmp_path / "a_rather_long_file_name_for_a_graph.py", source)
    run_and_wait(qtbot, win)
    assert win.session.recorder.flush()
    win.findChild(QDockWidget, "dock-history").raise_()
    win.history.refresh()
    qtbot.waitUntil(lambda: len(listed(win)) == 1, timeout=5000)
    table, model = win.history.table, win.history.model
    qtbot.waitUntil(table.isVisible)
    header = table.horizontalHeader()

    def shown(column: int) -> bool:
        left = header.sectionViewportPosition(column)
        return left >= 0 and left + header.sectionSize(column) <= table.viewport().width()

    key = (model.STATE, model.GRAPH, model.DATE)
    qtbot.waitUntil(lambda: all(shown(column) for column in key), timeout=5000)
    assert table.horizontalScrollBar().value() == 0
    assert model.data(model.index(0, model.STATE)) == "succeeded"
