"""The history pane's table: one past run per row, with its date, its time, its graph and
the graph file it came from (two files defining a graph of the same name are told apart
by as much of their paths as it takes)."""

from __future__ import annotations

import time
from pathlib import PurePath
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from graphdeck.store import RunSummary

from .theme import run_colour

Index = QModelIndex | QPersistentModelIndex


def short_paths(paths: set[str]) -> dict[str, str]:
    """Each path by its shortest tail that no other of `paths` shares: `pipeline.py`, or
    `a/pipeline.py` and `b/pipeline.py` when two files have that name."""
    parts = {path: PurePath(path).parts for path in paths}
    shown: dict[str, str] = {}
    for path, mine in parts.items():
        for length in range(1, len(mine) + 1):
            tail = mine[-length:]
            if all(other[-length:] != tail for p, other in parts.items() if p != path):
                break
        shown[path] = str(PurePath(*tail)) if mine else path
    return shown


class HistoryModel(QAbstractTableModel):
    # What tells runs apart first, so that it shows in the pane at its first width: the
    # state, the graph and when; then the rest (see `history.COLUMN_MAX_WIDTH`).
    HEADERS = ("state", "graph", "date", "started", "time", "nodes", "file", "run")
    STATE, GRAPH, DATE, STARTED, TIME, NODES, FILE, RUN = range(8)

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[RunSummary] = []
        # Invariant: each listed run's file, as short as tells it from the others listed.
        self._files: dict[str, str] = {}

    def set_runs(self, runs: list[RunSummary]) -> None:
        self.beginResetModel()
        self.runs = runs
        self._files = short_paths({run.file for run in runs if run.file})
        self.endResetModel()

    def row_of(self, run_id: str) -> int | None:
        return next((row for row, run in enumerate(self.runs) if run.id == run_id), None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run = self.runs[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.ForegroundRole and column == self.STATE:
            return QColor(run_colour(run.state))
        if role == Qt.ItemDataRole.ToolTipRole:
            started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_at or 0))
            return "\n".join(filter(None, [run.graph, started, run.file, run.error]))
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(run, column)
        return None

    def _text(self, run: RunSummary, column: int) -> str:
        started = time.localtime(run.started_at) if run.started_at is not None else None
        if column == self.DATE:
            return time.strftime("%Y-%m-%d", started) if started else "-"
        if column == self.STARTED:
            return time.strftime("%H:%M:%S", started) if started else "-"
        if column == self.GRAPH:
            return run.graph
        if column == self.FILE:
            return self._files.get(run.file, "-") if run.file else "-"
        if column == self.STATE:
            return run.state
        if column == self.NODES:
            return f"{run.nodes}" + (f"  ({run.unsuccessful} not ok)" if run.unsuccessful else "")
        if column == self.TIME:
            return "-" if run.duration is None else f"{run.duration:.2f} s"
        return run.id

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None
