"""What the history writer could not record, shown while it lasts: in the history pane
and the status bar (a run must not lose its history silently). And when it has caught
up with the runs that ended, the history pane lists them again: a 20k-node run stayed
"running" there until Refresh, its last rows written after the pane's one refresh.

`Recorder.problem` is set on the writer's thread, so it is polled here on the GUI thread
rather than signalled from there (worker threads never touch Qt objects)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QStatusBar

from graphdeck.store import WRITE_INTERVAL_S, Recorder

from .history import HistoryPanel

#: how often the window asks the history writer whether something could not be recorded
RECORDER_WATCH_MS = int(WRITE_INTERVAL_S * 2500)


class RecorderWatch(QObject):
    """Polls `recorder` (None: nothing to watch) and shows its problem in `history` and
    `status`."""

    def __init__(
        self, recorder: Recorder | None, history: HistoryPanel, status: QStatusBar, parent: QObject
    ) -> None:
        super().__init__(parent)
        self._recorder = recorder
        self._history = history
        self._status = status
        self._shown: str | None = None  # the problem as last shown
        self._backlog = 0  # rows of ended runs left to write, as last polled
        self._timer = QTimer(self)
        self._timer.setInterval(RECORDER_WATCH_MS)
        self._connect_signals()
        if recorder is not None:
            self._timer.start()

    def _connect_signals(self) -> None:
        self._timer.timeout.connect(self._on_timer_timeout)

    def stop(self) -> None:
        """The window is closing: nothing more to show."""
        self._timer.stop()

    @Slot()
    def _on_timer_timeout(self) -> None:
        recorder = self._recorder
        if recorder is not None:
            backlog, self._backlog = self._backlog, recorder.backlog
            if backlog and not self._backlog:  # ended runs are written in full now
                self._history.refresh()
        problem = recorder.problem if recorder is not None else None
        if problem == self._shown:
            return
        shown, self._shown = self._shown, problem
        self._history.set_recorder_problem(problem)
        if problem:
            self._status.showMessage(problem)
        elif self._status.currentMessage() == shown:
            self._status.clearMessage()
