"""The selected node in full (see `node_text`): inputs and where they come from, outputs,
error with traceback, timings, attempts, why it was cancelled; live while it runs."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from graphdeck import Node, NodeState

from .edit_inputs import EditInputsDialog
from .held_node import HeldNodeBar
from .live_stack import StackSampler
from .node_text import GREY, node_html
from .tracker import RunTracker

#: a node that runs (or waits) is redrawn this often: its clock and place move
LIVE_MS = 250
LIVE_STATES = (NodeState.PENDING, NodeState.READY, NodeState.RUNNING, NodeState.RETRYING)


class Inspector(QWidget):
    """Signals: `cancel_node_requested(node_id)`, `rerun_with_inputs_requested`."""

    cancel_node_requested = Signal(str)
    #: (node id, edited inputs) — re-run this node with these inputs
    rerun_with_inputs_requested = Signal(str, dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node: Node | None = None
        #: the run the node belongs to (None: a node of the preview, not of a run)
        self.tracker: RunTracker | None = None
        self.text = QTextBrowser()
        self.text.setObjectName("inspector-text")
        self.cancel_button = QPushButton("Cancel node")
        self.cancel_button.setEnabled(False)
        self.edit_button = QPushButton("Edit inputs and re-run…")
        self.edit_button.setEnabled(False)
        self.rerun_allowed = False
        self.stacks = StackSampler()  # where a running node is, sampled now and then
        self.held_bar = HeldNodeBar()  # a node held at a breakpoint: edit, continue, step
        self._live = QTimer(self)
        self._live.setInterval(LIVE_MS)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.edit_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.held_bar)
        layout.addWidget(self.text, 1)
        self._connect_signals()
        self.show_node(None)

    def _connect_signals(self) -> None:
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.edit_button.clicked.connect(self._on_edit_button_clicked)
        self._live.timeout.connect(self._on_live_timeout)

    def show_node(self, node: Node | None) -> None:
        self.node = node
        self.refresh()

    def show_tracker(self, tracker: RunTracker | None) -> None:
        """Nodes shown from now on belong to this run (None: to no run); none shown yet."""
        self.tracker = tracker
        self.show_node(None)

    def refresh(self) -> None:
        node = self.node
        if node is None:
            self._live.stop()
            self.text.setHtml(f"<p style='color:{GREY}'>Select a node to inspect it.</p>")
            self.cancel_button.setEnabled(False)
            self.edit_button.setEnabled(False)
            self.held_bar.show_node(None, None)
            return
        in_run = self.tracker is not None and self.tracker.run.nodes.get(node.id) is node
        self.cancel_button.setEnabled(in_run and not node.state.is_terminal)
        self.edit_button.setEnabled(self.rerun_allowed and in_run)
        run = self.tracker.run if in_run and self.tracker is not None else None
        self.held_bar.show_node(node, run)
        scrolled = self.text.verticalScrollBar().value()
        self.text.setHtml(node_html(node, run, self.tracker if in_run else None, self.stacks))
        self.text.verticalScrollBar().setValue(scrolled)  # a live redraw keeps the place
        if in_run and node.state in LIVE_STATES:
            self._live.start()
        else:
            self._live.stop()

    @Slot()
    def _on_live_timeout(self) -> None:
        if self.isVisible():
            self.refresh()

    @Slot()
    def _on_edit_button_clicked(self) -> None:
        if self.node is None:
            return
        dialog = EditInputsDialog(self.node, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.inputs_accepted.connect(self.rerun_with_inputs_requested)
        dialog.open()  # not exec(): a nested loop inside qasync breaks running tasks

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        if self.node is not None:
            self.cancel_node_requested.emit(self.node.id)
