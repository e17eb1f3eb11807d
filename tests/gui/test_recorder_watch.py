"""The history writer watched from the window: its problems shown, and the history pane
listed again once it has written the runs that ended."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtWidgets import QStatusBar, QWidget

from graphdeck.gui.recorder_watch import RecorderWatch


class History:
    def __init__(self) -> None:
        self.refreshes = 0
        self.problem: str | None = None

    def refresh(self) -> None:
        self.refreshes += 1

    def set_recorder_problem(self, problem: str | None) -> None:
        self.problem = problem


def test_the_history_is_listed_again_once_the_writer_caught_up(qtbot) -> None:
    """A big run's last rows are written well after it ended: the pane's refresh at the
    run's end found it "running", and it stayed so until the user pressed Refresh."""
    parent = QWidget()
    qtbot.addWidget(parent)
    recorder = SimpleNamespace(backlog=0, problem=None)
    history = History()
    watch = RecorderWatch(recorder, history, QStatusBar(parent), parent)  # type: ignore[arg-type]
    recorder.backlog = 50_000  # a run ended: its rows are being written
    qtbot.waitUntil(lambda: watch._backlog == 50_000, timeout=5000)  # (polled: not yet)
    assert history.refreshes == 0
    recorder.backlog = 0
    qtbot.waitUntil(lambda: history.refreshes == 1, timeout=5000)
