"""The controls panel: which file and graph, its inputs, how to run it, Run, and the runs."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from graphdeck.runner import DEFAULT_MAX_CONCURRENCY

from .block_threshold import BlockThresholdSpin
from .inputs_form import InputsForm
from .labels import wrapping
from .run_options import EXECUTOR_CHOICES, RunOptions, executor_spec
from .runs_list import RunsList, RunsListModel

NO_FILE = "No file open: File ▸ Open, or drop a .py file here."


class ControlsPanel(QWidget):
    """Shows the graph file's state and collects how to run; the window decides."""

    #: the graph chosen in the combo changed (also when the file's graphs were replaced)
    graph_changed = Signal()

    def __init__(self, runs: RunsListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.file_label = wrapping(QLabel(NO_FILE))
        self.error_label = wrapping(QLabel(""))
        self.error_label.setObjectName("load-error")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # What the file's code keeps us waiting for, and the way out of it.
        self.waiting_label = wrapping(QLabel(""))
        self.waiting_label.setObjectName("waiting")
        self.stop_button = QPushButton("Stop waiting")
        self.stop_button.setObjectName("stop-waiting")
        self.stop_button.setToolTip("stop the import or build of the graph file under way")
        for widget in (self.waiting_label, self.stop_button):
            widget.setVisible(False)
        self.graph_combo = QComboBox()
        self.graph_combo.setObjectName("graph-combo")
        self.inputs_form = InputsForm()
        self.cap_spin = QSpinBox()
        self.cap_spin.setRange(1, 4096)
        self.cap_spin.setValue(DEFAULT_MAX_CONCURRENCY)
        self.block_spin = BlockThresholdSpin()
        self.policy_combo = QComboBox()
        self.policy_combo.addItems(["stop", "continue"])
        self.executor_combo = QComboBox()
        self.executor_combo.setObjectName("executor-combo")
        self.executor_combo.setEditable(True)  # or type dask://HOST:PORT
        self.executor_combo.addItems(list(EXECUTOR_CHOICES))
        self.executor_combo.setToolTip(
            "where tool bodies run: in this process, on a local Dask cluster, or on the "
            "Dask scheduler at dask://HOST:PORT"
        )
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("run-button")
        self.run_button.setEnabled(False)
        self.runs_list = RunsList(runs)
        self._lay_out()
        self._connect_signals()

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("graph", self.graph_combo)
        form.addRow("max concurrency", self.cap_spin)
        form.addRow("on error", self.policy_combo)
        form.addRow("executor", self.executor_combo)
        form.addRow("block threshold", self.block_spin)
        waiting = QHBoxLayout()
        waiting.addWidget(self.waiting_label, 1)
        waiting.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.file_label)
        layout.addLayout(waiting)
        layout.addWidget(self.error_label)
        layout.addLayout(form)
        layout.addWidget(QLabel("Inputs"))
        layout.addWidget(self.inputs_form)
        layout.addWidget(self.run_button)
        layout.addWidget(QLabel("Runs"))
        layout.addWidget(self.runs_list, 1)

    def _connect_signals(self) -> None:
        self.graph_combo.currentIndexChanged.connect(self._on_graph_combo_current_index_changed)

    def selected_graph_name(self) -> str:
        return self.graph_combo.currentText()

    def select_graph(self, name: str) -> None:
        self.graph_combo.setCurrentText(name)

    def show_loading(self, path: str) -> None:
        """A load started: the previous file's error no longer holds."""
        self.file_label.setText(f"Loading {path} …")
        self.error_label.setText("")
        self.run_button.setEnabled(False)

    def show_waiting(self, text: str) -> None:
        """`importing slow.py: 12 s, now at slow.py:8` with a Stop button ("" hides both)."""
        self.waiting_label.setText(text)
        self.waiting_label.setVisible(bool(text))
        self.stop_button.setVisible(bool(text))

    def show_graphs(self, path: str, names: list[str], default: str | None = None) -> None:
        """The file loaded: list its graphs, keeping the chosen one if it is still there,
        else choosing `default` (a top-level graph); the time it was loaded tells a reload
        (Ctrl+R, a save) from the last one."""
        self.file_label.setText(f"{path}\nloaded at {time.strftime('%H:%M:%S')}")
        self.error_label.setText("")
        previous = self.graph_combo.currentText()
        self.graph_combo.blockSignals(True)
        self.graph_combo.clear()
        self.graph_combo.addItems(names)
        if previous in names:
            self.graph_combo.setCurrentText(previous)
        elif default in names:
            self.graph_combo.setCurrentText(default)
        self.graph_combo.blockSignals(False)
        self.graph_changed.emit()

    def show_load_failed(self, path: str, message: str) -> None:
        self.file_label.setText(path)
        self.error_label.setText(message)
        self.graph_combo.blockSignals(True)
        self.graph_combo.clear()
        self.graph_combo.blockSignals(False)
        self.inputs_form.set_inputs((), {})
        self.run_button.setEnabled(False)

    def show_error(self, message: str) -> None:
        """One line: why the graph cannot be loaded, built or started ("" clears it)."""
        self.error_label.setText(message)

    def set_graph_inputs(
        self, names: tuple[str, ...], texts: dict[str, str], max_concurrency: int | None
    ) -> None:
        self.inputs_form.set_inputs(names, texts)
        self.cap_spin.setValue(max_concurrency or DEFAULT_MAX_CONCURRENCY)

    def run_options(self) -> RunOptions:
        return RunOptions(
            max_concurrency=self.cap_spin.value(),
            on_error=self.policy_combo.currentText(),
            executor=executor_spec(self.executor_combo.currentText()),
            block_threshold=self.block_spin.seconds(),
        )

    @Slot(int)
    def _on_graph_combo_current_index_changed(self, _index: int) -> None:
        self.graph_changed.emit()
