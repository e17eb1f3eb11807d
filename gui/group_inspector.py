"""The selected group in full: members by state, how long they took, the failed ones (click
to go there), its pages, and what can be done to all of them at once."""

from __future__ import annotations

import html
import statistics
from collections import Counter

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from graphdeck import Node, NodeState

from .graph_model import PAGE
from .graph_search import FAILED
from .theme import NODE_COLOURS

#: failed members listed at most (the rest are counted)
FAILED_LISTED = 200
KEY_ROLE = Qt.ItemDataRole.UserRole


def durations(members: list[Node]) -> tuple[float, float, float] | None:
    """(p50, p95, max) seconds of the members that finished, None if none did."""
    spans = sorted(
        n.finished_at - n.started_at
        for n in members
        if n.finished_at is not None and n.started_at is not None
    )
    if not spans:
        return None
    p95 = spans[min(len(spans) - 1, int(len(spans) * 0.95))]
    return statistics.median(spans), p95, spans[-1]


class GroupInspector(QWidget):
    """Shows one group of the graph view; asks the window to act on it."""

    #: go to this member (its key in the graph view)
    member_selected = Signal(str)
    #: (group key, what): "toggle", "next", "previous" or "failed" (its page)
    page_requested = Signal(str, str)
    #: cancel these members (node ids of the run shown), those not finished
    cancel_requested = Signal(list)
    #: re-run these failed members (node ids), and what depends on them
    rerun_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Invariant: `members` are the group `key`'s; `keys[i]` is members[i]'s key in the
        # graph view (None: no group shown).
        self.key: str | None = None
        self.title = ""
        self.members: list[Node] = []
        self.page: tuple[int, int] | None = None
        self.rerun_allowed = False
        self.summary = QLabel("Select a group to inspect it.")
        self.summary.setObjectName("group-summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.failed_list = QListWidget()
        self.failed_list.setObjectName("group-failed")
        self.toggle_button = QPushButton("Open")
        self.previous_button = QPushButton("◀ Previous page")
        self.next_button = QPushButton("Next page ▶")
        self.failed_button = QPushButton("Page with the first failed")
        self.cancel_button = QPushButton("Cancel group")
        self.rerun_button = QPushButton("Re-run failed members")
        self._lay_out()
        self._connect_signals()
        self.refresh()

    def _lay_out(self) -> None:
        buttons = QGridLayout()
        for i, button in enumerate(
            (
                self.toggle_button,
                self.failed_button,
                self.previous_button,
                self.next_button,
                self.cancel_button,
                self.rerun_button,
            )
        ):
            buttons.addWidget(button, i // 2, i % 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Failed members (click to go there)"))
        layout.addWidget(self.failed_list, 1)

    def _connect_signals(self) -> None:
        # (not itemActivated too: styles that activate on a single click would ask twice)
        self.failed_list.itemClicked.connect(self._on_failed_list_item_clicked)
        self.toggle_button.clicked.connect(self._on_toggle_button_clicked)
        self.previous_button.clicked.connect(self._on_previous_button_clicked)
        self.next_button.clicked.connect(self._on_next_button_clicked)
        self.failed_button.clicked.connect(self._on_failed_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.rerun_button.clicked.connect(self._on_rerun_button_clicked)

    def show_group(
        self,
        key: str | None,
        title: str = "",
        members: list[Node] | None = None,
        page: tuple[int, int] | None = None,
        keys: list[str] | None = None,
    ) -> None:
        """Show group `key` (None: nothing); `page`: (first shown, members) if it is open;
        `keys`: each member's key in the graph view (default: its id)."""
        self.key, self.title, self.page = key, title, page
        self.members = list(members or [])
        self._keys = keys
        self.refresh()

    def refresh(self) -> None:
        if self.key is None:
            self.summary.setText("Select a group to inspect it.")
            self.failed_list.clear()
            for button in self._buttons():
                button.setEnabled(False)
            return
        counts = Counter(n.state for n in self.members)
        self.summary.setText(self._summary(counts))
        failed = [i for i, n in enumerate(self.members) if n.state in FAILED]
        self._list_failed(failed)
        opened = self.page is not None
        self.toggle_button.setText("Collapse" if opened else "Open")
        self.toggle_button.setEnabled(True)
        start, size = self.page if self.page is not None else (0, 0)
        self.previous_button.setEnabled(opened and start > 0)
        self.next_button.setEnabled(opened and start + PAGE < size)
        self.failed_button.setEnabled(bool(failed))
        self.cancel_button.setEnabled(any(not n.state.is_terminal for n in self.members))
        self.rerun_button.setEnabled(self.rerun_allowed and bool(failed))

    def _buttons(self) -> tuple[QPushButton, ...]:
        return (
            self.toggle_button,
            self.previous_button,
            self.next_button,
            self.failed_button,
            self.cancel_button,
            self.rerun_button,
        )

    def _summary(self, counts: Counter[NodeState]) -> str:
        total = len(self.members)
        rows = "".join(
            f"<tr><td style='color:{NODE_COLOURS[s]}'>■</td><td>{s.value}</td>"
            f"<td align='right'>{counts[s]:,}</td></tr>"
            for s in NodeState
            if counts.get(s)
        )
        spans = durations(self.members)
        timing = (
            "duration p50 {:.3f} s · p95 {:.3f} s · max {:.3f} s".format(*spans)
            if spans
            else "no member has finished"
        )
        shown = ""
        if self.page is not None:
            start, size = self.page
            shown = f"<p>showing {start + 1:,}–{min(size, start + PAGE):,} of {size:,}</p>"
        return (
            f"<h3>{html.escape(self.title)}</h3><p>{total:,} members</p>{shown}"
            f"<table cellpadding=2>{rows}</table><p>{timing}</p>"
        )

    def _list_failed(self, failed: list[int]) -> None:
        self.failed_list.clear()
        for i in failed[:FAILED_LISTED]:
            node = self.members[i]
            error = f": {type(node.error).__name__}: {node.error}" if node.error else ""
            item = QListWidgetItem(f"{node.id}{error}"[:200])
            item.setData(KEY_ROLE, self._keys[i] if self._keys else node.id)
            self.failed_list.addItem(item)
        if len(failed) > FAILED_LISTED:
            self.failed_list.addItem(f"… and {len(failed) - FAILED_LISTED:,} more")

    @Slot(QListWidgetItem)
    def _on_failed_list_item_clicked(self, item: QListWidgetItem) -> None:
        key = item.data(KEY_ROLE)
        if key:
            self.member_selected.emit(key)

    def _page(self, what: str) -> None:
        if self.key is not None:
            self.page_requested.emit(self.key, what)

    @Slot()
    def _on_toggle_button_clicked(self) -> None:
        self._page("toggle")

    @Slot()
    def _on_previous_button_clicked(self) -> None:
        self._page("previous")

    @Slot()
    def _on_next_button_clicked(self) -> None:
        self._page("next")

    @Slot()
    def _on_failed_button_clicked(self) -> None:
        self._page("failed")

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        self.cancel_requested.emit([n.id for n in self.members if not n.state.is_terminal])

    @Slot()
    def _on_rerun_button_clicked(self) -> None:
        self.rerun_requested.emit([n.id for n in self.members if n.state in FAILED])
