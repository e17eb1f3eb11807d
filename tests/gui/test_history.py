"""The history pane: past runs listed and filtered, opened read-only, exported and
deleted; the history saved when the window closes; a damaged history file."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
from PySide6.QtWidgets import QMessageBox

from graphdeck import NodeState, RunState
from graphdeck.gui.app import open_store
from graphdeck.store import RunStore, StoredRunView
from guisupport import (
    finish_first_run,
    listed,
    load,
    run_and_wait,
    run_pipeline,
    run_rows,
    showing_stored,
)
from guisupport import write_pipeline as write


def test_finished_runs_are_listed_and_filtered(qtbot, history_window, tmp_path) -> None:
    win = history_window
    path = tmp_path / "pipeline.py"
    write(path, broken=2)  # step c (x=2) fails
    finish_first_run(qtbot, win, path)
    write(path)
    load(qtbot, win, path)
    run_and_wait(qtbot, win)
    assert win.session.recorder.flush()
    win.history.refresh()
    qtbot.waitUntil(lambda: len(listed(win)) == 2, timeout=5000)
    assert listed(win) == [("pipeline", "succeeded"), ("pipeline", "failed")]

    win.history.state_filter.setCurrentText("failed")
    qtbot.waitUntil(lambda: listed(win) == [("pipeline", "failed")], timeout=5000)
    win.history.state_filter.setCurrentText("any state")
    win.history.graph_filter.setText("nothing-like-it")
    qtbot.waitUntil(lambda: listed(win) == [], timeout=5000)
    assert win.history.location.text().startswith("no runs match these filters")
    win.history.graph_filter.setText("pipe")
    qtbot.waitUntil(lambda: len(listed(win)) == 2, timeout=5000)
    win.history.since_check.setChecked(True)  # a week back: both are from today
    qtbot.waitUntil(lambda: len(listed(win)) == 2, timeout=5000)
    win.history.since_date.setDate(win.history.since_date.date().addDays(30))
    qtbot.waitUntil(lambda: listed(win) == [], timeout=5000)


def test_a_stored_run_opens_read_only_with_its_graph_timeline_and_results(
    qtbot, history_window, tomorrow, tmp_path
) -> None:
    path = tmp_path / "pipeline.py"
    write(path, broken=2)
    run_id = finish_first_run(qtbot, history_window, path)
    win = tomorrow()
    qtbot.waitUntil(lambda: len(listed(win)) == 1, timeout=5000)

    win.history.table.selectRow(0)
    win.history.open_button.click()
    qtbot.waitUntil(lambda: win.current is not None, timeout=5000)
    view = win.current.run
    assert isinstance(view, StoredRunView) and view.id == run_id
    assert "(history)" in run_rows(win)[0]
    assert set(win.graph_view.drawing.where) >= {"step_0", "step_1", "step_2", "merge_0"}
    assert win.current.counts[NodeState.FAILED] == 1
    assert win.current.counts[NodeState.SKIPPED] == 1
    assert {bar[0] for bar in win.current.bars} == {"step_0", "step_1", "step_2", "step_3"}
    duration = view.finished_at - view.started_at
    assert win.current.occupancy_times
    assert all(0 <= t <= duration for t in win.current.occupancy_times)
    assert not win.graph_view.rerun_allowed and not win.details.inspector.rerun_allowed  # read-only
    assert win.rerun_failed_action.isEnabled() and win.run_again_action.isEnabled()
    win.details.inspector.show_node(view.nodes["step_2"])
    text = win.details.inspector.text.toPlainText()
    assert "ValueError: step c cannot take 2" in text and "Traceback" in text


@pytest.fixture(params=["damaged", "locked"])
def unusable_history(request, tmp_path):
    """A history file the app cannot use, and the word its message must contain."""
    bad = tmp_path / "bad.sqlite3"
    if request.param == "damaged":
        bad.write_bytes(b"not sqlite at all " * 100)
        yield bad, "damaged"
        return
    holder = sqlite3.connect(bad, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")  # another process is writing to it
    yield bad, "locked"
    holder.execute("ROLLBACK")
    holder.close()


def test_an_unusable_history_file_leaves_the_app_usable_and_says_why(
    qtbot, unusable_history, make_window, tmp_path
) -> None:
    bad, word = unusable_history
    store, problem = open_store(str(bad))
    assert store is None and word in problem
    win = make_window(store=store, store_problem=problem)
    assert win.history.problem.isVisible() and word in win.history.problem.text()
    path = tmp_path / "pipeline.py"
    write(path)
    load(qtbot, win, path)
    assert run_and_wait(qtbot, win).state is RunState.SUCCEEDED  # runs, unrecorded


def test_a_stored_agent_run_opens_with_its_child_runs_under_it(
    qtbot, agent_in_history, make_window, store
) -> None:
    win = make_window(store=store)
    win.open_stored_run(agent_in_history)
    qtbot.waitUntil(lambda: showing_stored(win), timeout=5000)
    rows = run_rows(win)
    assert rows[0].startswith("survey") and "(history)" in rows[0]
    assert len(rows) == 4 and all(row.startswith("    ↳ research") for row in rows[1:])
    child = win.session.controller.trackers[1]
    assert child.run.nodes and all(n.state is NodeState.SUCCEEDED for n in child.run.nodes.values())


def test_a_window_built_before_the_loop_runs_lists_the_history_once_it_does(
    qtbot, gui_loop, make_window, store, tmp_path
) -> None:
    first = make_window(store=store)
    run_pipeline(qtbot, first, tmp_path)
    assert first.session.recorder.flush()
    asyncio.events._set_running_loop(None)  # as in the app: the window comes first
    try:
        win = make_window(store=store)
    finally:
        asyncio.events._set_running_loop(gui_loop)
    qtbot.waitUntil(lambda: listed(win) == [("pipeline", "succeeded")], timeout=5000)


def test_a_window_closed_after_its_loop_ended_still_saves_its_history(
    qtbot, gui_loop, make_window, store, tmp_path
) -> None:
    win = make_window(store=store)
    run_id = run_pipeline(qtbot, win, tmp_path).id
    asyncio.events._set_running_loop(None)  # a script that closes it after the loop
    try:
        win.close()
    finally:
        asyncio.events._set_running_loop(gui_loop)
    assert win.session.recorder.closed
    assert RunStore(store.path).load(run_id).summary.state == "succeeded"


def test_a_listed_run_exports_as_trace_or_json_and_deletes(qtbot, history_window, tmp_path) -> None:
    win = history_window
    path = tmp_path / "pipeline.py"
    write(path, broken=2)
    run_id = finish_first_run(qtbot, win, path)
    pane = win.history
    pane.table.selectRow(0)
    assert pane.export_button.isEnabled() and pane.delete_button.isEnabled()

    trace, document = tmp_path / "run.trace.json", tmp_path / "run.json"
    for path, fmt in ((trace, "trace"), (document, "json")):
        job = pane.export(run_id, path, fmt)
        qtbot.waitUntil(job.done, timeout=5000)
        assert pane.location.text() == f"wrote run {run_id} to {path}"
    assert {e["name"] for e in json.loads(trace.read_text())["traceEvents"]} >= {"step_0"}
    assert json.loads(document.read_text())["run"]["id"] == run_id

    box = pane.ask_delete()
    assert run_id in box.text()
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: listed(win) == [], timeout=5000)
    assert RunStore(win.session.store.path).runs() == []


def test_closing_the_window_saves_the_history_off_the_gui_thread(
    qtbot, history_window, store, tmp_path
) -> None:
    win = history_window
    path = tmp_path / "pipeline.py"
    write(path)
    load(qtbot, win, path)
    handle = run_and_wait(qtbot, win)
    with qtbot.waitSignal(win.closed, timeout=10000):
        win.close()  # first refused: the last writes go in a worker thread, then it closes
        assert win.isVisible()
    assert not win.isVisible() and win.session.recorder.closed
    assert [r.id for r in store.runs()] == [handle.id]
