"""What the history writer cannot record is shown while it lasts: in the history pane and
in the status bar."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from graphdeck.store import RunStore
from guisupport import load, run_and_wait
from guisupport import write_pipeline as write


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "history.sqlite3")


def test_a_run_the_history_cannot_record_is_said_until_it_is_written(
    qtbot, make_window, store, tmp_path
) -> None:
    win = make_window(store=store)
    shown = win.history.recorder_problem
    assert not shown.isVisible()
    path = tmp_path / "pipeline.py"
    write(path)
    load(qtbot, win, path)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the history's lock
    try:
        run_and_wait(qtbot, win)
        qtbot.waitUntil(lambda: shown.isVisible(), timeout=10000)
        assert shown.text().startswith("history not recorded: ")
        assert "locked by another process" in shown.text()
        assert win.statusBar().currentMessage() == shown.text()
    finally:
        with contextlib.suppress(sqlite3.Error):
            blocker.execute("ROLLBACK")
        blocker.close()
    qtbot.waitUntil(lambda: not shown.isVisible(), timeout=10000)  # written after all
    assert win.statusBar().currentMessage() == ""
    assert win.session.recorder.flush()
    assert [r.graph for r in store.runs()] == ["pipeline"]
