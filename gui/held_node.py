"""The inspector's bar for a node held at a breakpoint: edit its inputs before it runs
(the re-run dialog's editor and checks), then Continue (resume the run) or Step (let this
one node start). Shown only while the node is held; `Run.set_inputs` records the edit, so
the inspector shows the inputs as edited afterwards."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from graphdeck import Node

from .edit_inputs import EditInputsDialog
from .labels import wrapping
from .theme import CANVAS_COLOURS


class HeldNodeBar(QWidget):
    """Signal `acted()`: the run was resumed or stepped, or the node's inputs edited."""

    acted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("held-bar")
        # Invariant: `node` is held at a breakpoint of `run` whenever the bar is shown.
        self.node: Node | None = None
        self.run: Any = None
        self.label = wrapping(QLabel(""))  # (never widens the window: see labels.py)
        self.label.setObjectName("held-label")
        self.edit_button = QPushButton("Edit inputs…")
        self.edit_button.setObjectName("held-edit")
        self.continue_button = QPushButton("Continue")
        self.continue_button.setObjectName("held-continue")
        self.continue_button.setToolTip("resume the run: held nodes first (F5)")
        self.step_button = QPushButton("Step")
        self.step_button.setObjectName("held-step")
        self.step_button.setToolTip("let exactly one node start, then pause again (F10)")
        self.dialog: EditInputsDialog | None = None  # the edit under way, if any
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        for button in (self.edit_button, self.continue_button, self.step_button):
            layout.addWidget(button)
        self._connect_signals()
        self.show_node(None, None)

    def _connect_signals(self) -> None:
        self.edit_button.clicked.connect(self._on_edit_button_clicked)
        self.continue_button.clicked.connect(self._on_continue_button_clicked)
        self.step_button.clicked.connect(self._on_step_button_clicked)

    def show_node(self, node: Node | None, run: Any) -> None:
        """Show the bar if `node` is held at a breakpoint of the live `run`, else hide it."""
        held = node is not None and run is not None and node.id in getattr(run, "held", ())
        self.node, self.run = (node, run) if held else (None, None)
        self.setVisible(held)
        if held:
            edited = " · inputs edited" if node.inputs_edited else ""  # type: ignore[union-attr]
            colour = CANVAS_COLOURS["held"]
            self.label.setText(f"<b style='color:{colour}'>held at a breakpoint</b>{edited}")

    @Slot()
    def _on_edit_button_clicked(self) -> None:
        if self.node is None:
            return
        self.dialog = EditInputsDialog(self.node, self)
        self.dialog.setWindowTitle(f"Inputs of {self.node.id} (held: it runs with these)")
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.inputs_accepted.connect(self._on_dialog_inputs_accepted)
        self.dialog.open()  # not exec(): a nested loop inside qasync breaks running tasks

    @Slot(str, dict)
    def _on_dialog_inputs_accepted(self, node_id: str, values: dict) -> None:
        self.dialog = None
        if self.run is None or self.node is None or self.node.id != node_id:
            return  # it was let go meanwhile: nothing to edit any more
        try:
            self.run.set_inputs(node_id, values)
        except (ValueError, TypeError, LookupError, RuntimeError) as exc:
            self.label.setText(f"<span style='color:#b91c1c'>not edited: {exc}</span>")
            return
        self.show_node(self.node, self.run)
        self.acted.emit()

    @Slot()
    def _on_continue_button_clicked(self) -> None:
        if self.run is not None:
            self.run.resume()
            self.acted.emit()

    @Slot()
    def _on_step_button_clicked(self) -> None:
        if self.run is not None:
            self.run.step()
            self.acted.emit()
