"""Two runs side by side (`graphdeck.store.compare`): the summary, a table of nodes
sortable by change, the graph coloured by what changed, and a clicked node's record in
each run (inputs, outputs, error) next to each other. A window of its own, `show()`n
(never `exec()`: docs/design.md §6.2), so the monitor goes on meanwhile."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from graphdeck.store import compare

from .compare_graph import CompareGraph
from .compare_model import CHANGES, RANK, changes, ratio_text, seconds_text, summary_text
from .labels import wrapping
from .node_text import GREY, node_html

COLUMNS = ("node", "change", "A state", "B state", "A s", "B s", "B / A", "outputs")
#: the node column at most (longer ids are elided: the other columns stay in view)
NODE_COLUMN_MAX = 240
#: the table takes at most this share of the window's width (the graph the rest)
TABLE_SHARE = 0.6
DEFAULT_SIZE = (1300, 820)
#: the item role a cell sorts by (the change's rank, seconds as numbers)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class _Cell(QTableWidgetItem):
    """A cell that sorts by its `SORT_ROLE` value when it has one (else by its text)."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is None or theirs is None:
            return self.text() < other.text()
        return mine < theirs


def _cell(text: str, sort: Any = None) -> _Cell:
    cell = _Cell(text)
    if sort is not None:
        cell.setData(SORT_ROLE, sort)
    return cell


class CompareDialog(QDialog):
    """The comparison of run `a` (the earlier) with run `b`: live runs or stored views."""

    def __init__(self, a: Any, b: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare")
        self.setWindowTitle(f"Compare {a.name} {a.id[:6]} with {b.name} {b.id[:6]}")
        self.a, self.b = a, b
        self.comparison = compare(a, b)
        # Invariant: `changed` holds the change of every node of either run.
        self.changed = changes(self.comparison)
        self.summary = wrapping(QLabel(summary_text(self.comparison)))
        self.summary.setObjectName("compare-summary")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("compare-table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.graph = CompareGraph()
        self.side_a, self.side_b = QTextBrowser(), QTextBrowser()
        self.side_a.setObjectName("compare-a")
        self.side_b.setObjectName("compare-b")
        self._fill_table()
        self._lay_out()
        self._connect_signals()
        nodes = {**dict(b.nodes), **{i: n for i, n in a.nodes.items() if i not in b.nodes}}
        self.graph.show_nodes(list(nodes.values()), self.changed)
        self.show_node(None)
        self.resize(*DEFAULT_SIZE)
        self._share_width()

    def _fill_table(self) -> None:
        rows = self.comparison["nodes"]
        self.table.setRowCount(len(rows))
        for row, node in enumerate(rows):
            change = self.changed[node["id"]]
            colour, label = CHANGES[change]
            badge = _cell(f"■ {label}", RANK[change])
            badge.setForeground(QColor(colour))
            outputs = {True: "equal", False: "changed", None: "—"}[node["outputs_equal"]]
            cells = (
                _cell(node["id"]),
                badge,
                _cell(node["a_state"] or "—"),
                _cell(node["b_state"] or "—"),
                _cell(seconds_text(node["a_seconds"]), node["a_seconds"] or 0.0),
                _cell(seconds_text(node["b_seconds"]), node["b_seconds"] or 0.0),
                _cell(ratio_text(node["change"]), node["change"] or 0.0),
                _cell(outputs),
            )
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
        self.table.setSortingEnabled(True)
        self.table.sortItems(COLUMNS.index("change"))  # the biggest changes first
        self.table.resizeColumnsToContents()
        if self.table.columnWidth(0) > NODE_COLUMN_MAX:
            self.table.setColumnWidth(0, NODE_COLUMN_MAX)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # ids differ at their ends

    def _share_width(self) -> None:
        """Give the table the width of all its columns (it had a third of the window and
        hid its numbers behind the graph), the graph the rest: the graph grows with the
        window, the table keeps its width."""
        table = self.table
        columns = sum(table.columnWidth(c) for c in range(table.columnCount()))
        chrome = 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width() + 4
        want = min(columns + chrome, int(self.width() * TABLE_SHARE))
        self.top.setStretchFactor(0, 0)
        self.top.setStretchFactor(1, 1)
        self.top.setSizes([want, max(self.width() - want, 1)])

    def _lay_out(self) -> None:
        legend = QHBoxLayout()
        for change, (colour, label) in CHANGES.items():
            swatch = QLabel(f"<span style='color:{colour}'>■</span> {label}")
            swatch.setObjectName(f"compare-legend-{change}")
            legend.addWidget(swatch)
        legend.addStretch(1)
        sides = QSplitter(Qt.Orientation.Horizontal)
        for title, browser in (("A", self.side_a), ("B", self.side_b)):
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(QLabel(f"<b>{title}</b>"))
            column.addWidget(browser, 1)
            sides.addWidget(box)
        self.top = QSplitter(Qt.Orientation.Horizontal)
        self.top.setObjectName("compare-top")
        self.top.addWidget(self.table)
        self.top.addWidget(self.graph)
        self.top.setCollapsible(0, False)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.top)
        body.addWidget(sides)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(legend)
        layout.addWidget(body, 1)

    def _connect_signals(self) -> None:
        self.table.itemSelectionChanged.connect(self._on_table_item_selection_changed)
        self.graph.node_clicked.connect(self._on_graph_node_clicked)

    def row_ids(self) -> list[str]:
        """The node ids in the table's order as shown."""
        return [self.table.item(row, 0).text() for row in range(self.table.rowCount())]

    def select_node(self, node_id: str) -> None:
        """Select `node_id`'s row (which shows both sides of it)."""
        self.table.selectRow(self.row_ids().index(node_id))

    def show_node(self, node_id: str | None) -> None:
        """`node_id` in A and in B, side by side (None: nothing chosen yet)."""
        for run, browser in ((self.a, self.side_a), (self.b, self.side_b)):
            node = run.nodes.get(node_id) if node_id is not None else None
            if node is not None:
                browser.setHtml(node_html(node, None, None))
            elif node_id is None:
                browser.setHtml(f"<p style='color:{GREY}'>Click a node to see it in both runs.</p>")
            else:
                browser.setHtml(f"<p style='color:{GREY}'>{node_id}: not in this run.</p>")
        if node_id is not None:
            self.graph.select(node_id)

    @Slot()
    def _on_table_item_selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.show_node(self.table.item(rows[0].row(), 0).text() if rows else None)

    @Slot(str)
    def _on_graph_node_clicked(self, node_id: str) -> None:
        self.select_node(node_id)
