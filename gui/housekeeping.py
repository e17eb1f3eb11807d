"""A long session stays small: runs can be removed from the list, finished runs beyond a
limit are released from memory, and the history's retention is applied as runs finish.

Every run the window started used to stay in memory for good (a 1,000-node run holds
about 1 MB, and the views slowed down with the list). The controller releases the oldest
finished runs past `keep_finished` (the setting `runs/keep-finished`, default
`tracker.KEEP_FINISHED`); they stay reachable through History. `bench/soak.py` measures
what a session of 1,000 runs keeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence

from graphdeck.store import KEEP_RUNS, Recorder, RunStore, StoreError

from .session import MonitorSession
from .tasks import OwnedTasks
from .tracker import KEEP_FINISHED, RunTracker

#: the history's retention is applied once per this many finished runs
PRUNE_EVERY = 20
SETTING = "runs/keep-finished"
#: how long pruning waits for the history's writes to catch up (it prunes anyway then)
FLUSH_WAIT_S = 5.0


class Housekeeping(QObject):
    """The "Remove run" and "Remove finished runs" actions, the in-memory limit, and the
    history's retention during the session. Signals: `problem(text)` when pruning the
    history failed (the session goes on)."""

    problem = Signal(str)

    def __init__(
        self,
        session: MonitorSession,
        settings: QSettings,
        current: Callable[[], RunTracker | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller = controller = session.controller
        self._store: RunStore | None = session.store
        self._recorder: Recorder | None = session.recorder
        self._current = current
        controller.keep_finished = max(1, int(settings.value(SETTING, KEEP_FINISHED)))
        # Invariant: finished runs since the history was last pruned (< PRUNE_EVERY).
        self._finished_since_prune = 0
        self._tasks = OwnedTasks()
        self.remove_action = QAction("Re&move run", self, shortcut=QKeySequence("Ctrl+Del"))
        self.remove_finished_action = QAction("Remove finished r&uns", self)
        self._connect_signals()
        self.refresh()

    @property
    def actions(self) -> tuple[QAction, QAction]:
        return self.remove_action, self.remove_finished_action

    def _connect_signals(self) -> None:
        self.remove_action.triggered.connect(self._on_remove_action_triggered)
        self.remove_finished_action.triggered.connect(self._on_remove_finished_action_triggered)
        self._controller.runs_changed.connect(self.refresh)
        self._controller.run_finished.connect(self._on_controller_run_finished)

    @Slot()
    def refresh(self) -> None:
        """Enable the actions only when they would remove something."""
        current = self._current()
        controller = self._controller
        self.remove_action.setEnabled(
            current is not None
            and current.depth == 0
            and current in controller.trackers
            and controller.releasable(current)
        )
        self.remove_finished_action.setEnabled(
            any(t.depth == 0 and controller.releasable(t) for t in controller.trackers)
        )

    def close(self) -> None:
        self._tasks.cancel_all()

    @Slot()
    def _on_remove_action_triggered(self) -> None:
        current = self._current()
        if current is not None:
            self._controller.remove(current)

    @Slot()
    def _on_remove_finished_action_triggered(self) -> None:
        self._controller.remove_finished()

    @Slot(object)
    def _on_controller_run_finished(self, _tracker: RunTracker) -> None:
        self._finished_since_prune += 1
        if self._store is not None and self._finished_since_prune >= PRUNE_EVERY:
            self._finished_since_prune = 0
            self._tasks.start(self._prune(self._store))

    async def _prune(self, store: RunStore) -> None:
        """Written first, then pruned: a run whose end is not written yet reads as still
        running to the history, and running runs are never pruned."""
        try:
            await asyncio.to_thread(self._write_then_prune, store)
        except StoreError as exc:
            self.problem.emit(f"history not pruned: {exc}")

    def _write_then_prune(self, store: RunStore) -> None:
        if self._recorder is not None:
            self._recorder.flush(timeout=FLUSH_WAIT_S)
        store.prune(max_runs=KEEP_RUNS)
