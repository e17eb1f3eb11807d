"""The runs of the session, one row each: child runs indented under their parent, stored
runs marked, coloured by state. A model over the `RunController`, and a thin view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from graphdeck import NodeKind, NodeState
from graphdeck.store import StoredRunView

from .pause_actions import pause_note
from .theme import run_colour
from .tracker import RunController, RunTracker

Index = QModelIndex | QPersistentModelIndex
#: the data role giving a row's `RunTracker`
TRACKER_ROLE = Qt.ItemDataRole.UserRole


def run_row_text(tracker: RunTracker) -> str:
    """`name  id  —  state`, indented by nesting depth; "(history)" for a stored run,
    "· paused (2 held)" for a paused one."""
    run = tracker.run
    indent = "    " * tracker.depth + ("↳ " if tracker.depth else "")
    where = "  (history)" if isinstance(run, StoredRunView) else ""
    again = f" · re-run {tracker.rounds - 1}" if tracker.rounds > 1 else ""
    paused = f" · {note}" if (note := pause_note(run)) else ""
    return f"{indent}{run.name}  {run.id[:6]}  —  {run.state.value}{paused}{again}{where}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def running_text(tracker: RunTracker) -> list[str]:
    """The running nodes as what they are: tools in slots of the cap ("running 4", never
    more than the cap), open maps (they only group their items) and parallel items (held
    to their own limit, not the cap)."""
    kinds = tracker.running_kinds
    parts = [f"running {kinds[NodeKind.TOOL]}"] if kinds[NodeKind.TOOL] else []
    if kinds[NodeKind.MAP]:
        parts.append(_plural(kinds[NodeKind.MAP], "map") + " open")
    if kinds[NodeKind.EXTERNAL]:
        parts.append(_plural(kinds[NodeKind.EXTERNAL], "parallel item") + " running")
    return parts


def progress_text(tracker: RunTracker) -> str:
    """`name: state  |  node counts by state  |  slots in use  |  elapsed`, for the
    status bar."""
    parts: list[str] = []
    for state, n in tracker.counts.items():
        if not n:
            continue
        parts += running_text(tracker) if state is NodeState.RUNNING else [f"{state.value} {n:,}"]
    run = tracker.run
    state = f"{run.state.value}, {note}" if (note := pause_note(run)) else run.state.value
    slots = f"slots {run.occupancy.active}/{run.occupancy.cap}  |  " if not run.done else ""
    return f"{run.name}: {state}  |  {'  '.join(parts)}  |  {slots}{tracker.elapsed():.1f} s"


class RunsListModel(QAbstractListModel):
    """The controller's trackers, in its order, as rows."""

    def __init__(self, controller: RunController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        # Invariant: the controller's trackers as this model last announced them. It only
        # ever inserts trackers (never removes or reorders), so catching up is a series of
        # row inserts; views keep their selection on the same run meanwhile.
        self._rows: list[RunTracker] = []
        self._connect_signals()
        self._on_controller_runs_changed()

    def _connect_signals(self) -> None:
        self._controller.runs_changed.connect(self._on_controller_runs_changed)

    def tracker(self, row: int) -> RunTracker | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, tracker: RunTracker) -> int:
        return self._rows.index(tracker)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        tracker = self.tracker(index.row()) if index.isValid() else None
        if tracker is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return run_row_text(tracker)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(run_colour(tracker.run.state))
        if role == TRACKER_ROLE:
            return tracker
        return None

    @Slot()
    def _on_controller_runs_changed(self) -> None:
        trackers = self._controller.trackers
        kept = {id(t) for t in trackers}
        for row in reversed(range(len(self._rows))):  # released runs leave first
            if id(self._rows[row]) not in kept:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        for row, tracker in enumerate(trackers):
            if row < len(self._rows) and self._rows[row] is tracker:
                continue
            self.beginInsertRows(QModelIndex(), row, row)
            self._rows.insert(row, tracker)
            self.endInsertRows()
        if self._rows:  # states changed too: every row may read differently
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1))


class RunsList(QListView):
    """The runs; the current one is the one every other view shows (Ctrl+click selects a
    second one too, to compare them)."""

    #: the run shown everywhere changed (its `RunTracker`, or None)
    tracker_selected = Signal(object)

    def __init__(self, model: RunsListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runs-list")
        self.setModel(model)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._connect_signals()

    def model(self) -> RunsListModel:
        return super().model()  # type: ignore[return-value]

    def _connect_signals(self) -> None:
        self.selectionModel().currentRowChanged.connect(self._on_selection_current_row_changed)

    def select(self, tracker: RunTracker) -> None:
        self.select_row(self.model().row_of(tracker))

    def selected_trackers(self) -> list[RunTracker]:
        """The runs selected, in the list's order."""
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        return [t for t in map(self.model().tracker, rows) if t is not None]

    def select_row(self, row: int) -> None:
        """That run alone: `setCurrentIndex` would read the keyboard's modifiers, and a run
        started with Ctrl+Return was added to the selection (two runs to compare)."""
        self._select_only(self.model().index(row))

    def clear_selection(self) -> None:
        """Select no run: every view shows none."""
        self._select_only(QModelIndex())

    def _select_only(self, index: QModelIndex) -> None:
        flags = QItemSelectionModel.SelectionFlag
        self.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)

    def texts(self) -> list[str]:
        """Every row as shown."""
        model = self.model()
        return [model.data(model.index(row)) for row in range(model.rowCount())]

    @Slot(QModelIndex, QModelIndex)
    def _on_selection_current_row_changed(self, current: QModelIndex, _previous: Any) -> None:
        self.tracker_selected.emit(self.model().tracker(current.row()))
