"""Compare two runs: two selected in the runs list (live or opened from the history), or
two in the History pane (opened first, off the GUI thread, as "Open" does), then a
`CompareDialog` of the earlier (A) with the later (B)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from graphdeck.store import StoreError

from .compare_view import CompareDialog
from .tasks import OwnedTasks
from .tracker import RunTracker


class CompareFlow(QObject):
    """The Compare action (in `menu` and on `toolbar`), enabled while exactly two runs
    are selected in the runs list or in the History pane of `window`."""

    def __init__(self, window: Any, menu: QMenu, toolbar: QToolBar) -> None:
        """`window`: the `MainWindow` (not imported here: no import cycle)."""
        super().__init__(window)
        self.window = window
        self.action = QAction("Com&pare two runs", self, shortcut=QKeySequence("Ctrl+Shift+D"))
        self.action.setObjectName("compare-action")
        self.action.setToolTip(
            "select two runs (Ctrl+click) in the runs list or in History, then compare them"
        )
        self.action.setEnabled(False)
        menu.addSeparator()
        menu.addAction(self.action)
        toolbar.addAction(self.action)
        self._tasks = OwnedTasks()  # opening stored runs
        self._connect_signals()

    def _connect_signals(self) -> None:
        window = self.window
        self.action.triggered.connect(self._on_action_triggered)
        runs = window.controls.runs_list.selectionModel()
        runs.selectionChanged.connect(self._on_selection_changed)
        window.history.table.selectionModel().selectionChanged.connect(self._on_selection_changed)

    def _chosen(self) -> tuple[list[RunTracker], list[str]]:
        """(two trackers selected in the runs list, or two run ids selected in History)."""
        trackers = self.window.controls.runs_list.selected_trackers()
        if len(trackers) == 2:
            return trackers, []
        ids = self.window.history.selected_ids()
        return [], ids if len(ids) == 2 else []

    @Slot()
    def _on_selection_changed(self) -> None:
        trackers, ids = self._chosen()
        self.action.setEnabled(bool(trackers or ids))

    @Slot()
    def _on_action_triggered(self) -> None:
        trackers, ids = self._chosen()
        if trackers:
            self.show(*(tracker.run for tracker in trackers))
        elif ids:
            self._tasks.start(self._open_and_compare(ids))

    async def _open_and_compare(self, ids: list[str]) -> None:
        session, status = self.window.session, self.window.statusBar()
        status.showMessage("opening the runs to compare …")
        try:
            trackers = [await session.open_stored(run_id) for run_id in ids]
        except (StoreError, LookupError) as exc:
            status.showMessage(f"cannot compare: {exc}", 8000)
            return
        status.clearMessage()
        if all(trackers):
            self.show(*(tracker.run for tracker in trackers))

    def show(self, first: Any, second: Any) -> CompareDialog:
        """Compare two runs, the earlier as A; a window of its own."""
        a, b = sorted((first, second), key=lambda run: run.started_at or 0.0)
        dialog = CompareDialog(a, b, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def cancel(self) -> None:
        """The window closes: stop opening runs for a comparison."""
        self._tasks.cancel_all()
