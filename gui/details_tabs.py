"""The details of the selected run, one tab each: inspector, results, occupancy,
timeline and the log (channel messages, warnings, and nodes that failed, retried or were
cancelled).

Only the tab on screen is refreshed while a run is live, at most `DETAILS_REFRESH_MS`
apart (plots cost ~20 ms a frame to paint); the others catch up when shown, and every tab
gets the run's last word once it has finished.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QTabWidget, QWidget
from superqt.utils import QSignalThrottler

from .group_inspector import GroupInspector
from .inspector import Inspector
from .occupancy import OccupancyPanel
from .results import ResultsPanel
from .run_log import RunLog, log_line
from .timeline import TimelinePanel
from .tracker import RunTracker

DETAILS_REFRESH_MS = 100  # the tab on screen refreshes at most 10 times a second


__all__ = ["DETAILS_REFRESH_MS", "DetailsTabs", "log_line"]


class DetailsTabs(QTabWidget):
    """Shows one run's tracker; `refresh_from` it as the run's events arrive."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inspector = Inspector()
        self.group_inspector = GroupInspector()  # a group of the graph view
        self.results = ResultsPanel()
        self.occupancy = OccupancyPanel()
        self.timeline = TimelinePanel()
        self.log = RunLog()
        self.addTab(self.inspector, "Inspector")
        self.addTab(self.group_inspector, "Group")
        self.addTab(self.results, "Results")
        self.addTab(self.occupancy, "Occupancy")
        self.addTab(self.timeline, "Timeline")
        self.addTab(self.log, "Log")
        self.setCurrentWidget(self.inspector)
        self.tracker: RunTracker | None = None
        # Invariant: the log shows exactly `tracker.messages[:_shown_messages]`.
        self._shown_messages = 0
        self._refresh_throttle = QSignalThrottler(parent=self)  # leading and trailing
        self._refresh_throttle.setTimeout(DETAILS_REFRESH_MS)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.currentChanged.connect(self._on_self_current_changed)
        self._refresh_throttle.triggered.connect(self._on_refresh_throttle_triggered)

    def show_tracker(self, tracker: RunTracker | None) -> None:
        """Show another run (None: no run)."""
        self.tracker = tracker
        self._shown_messages = 0
        self.log.clear()
        self._refresh_throttle.cancel()
        self.results.show_run(tracker.run if tracker is not None else None)
        self.inspector.show_tracker(tracker)
        self.group_inspector.show_group(None)
        if tracker is not None:
            self._append_messages(tracker)
        self._refresh_shown()  # (no run: the tab on screen no longer shows the last one)

    def refresh_from(self, tracker: RunTracker) -> None:
        """New events arrived for `tracker` (ignored unless it is the run shown)."""
        if tracker is not self.tracker:
            return
        self._append_messages(tracker)
        if tracker.finished:  # the last word: bring every tab up to date once
            self._refresh_throttle.cancel()
            self.occupancy.show_tracker(tracker)
            if self.currentWidget() is self.timeline:
                self.timeline.show_tracker(tracker)
            self.inspector.refresh()
            self.group_inspector.refresh()
            self.results.refresh()
        else:
            self._refresh_throttle.throttle()

    def _append_messages(self, tracker: RunTracker) -> None:
        for message in tracker.messages[self._shown_messages :]:
            self.log.add(message)
        self._shown_messages = len(tracker.messages)

    def _refresh_shown(self) -> None:
        """Refresh only the tab on screen; the others catch up when shown."""
        shown = self.currentWidget()
        if shown is self.occupancy:
            self.occupancy.show_tracker(self.tracker)
        elif shown is self.timeline:
            self.timeline.show_tracker(self.tracker)
        elif shown is self.inspector:
            self.inspector.refresh()
        elif shown is self.results:
            self.results.refresh()
        elif shown is self.group_inspector:
            self.group_inspector.refresh()

    @Slot(int)
    def _on_self_current_changed(self, _index: int) -> None:
        self._refresh_shown()

    @Slot()
    def _on_refresh_throttle_triggered(self) -> None:
        self._refresh_shown()
