"""The runs list: a model over the session's trackers (rows inserted where the controller
inserts them, the selection kept on its run) and the text of each row."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from graphdeck import RunState
from graphdeck.gui.runs_list import TRACKER_ROLE, RunsList, RunsListModel, progress_text
from graphdeck.gui.theme import run_colour
from graphdeck.gui.tracker import RunController, RunTracker


def tracker(name: str, run_id: str, depth: int = 0, state=RunState.RUNNING) -> RunTracker:
    run = SimpleNamespace(
        name=name,
        id=run_id,
        state=state,
        started_at=None,
        finished_at=None,
        done=state.is_terminal,
        occupancy=SimpleNamespace(active=0, peak=0, cap=4),
    )
    return RunTracker(run, depth)  # type: ignore[arg-type]


def add(controller: RunController, position: int, *trackers: RunTracker) -> None:
    """As the controller does: insert, then say the list changed."""
    controller.trackers[position:position] = trackers
    controller.runs_changed.emit()


def test_rows_read_name_id_state_indented_by_depth(qapp, qtmodeltester) -> None:
    controller = RunController()
    model = RunsListModel(controller)
    add(controller, 0, tracker("survey", "aaaaaaaaaaaa"), tracker("research", "bbbbbb", 1))
    qtmodeltester.check(model)
    rows = [model.data(model.index(row)) for row in range(model.rowCount())]
    assert rows == ["survey  aaaaaa  —  running", "    ↳ research  bbbbbb  —  running"]
    colour = model.data(model.index(0), Qt.ItemDataRole.ForegroundRole)
    assert colour == QColor(run_colour(RunState.RUNNING))
    assert model.data(model.index(1), TRACKER_ROLE) is controller.trackers[1]


def test_a_state_change_is_shown_when_the_controller_says_so(qapp) -> None:
    controller = RunController()
    model = RunsListModel(controller)
    first = tracker("g", "1")
    add(controller, 0, first)
    changed = []
    model.dataChanged.connect(lambda top, bottom: changed.append((top.row(), bottom.row())))
    first.run.state = RunState.SUCCEEDED
    controller.runs_changed.emit()
    assert changed == [(0, 0)]
    assert model.data(model.index(0)).endswith("succeeded")


def test_child_runs_inserted_above_keep_the_selection_on_its_run(qapp, qtbot) -> None:
    controller = RunController()
    model = RunsListModel(controller)
    view = RunsList(model)
    qtbot.addWidget(view)
    parent, later = tracker("agent", "p"), tracker("other", "o")
    add(controller, 0, parent, later)
    selected = []
    view.tracker_selected.connect(selected.append)
    view.select(later)
    assert selected == [later]
    add(controller, 1, tracker("child", "c1", 1), tracker("child", "c2", 1))
    assert view.texts()[1:3] == ["    ↳ child  c1  —  running", "    ↳ child  c2  —  running"]
    assert view.currentIndex().row() == 3
    assert model.tracker(view.currentIndex().row()) is later
    view.select_row(0)
    assert selected == [later, parent]


def test_a_run_selected_with_ctrl_held_is_selected_alone(qapp, qtbot) -> None:
    """A run started with Ctrl+Return is selected while Ctrl is still down: it was added
    to the selection, and "Compare two runs" offered two unrelated runs."""
    controller = RunController()
    view = RunsList(RunsListModel(controller))
    qtbot.addWidget(view)
    view.show()
    first, second = tracker("a", "1"), tracker("b", "2")
    add(controller, 0, first, second)
    view.select(first)
    qtbot.keyPress(view, Qt.Key.Key_Control, Qt.KeyboardModifier.ControlModifier)
    try:
        view.select(second)
        assert view.selected_trackers() == [second]
    finally:
        qtbot.keyRelease(view, Qt.Key.Key_Control)


def test_progress_reads_state_counts_and_time(qapp) -> None:
    shown = tracker("g", "1")
    assert progress_text(shown) == "g: running  |    |  slots 0/4  |  0.0 s"


def test_a_run_reads_as_ended_while_its_events_are_still_read(qtbot, gui_loop, monkeypatch):
    """A 100k-node run's events take seconds to read; its row said "running" all along,
    while Cancel was already disabled."""
    from graphdeck import graphify, start, tool
    from graphdeck.gui import tracker as tracker_module

    monkeypatch.setattr(tracker_module, "POLL_CHUNK", 1)  # one row per tick
    monkeypatch.setattr(tracker_module, "POLL_BUDGET_S", 0.0)

    @tool(outputs=["v"])
    async def one(i: int) -> dict:
        return {"v": i}

    @graphify(outputs=["n"])
    def many():
        return {"n": [one(i=i).v for i in range(50)]}

    controller = RunController()
    model = RunsListModel(controller)
    handle = start(many)
    controller.track(handle)
    qtbot.waitUntil(lambda: handle.done)
    repainted: list[bool] = []  # each time the rows were said to have changed: finished?
    model.dataChanged.connect(lambda *_: repainted.append(controller.trackers[0].finished))
    qtbot.waitUntil(lambda: bool(repainted), timeout=2000)
    assert repainted[0] is False  # told before all its events were read
    assert "succeeded" in model.data(model.index(0))
    controller.remove_finished()
