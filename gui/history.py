"""The history pane: past runs from the run store, filterable by graph, state and date.

Queries run in a worker thread (a history of thousands of runs must not stall the
window); a newer query's answer replaces an older one, an older answer arriving late is
dropped. Opening a run loads it in a thread too and hands it to the window read-only.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QDate,
    QDateTime,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTime,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import QSignalDebouncer

from graphdeck.store import RunStore, RunSummary, StoreError, export_run

from .dialogs import YES, ask_yes_no
from .history_model import HistoryModel
from .labels import wrapping
from .tasks import OwnedTasks

Index = QModelIndex | QPersistentModelIndex
ALL_STATES = "any state"
STATES = ("succeeded", "failed", "cancelled", "interrupted", "running")
LIST_LIMIT = 500
UNFINISHED = ("pending", "running")
TRACE_FILTER = "Chrome trace, opens in Perfetto (*.trace.json)"
JSON_FILTER = "Run as JSON (*.json)"
#: typing a graph name asks for a query per key: query once the typing pauses this long
FILTER_DEBOUNCE_MS = 150
#: no column wider than this: a long graph or file name is elided (its row's tooltip has
#: it whole), so state, graph and date show in the pane at the window's first size
COLUMN_MAX_WIDTH = 130


class HistoryPanel(QWidget):
    """Signals: `open_requested(run_id)` when the user opens a past run."""

    open_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store: RunStore | None = None
        self._generation = 0
        self.graph_filter = QLineEdit()
        self.graph_filter.setObjectName("history-graph")
        self.graph_filter.setPlaceholderText("graph name contains…")
        self.state_filter = QComboBox()
        self.state_filter.setObjectName("history-state")
        self.state_filter.addItems([ALL_STATES, *STATES])
        self.since_check = QCheckBox("since")
        self.since_date = QDateEdit(QDate.currentDate().addDays(-7))
        self.since_date.setCalendarPopup(True)
        self.since_date.setEnabled(False)
        self.refresh_button = QPushButton("Refresh")
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("history-open")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("the run as JSON, or as a Chrome trace for Perfetto")
        self.delete_button = QPushButton("Delete")
        for button in (self.open_button, self.export_button, self.delete_button):
            button.setEnabled(False)
        self._jobs = OwnedTasks()  # queries, exports and deletions under way
        self._stopped = False  # the window is closing: no new query
        self._filter_debounce = QSignalDebouncer(parent=self)
        self._filter_debounce.setTimeout(FILTER_DEBOUNCE_MS)
        self.problem = wrapping(QLabel(""))
        self.problem.setObjectName("history-problem")
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # What the history writer could not record (Recorder.problem), beside what this
        # pane could not read (`problem`).
        self.recorder_problem = wrapping(QLabel(""))
        self.recorder_problem.setObjectName("history-recorder-problem")
        self.recorder_problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.recorder_problem.setVisible(False)
        self.location = wrapping(QLabel(""))
        self.location.setObjectName("history-location")
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = HistoryModel()
        self.table = QTableView()
        self.table.setObjectName("history-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # (two selected: to compare them)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setMaximumSectionSize(COLUMN_MAX_WIDTH)  # a long name is elided, not the state
        self._lay_out()
        self._connect_signals()

    def _lay_out(self) -> None:
        filters = QHBoxLayout()
        filters.addWidget(self.state_filter)
        filters.addWidget(self.since_check)
        filters.addWidget(self.since_date)
        filters.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.problem)
        layout.addWidget(self.recorder_problem)
        layout.addWidget(self.graph_filter)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.location)

    def _connect_signals(self) -> None:
        self.graph_filter.textChanged.connect(self._filter_debounce.throttle)
        self._filter_debounce.triggered.connect(self.refresh)
        self.state_filter.currentIndexChanged.connect(self.refresh)
        self.since_check.toggled.connect(self.since_date.setEnabled)
        self.since_check.toggled.connect(self.refresh)
        self.since_date.dateChanged.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self.delete_button.clicked.connect(self.ask_delete)

    def set_store(self, store: RunStore | None, problem: str | None = None) -> None:
        self.store = store
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        self.location.setText(f"history: {store.path}" if store is not None else "")
        # Not at once: the window is usually built before the event loop runs.
        QTimer.singleShot(0, self.refresh)

    def set_recorder_problem(self, problem: str | None) -> None:
        """Show what the history writer could not record (None: all is being written)."""
        self.recorder_problem.setText(problem or "")
        self.recorder_problem.setVisible(bool(problem))

    def stop(self) -> None:
        """Drop the query and the exports or deletions under way: the window is closing,
        nobody would see their outcome (a thread already writing finishes its write)."""
        self._stopped = True
        self._filter_debounce.cancel()
        self._jobs.cancel_all()

    def filters(self) -> dict[str, Any]:
        state = self.state_filter.currentText()
        since = None
        if self.since_check.isChecked():
            since = QDateTime(self.since_date.date(), QTime(0, 0)).toSecsSinceEpoch()
        return {
            "graph": self.graph_filter.text().strip() or None,
            "state": None if state == ALL_STATES else state,
            "since": since,
            "limit": LIST_LIMIT,
        }

    def refresh(self) -> asyncio.Task[None] | None:
        """Query the store again with the current filters (in a worker thread)."""
        if self._stopped:  # (a timer that fires while the window closes: no one to show)
            return None
        if self.store is None:
            self.model.set_runs([])
            return None
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop (the app is closing): the next refresh will do
            return None
        self._generation += 1
        return self._jobs.start(self._load(self.store, self._generation, self.filters()))

    async def _load(self, store: RunStore, generation: int, filters: dict[str, Any]) -> None:
        try:
            runs = await asyncio.to_thread(store.runs, **filters)
        except StoreError as exc:
            if generation == self._generation:
                self.problem.setText(str(exc))
                self.problem.setVisible(True)
            return
        if generation == self._generation:  # else a newer query is on its way
            self._set_runs(runs)
            filtered = any(value for key, value in filters.items() if key != "limit")
            shown = (
                f"{len(runs)} run(s)"
                if runs
                else "no runs" + (" match these filters" if filtered else " recorded yet")
            )
            self.location.setText(f"{shown} · history: {store.path}")

    def _set_runs(self, runs: list[RunSummary]) -> None:
        """List `runs`, keeping the selected run selected (a refresh comes whenever a run
        starts or ends, e.g. right after one was opened: Export must still act on it)."""
        selected = self.selected_run()
        self.model.set_runs(runs)
        row = self.model.row_of(selected.id) if selected is not None else None
        if row is not None:
            self.table.selectRow(row)
        else:
            self._on_selection_changed()

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def selected_ids(self) -> list[str]:
        """The ids of the runs selected, in the table's order."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.model.runs[row].id for row in rows if row < len(self.model.runs)]

    def selected_run(self) -> RunSummary | None:
        row = self.selected_row()
        return self.model.runs[row] if row is not None and row < len(self.model.runs) else None

    @Slot()
    def _on_selection_changed(self) -> None:
        run = self.selected_run()
        for button in (self.open_button, self.export_button):
            button.setEnabled(run is not None)
        # A run still being written is not deleted under its writer's feet.
        self.delete_button.setEnabled(run is not None and run.state not in UNFINISHED)

    # -- export and delete: the file work happens in worker threads --------------------

    @Slot()
    def _on_export_button_clicked(self) -> None:
        run = self.selected_run()
        if run is None:
            return
        # open(), not exec(): a nested modal loop inside qasync breaks running tasks.
        dialog = QFileDialog(self, f"Export run {run.id}", f"{run.graph}-{run.id}.trace.json")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters([TRACE_FILTER, JSON_FILTER])
        dialog.fileSelected.connect(
            functools.partial(self._on_export_dialog_file_selected, run.id, dialog)
        )
        dialog.open()

    def _on_export_dialog_file_selected(self, run_id: str, dialog: QFileDialog, path: str) -> None:
        chosen = "trace" if dialog.selectedNameFilter() == TRACE_FILTER else "json"
        self.export(run_id, Path(path), chosen)

    def export(self, run_id: str, path: Path, fmt: str) -> asyncio.Task[None]:
        """Write run `run_id` to `path` as "json" or "trace"; says so when done."""
        return self._jobs.start(self._export(run_id, path, fmt))

    async def _export(self, run_id: str, path: Path, fmt: str) -> None:
        assert self.store is not None
        try:
            # The file dialog has asked before choosing an existing file.
            await asyncio.to_thread(export_run, self.store, run_id, fmt, path, overwrite=True)
        except (StoreError, LookupError, OSError) as exc:
            self.location.setText(f"export failed: {exc}")
            return
        self.location.setText(f"wrote run {run_id} to {path}")

    def ask_delete(self) -> QMessageBox | None:
        run = self.selected_run()
        if run is None or self.store is None:
            return None
        box = ask_yes_no(
            self,
            "confirm-delete",
            "Delete run",
            f"Delete run {run.id} of {run.graph} (and its child runs) from the history?",
        )
        box.finished.connect(functools.partial(self._on_delete_question_finished, run.id))
        return box

    def _on_delete_question_finished(self, run_id: str, answer: int) -> None:
        if answer == YES:
            self._jobs.start(self._delete(run_id))

    async def _delete(self, run_id: str) -> None:
        assert self.store is not None
        try:
            await asyncio.to_thread(self.store.delete, run_id)
        except (StoreError, LookupError) as exc:
            self.location.setText(f"not deleted: {exc}")
            return
        self.refresh()

    @Slot()
    def _on_open_button_clicked(self) -> None:
        row = self.selected_row()
        if row is not None:
            self._open_row(row)

    @Slot(QModelIndex)
    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        self._open_row(index.row())

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.model.runs):
            self.open_requested.emit(self.model.runs[row].id)
