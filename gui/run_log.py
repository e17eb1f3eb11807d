"""The Log tab: a run's log lines (`log_entries`), each node named in it a link that
selects the node everywhere."""

from __future__ import annotations

import html
import time
from urllib.parse import quote, unquote

from PySide6.QtCore import QUrl, Signal, Slot
from PySide6.QtWidgets import QTextBrowser, QWidget

from .log_entries import LogEntry

#: lines kept on screen; older ones are dropped (the run keeps them all)
MAX_LINES = 5000
SCHEME = "node"


def log_line(stamp: float, source: str, text: str) -> str:
    """`12:00:01.250  [source]  text`"""
    clock = time.strftime("%H:%M:%S", time.localtime(stamp))
    return f"{clock}.{int(stamp % 1 * 1000):03d}  [{source}]  {text}"


class RunLog(QTextBrowser):
    """Signals: `node_selected(node_id)` when a node named in a line is clicked."""

    node_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("channel-log")
        self.setOpenLinks(False)
        self.document().setMaximumBlockCount(MAX_LINES)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.anchorClicked.connect(self._on_self_anchor_clicked)

    def add(self, entry: LogEntry) -> None:
        line = html.escape(log_line(entry.time, entry.source, entry.text))
        if entry.node is not None:
            named = html.escape(entry.node)
            link = f"<a href='{SCHEME}:{quote(entry.node, safe='')}'>{named}</a>"
            line = line.replace(named, link, 1)
        colour = "#b91c1c" if entry.source in ("node", "warning", "run") else "#0f172a"
        self.append(f"<span style='color:{colour}; white-space:pre'>{line}</span>")

    @Slot(QUrl)
    def _on_self_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == SCHEME:
            self.node_selected.emit(unquote(url.path()))
