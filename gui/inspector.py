"""The selected node in full: inputs, outputs, error with traceback, timings, attempts."""

from __future__ import annotations

import functools
import html
import time
import traceback

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from graphdeck import Node
from graphdeck.values import short_repr, show_value

from .inputs_form import InputError, parse_value
from .theme import NODE_COLOURS


def _clock(stamp: float | None) -> str:
    if stamp is None:
        return "–"
    return time.strftime("%H:%M:%S", time.localtime(stamp)) + f".{int(stamp % 1 * 1000):03d}"


class Inspector(QWidget):
    """Signals: `cancel_node_requested(node_id)`."""

    cancel_node_requested = Signal(str)
    #: (node id, edited inputs) — re-run this node with these inputs
    rerun_with_inputs_requested = Signal(str, dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node: Node | None = None
        self.text = QTextBrowser()
        self.text.setObjectName("inspector-text")
        self.cancel_button = QPushButton("Cancel node")
        self.cancel_button.setEnabled(False)
        self.edit_button = QPushButton("Edit inputs and re-run…")
        self.edit_button.setEnabled(False)
        self.rerun_allowed = False
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.edit_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.text, 1)
        self._connect_signals()
        self.show_node(None)

    def _connect_signals(self) -> None:
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.edit_button.clicked.connect(self._on_edit_button_clicked)

    def show_node(self, node: Node | None) -> None:
        self.node = node
        self.refresh()

    def refresh(self) -> None:
        node = self.node
        if node is None:
            self.text.setHtml("<p style='color:#64748b'>Select a node to inspect it.</p>")
            self.cancel_button.setEnabled(False)
            self.edit_button.setEnabled(False)
            return
        self.cancel_button.setEnabled(not node.state.is_terminal)
        self.edit_button.setEnabled(self.rerun_allowed)
        colour = NODE_COLOURS[node.state]
        duration = (
            f"{(node.finished_at - node.started_at) * 1000:.1f} ms"
            if node.started_at and node.finished_at
            else "–"
        )
        parts = [
            f"<h3>{html.escape(node.id)}</h3>",
            f"<p>tool <b>{html.escape(node.tool.name)}</b> · state "
            f"<b style='color:{colour}'>{node.state.value}</b> · attempt {node.attempt}</p>",
            f"<p>started {_clock(node.started_at)} · finished {_clock(node.finished_at)}"
            f" · {duration}</p>",
            f"<p>ran on {html.escape(node.where or 'this process')}</p>",
            "<h4>Inputs</h4>",
            f"<pre>{html.escape(show_value(node.inputs))}</pre>",
            "<h4>Outputs</h4>",
            f"<pre>{html.escape(show_value(node.outputs))}</pre>",
        ]
        if node.error is not None:
            trace = getattr(node.error, "stored_traceback", None) or "".join(
                traceback.format_exception(node.error)
            )
            parts += ["<h4>Error</h4>", f"<pre style='color:#b91c1c'>{html.escape(trace)}</pre>"]
        attempts = node.attempts
        if attempts:
            rows = "".join(
                f"<tr><td>{a.number}</td><td>{a.state.value}</td><td>{_clock(a.started_at)}</td>"
                f"<td>{_clock(a.finished_at)}</td>"
                f"<td>{html.escape(short_repr(a.error, 2000)) if a.error else ''}</td></tr>"
                for a in attempts
            )
            parts += [
                "<h4>Attempts</h4>",
                "<table cellpadding=3><tr><th>#</th><th>outcome</th><th>start</th>"
                f"<th>end</th><th>error</th></tr>{rows}</table>",
            ]
        self.text.setHtml("".join(parts))

    @Slot()
    def _on_edit_button_clicked(self) -> None:
        node = self.node
        if node is None:
            return
        dialog = QInputDialog(self)
        dialog.setObjectName("edit-inputs")
        dialog.setWindowTitle(f"Inputs of {node.id}")
        dialog.setLabelText("The node's inputs (JSON or a Python literal dict):")
        dialog.setOption(QInputDialog.InputDialogOption.UsePlainTextEditForTextInput)
        dialog.setTextValue(show_value(node.inputs, limit=1_000_000))
        dialog.textValueSelected.connect(functools.partial(self._on_inputs_edited, node.id))
        dialog.open()  # not exec(): a nested loop inside qasync breaks running tasks

    def _on_inputs_edited(self, node_id: str, text: str) -> None:
        try:
            values = parse_value(text)
        except InputError as exc:
            self.text.append(f"<p style='color:#b91c1c'>inputs not changed: {exc}</p>")
            return
        if not isinstance(values, dict):
            self.text.append("<p style='color:#b91c1c'>inputs must be a dict of name: value</p>")
            return
        self.rerun_with_inputs_requested.emit(node_id, values)

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        if self.node is not None:
            self.cancel_node_requested.emit(self.node.id)
