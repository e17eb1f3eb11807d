"""The critical path on screen: a View menu toggle that outlines the chain of nodes that
decided the run's wall time on the graph and on the timeline, and says its length
against the wall time in the status bar.

A finished run's path is computed once. A live run shows the longest chain so far,
recomputed at most every `LIVE_MS` (`critical_path` walks back from the node that ends
last: a few ms at 10k nodes, too much for every refresh tick, fine once a second).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence

from graphdeck.analysis import CriticalPath, critical_path

from .labels import ElidedLabel
from .tracker import RunTracker

LIVE_MS = 1000
SHORTCUT = "Ctrl+Shift+C"


def path_words(path: CriticalPath, finished: bool) -> str:
    """`critical path: 4 node(s), 3.20 s of the run's 3.25 s (98%); 0.40 s (12%) waiting
    to start …`: the waiting share is what more slots or pools could win back."""
    if not path.nodes:
        return "critical path: no node has run yet"
    what = "critical path" if finished else "longest chain so far"
    share = f" ({path.length / path.wall:.0%})" if path.wall > 0 else ""
    waiting = (
        f"; {path.waiting:.2f} s ({path.waiting_share:.0%}) waiting to start"
        " (for a slot, a pool or the scheduler)"
        if path.waiting >= 0.005
        else ""
    )
    return (
        f"{what}: {len(path.nodes)} node(s), {path.length:.2f} s of the run's "
        f"{path.wall:.2f} s{share}{waiting}"
    )


class CriticalPathToggle(QObject):
    """The toggle in `window`'s View menu (`window`: the `MainWindow`; not imported)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.action = QAction("&Critical path", self, shortcut=QKeySequence(SHORTCUT))
        self.action.setCheckable(True)
        self.action.setToolTip("outline the chain of nodes that decided the run's wall time")
        self.label = ElidedLabel("")
        self.label.setObjectName("critical-path")
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)
        window.graph_actions.menu.addAction(self.action)
        self.path: CriticalPath | None = None  # (None: the toggle is off, or no run)
        self._live = QTimer(self)
        self._live.setInterval(LIVE_MS)
        self._connect_signals()

    def _connect_signals(self) -> None:
        window = self.window
        self.action.toggled.connect(self._on_action_toggled)
        self._live.timeout.connect(self.update)
        window.session.controller.run_updated.connect(self._on_run_updated)
        window.controls.runs_list.tracker_selected.connect(self._on_tracker_selected)
        window.graph_view.laid_out.connect(self._mark)

    @Slot()
    def update(self) -> None:
        """Compute the path of the run shown (or clear it) and mark it everywhere."""
        tracker: RunTracker | None = self.window.current
        shown = self.action.isChecked() and tracker is not None
        started = shown and tracker is not None and tracker.run.started_at is not None
        self.path = critical_path(tracker.run) if started and tracker is not None else None
        if shown and tracker is not None and not tracker.run.done:
            self._live.start()  # the longest chain so far grows
        else:
            self._live.stop()
        finished = tracker is not None and tracker.run.done
        self.label.setText(path_words(self.path, finished) if self.path is not None else "")
        self.label.setVisible(self.path is not None)
        self._mark()

    @Slot()
    def _mark(self) -> None:
        nodes = set(self.path.nodes) if self.path is not None else set()
        view = self.window.graph_view
        where = view.drawing.where
        view.marks.critical = {where[n] for n in nodes if n in where}
        view.viewport().update()
        timeline = self.window.details.timeline
        timeline.critical = nodes
        if timeline.plot is not None:
            timeline.show_tracker(timeline.tracker)

    @Slot(bool)
    def _on_action_toggled(self, _checked: bool) -> None:
        self.update()

    @Slot(object)
    def _on_run_updated(self, tracker: RunTracker) -> None:
        # A live run is followed by the timer; the last word once it has finished.
        if self.action.isChecked() and tracker is self.window.current and tracker.finished:
            self.update()

    @Slot(object)
    def _on_tracker_selected(self, _tracker: RunTracker | None) -> None:
        self.update()
