"""Editing a node's inputs before re-running it: a dialog that keeps the text and says
what is wrong when the inputs are not valid, instead of closing and losing the edit."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from graphdeck import Node
from graphdeck.values import show_value

from .inputs_form import InputError, parse_value
from .labels import wrapping


def check_inputs(node: Node, text: str) -> dict[str, Any]:
    """The inputs `text` gives `node`; raises ValueError saying what is wrong (not a
    literal, not a dict, or arguments its tool does not take)."""
    try:
        values = parse_value(text)
    except InputError as exc:
        raise ValueError(f"not valid: {exc}") from None
    if not isinstance(values, dict):
        raise ValueError(f"inputs must be a dict of name: value, not {type(values).__name__}")
    try:
        node.tool.bind((), dict(values))
    except TypeError as exc:
        raise ValueError(f"{node.tool.name} does not take these inputs: {exc}") from None
    return values


class EditInputsDialog(QDialog):
    """Window-modal; `open()` it (never `exec()`: docs/design.md §6.2)."""

    #: (node id, the inputs): valid inputs to re-run the node with
    inputs_accepted = Signal(str, dict)

    def __init__(self, node: Node, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node = node
        self.setObjectName("edit-inputs")
        self.setWindowTitle(f"Inputs of {node.id}")
        self.editor = QPlainTextEdit(show_value(node.inputs, limit=1_000_000))
        self.editor.setObjectName("edit-inputs-text")
        self.problem = wrapping(QLabel(""))
        self.problem.setObjectName("edit-inputs-problem")
        self.problem.setStyleSheet("color: #b91c1c")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("The node's inputs (JSON or a Python literal dict):"))
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(520, 320)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

    @Slot()
    def _on_buttons_accepted(self) -> None:
        try:
            values = check_inputs(self.node, self.editor.toPlainText())
        except ValueError as exc:
            self.problem.setText(str(exc))  # the dialog stays open, the text as typed
            return
        self.accept()
        self.inputs_accepted.emit(self.node.id, values)
