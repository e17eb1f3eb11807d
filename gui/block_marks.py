"""Blocks of the event loop on screen as they are reported: a line in the status bar, a
badge on the node that blocked (on the graph of the run shown), or on the agent's own box
for a block in its body.

The monitor runs on the loop that was blocked, so the earliest it can say anything is
the first poll after the loop turned again: that is when the line appears.
"""

from __future__ import annotations

import weakref
from typing import Any

from PySide6.QtCore import QObject, Slot

from .loop_blocks import block_line
from .tracker import RunTracker

#: how long the status bar keeps the line
STATUS_MS = 15_000
#: the key of the agent's own box in an agent's drawing (`agent_model`)
AGENT_KEY = "@agent"


class BlockMarks(QObject):
    """Follows every run of `window` (the `MainWindow`; not imported: no cycle)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        # Invariant: `said[t]` is how many of `t.blocks` the status bar has already said.
        self.said: weakref.WeakKeyDictionary[RunTracker, int] = weakref.WeakKeyDictionary()
        self.shown: RunTracker | None = None  # the run whose blocks are on the graph
        window.session.controller.run_updated.connect(self._on_run_updated)
        window.controls.runs_list.tracker_selected.connect(self._on_tracker_selected)
        window.graph_view.laid_out.connect(self._on_graph_laid_out)

    def mark(self) -> None:
        """Badge the boxes of the nodes of the run shown that blocked the loop."""
        view = self.window.graph_view
        blocked = set()
        if self.shown is not None:
            where = view.drawing.where
            nodes = {(w.details or {}).get("node") for w in self.shown.blocks}
            blocked = {where[n] for n in nodes if n in where}
            if any((w.details or {}).get("agent") for w in self.shown.blocks):
                # a block in the agent's own body: its box (the first of its drawing)
                blocked |= {i for i, box in enumerate(view.drawing.nodes) if box.key == AGENT_KEY}
        if blocked != view.marks.blocked:
            view.marks.blocked = blocked
            view.viewport().update()

    @Slot(object)
    def _on_run_updated(self, tracker: RunTracker) -> None:
        said = self.said.get(tracker, 0)
        if len(tracker.blocks) > said:
            self.said[tracker] = len(tracker.blocks)
            line = block_line(tracker.blocks[-1])
            more = len(tracker.blocks) - said - 1
            if more:
                line += f" (and {more} more block(s): see the Log)"
            self.window.statusBar().showMessage(line, STATUS_MS)
            if tracker is self.shown:
                self.mark()

    @Slot(object)
    def _on_tracker_selected(self, tracker: RunTracker | None) -> None:
        self.shown = tracker
        if tracker is not None:
            self.said.setdefault(tracker, len(tracker.blocks))  # (a stored run: not news)
        self.mark()

    @Slot()
    def _on_graph_laid_out(self) -> None:
        self.mark()  # boxes have new indices
