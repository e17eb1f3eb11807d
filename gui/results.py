"""Results: the run's outputs (the fan-in value) and a table of the fan-out branches."""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTableView, QVBoxLayout, QWidget

from graphdeck import Node, Run
from graphdeck.values import show_value

from .labels import set_wrapped_text, wrapping

Index = QModelIndex | QPersistentModelIndex


class BranchModel(QAbstractTableModel):
    """The nodes of the run's widest fan-out: id, state, outputs (read live)."""

    HEADERS = ("node", "state", "outputs")

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[Node] = []

    def set_nodes(self, nodes: list[Node]) -> None:
        self.beginResetModel()
        self.nodes = nodes
        self.endResetModel()

    def refresh(self) -> None:
        if self.nodes:
            self.dataChanged.emit(self.index(0, 1), self.index(len(self.nodes) - 1, 2))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.nodes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        node = self.nodes[index.row()]
        column = index.column()
        if column == 0:
            return node.id
        if column == 1:
            return node.state.value
        return show_value(node.outputs, limit=200) if node.outputs is not None else ""

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None


def widest_fan_out(run: Run) -> list[Node]:
    """The largest set of sibling nodes (same group, or same tool at the top level)."""
    sizes = Counter(node.group or node.tool.name for node in run.graph.nodes)
    if not sizes:
        return []
    name, count = sizes.most_common(1)[0]
    if count < 2:
        return []
    return [n for n in run.graph.nodes if (n.group or n.tool.name) == name]


class ResultsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = wrapping(QLabel("No run yet."))  # an error can be long
        self.summary.setObjectName("results-summary")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outputs = QPlainTextEdit()
        self.outputs.setObjectName("results-outputs")
        self.outputs.setReadOnly(True)
        self.branches = BranchModel()
        self.table = QTableView()
        self.table.setModel(self.branches)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.outputs, 1)
        layout.addWidget(QLabel("Fan-out branches"))
        layout.addWidget(self.table, 2)
        self.run: Run | None = None
        self._node_count = -1

    def show_run(self, run: Run | None) -> None:
        self.run = run
        self._node_count = -1
        self.branches.set_nodes([])  # (found by `refresh`)
        starting = run is not None and not run.done
        self.refresh(fan_out=not starting)
        if starting:  # its fan-out is looked for in a callback of its own, not in the
            QTimer.singleShot(0, self, self.refresh)  # one starting it (30 ms at 100k)

    def refresh(self, fan_out: bool = True) -> None:
        run = self.run
        if run is None:
            set_wrapped_text(self.summary, "No run yet.")
            self.outputs.setPlainText("")
            self.branches.set_nodes([])
            return
        if fan_out and len(run.graph) != self._node_count and (self.isVisible() or run.done):
            # The graph grew: find the fan-out again (a pass over every node: 30 to 45 ms
            # at 100k, so not while the panel is hidden and the run is live; the tabs
            # refresh a panel when it is shown, and every panel when the run ends).
            self._node_count = len(run.graph)
            self.branches.set_nodes(widest_fan_out(run))
        else:
            self.branches.refresh()
        if not run.done:
            set_wrapped_text(self.summary, f"{run.name}: {run.state.value}…")
            self.outputs.setPlainText("")
            return
        text = outputs_text(run.outputs or {}, limit=OUTPUTS_LIMIT)
        if run.error is not None:
            set_wrapped_text(self.summary, f"{run.name}: {run.state.value} — {run.error}")
        else:
            set_wrapped_text(self.summary, f"{run.name}: {run.state.value}")
        if self.outputs.toPlainText() != text:
            self.outputs.setPlainText(text)


#: characters of the run's outputs shown (a huge value is cut, never built whole)
OUTPUTS_LIMIT = 100_000


def outputs_text(outputs: dict[str, Any], limit: int) -> str:
    """The run's outputs: indented JSON when they fit in `limit`; else each under its name
    within an equal share, a value cut short saying how big it is. (A 50 MB output filled
    the whole text and hid the others, and nothing said it was cut.)"""
    whole = show_value(outputs, limit)
    if len(whole) <= limit or len(outputs) == 0:  # (cut: `limit` characters and "…")
        return whole
    share = max(limit // len(outputs), 1_000)
    parts = []
    for name, value in outputs.items():
        text = show_value(value, share)
        size = size_words(value)
        if size:  # (the text is cut with "…" or "...": say of what)
            text += f"\n({size})"
        parts.append(f"{name}:\n{textwrap.indent(text, '  ')}")
    return "\n\n".join(parts)


#: values of at least this many characters or items say their size beside their text
BIG = 1_000


def size_words(value: Any) -> str:
    """How big a big `value` is, in words ("a str of 50,000,000 characters"); "" when
    it is small or has no length."""
    try:
        size = len(value)
    except TypeError:
        return ""
    if size < BIG:
        return ""
    kind = type(value).__name__
    if isinstance(value, str):
        return f"a str of {size:,} characters"
    if isinstance(value, bytes | bytearray):
        return f"{kind}: {size:,} bytes"
    return f"a {kind} of {size:,} items"
