"""The history table: Open keeps the run selected (so Export acts on it), every row has a
date, and runs of two files that define a graph of the same name are told apart."""

from __future__ import annotations

import time

from graphdeck.gui.history_model import HistoryModel, short_paths
from guisupport import listed, load, run_and_wait, write_pipeline


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
    assert HistoryModel.HEADERS[:4] == ("date", "started", "graph", "file")
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
