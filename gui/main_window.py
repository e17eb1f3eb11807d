"""The main window: open a graph file, fill in inputs, run, watch, inspect, cancel.

Views own no state they could read from a run: the graph view, inspector, occupancy,
results and log all read the `Run` and its `RunTracker`; everything the window does goes
through public Run methods (`start`, `cancel`, `cancel_node`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from graphdeck import GraphBuildError, Run, start
from graphdeck._context import loop_running
from graphdeck.executors import DaskExecutor
from graphdeck.loader import GraphDef, line_in_file
from graphdeck.runner import DEFAULT_MAX_CONCURRENCY
from graphdeck.store import (
    WRITE_INTERVAL_S,
    Recorder,
    RunStore,
    StoredRunView,
    StoreError,
    load_with_children,
    restorable_outputs,
    restore,
    restored_inputs,
)

from .document import GraphDocument
from .graph_view import GraphView, Legend
from .history import HistoryPanel
from .inputs_form import InputError, InputsForm, show_default
from .inspector import Inspector
from .occupancy import OccupancyPanel
from .results import ResultsPanel
from .theme import icon_path, run_colour
from .timeline import TimelinePanel
from .tracker import RunController, RunTracker

MAX_RECENT = 8
DETAILS_REFRESH_S = 0.1  # the detail panels refresh at most 10 times a second
LOCAL_CHOICE = "local"
CLUSTER_CHOICE = "local cluster (Dask)"


class MainWindow(QMainWindow):
    """Signals: `closed()` once the window has really closed (runs wound down).

    `store`: the run history to record runs in and to browse (None: no history);
    `store_problem`: why the history is unavailable, shown in the history pane.
    """

    closed = Signal()

    def __init__(
        self,
        settings: QSettings,
        parent: QWidget | None = None,
        *,
        store: RunStore | None = None,
        store_problem: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = store
        self.recorder: Recorder | None = None
        if store is not None:
            try:
                self.recorder = store.recorder()
            except StoreError as exc:
                self.store, store_problem = None, str(exc)
        self.document = GraphDocument(self)
        self.controller = RunController(self)
        self.current: RunTracker | None = None
        self._rerun_allowed: bool | None = None  # as last set by `_set_rerun_allowed`
        self._shown_messages = 0
        self._closing = False
        self._shutdown_task: asyncio.Task[None] | None = None
        self.executors: dict[str, DaskExecutor] = {}
        self._details_refreshed = 0.0
        self.setWindowTitle("graphdeck")
        self.setWindowIcon(QIcon(icon_path()))
        self.setAcceptDrops(True)
        self._build_widgets()
        self._build_actions()
        self._connect_signals()
        self._restore_layout()
        self.history.set_store(self.store, store_problem)
        if self.recorder is not None:
            self._recorder_watch.start()

    # -- construction -------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.graph_view = GraphView()
        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.addWidget(Legend())
        center_layout.addWidget(self.graph_view, 1)
        self.setCentralWidget(center)

        self.error_label = QLabel("")
        self.error_label.setObjectName("load-error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.file_label = QLabel("No file open: File ▸ Open, or drop a .py file here.")
        self.file_label.setWordWrap(True)
        self.graph_combo = QComboBox()
        self.graph_combo.setObjectName("graph-combo")
        self.inputs_form = InputsForm()
        self.cap_spin = QSpinBox()
        self.cap_spin.setRange(1, 4096)
        self.cap_spin.setValue(DEFAULT_MAX_CONCURRENCY)
        self.policy_combo = QComboBox()
        self.policy_combo.addItems(["stop", "continue"])
        self.executor_combo = QComboBox()
        self.executor_combo.setObjectName("executor-combo")
        self.executor_combo.setEditable(True)  # or type dask://HOST:PORT
        self.executor_combo.addItems([LOCAL_CHOICE, CLUSTER_CHOICE])
        self.executor_combo.setToolTip(
            "where tool bodies run: in this process, on a local Dask cluster, or on the "
            "Dask scheduler at dask://HOST:PORT"
        )
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("run-button")
        self.run_button.setEnabled(False)
        self.runs_list = QListWidget()
        self.runs_list.setObjectName("runs-list")
        controls = QWidget()
        form = QFormLayout()
        form.addRow("graph", self.graph_combo)
        form.addRow("max concurrency", self.cap_spin)
        form.addRow("on error", self.policy_combo)
        form.addRow("executor", self.executor_combo)
        controls_layout = QVBoxLayout(controls)
        controls_layout.addWidget(self.file_label)
        controls_layout.addWidget(self.error_label)
        controls_layout.addLayout(form)
        controls_layout.addWidget(QLabel("Inputs"))
        controls_layout.addWidget(self.inputs_form)
        controls_layout.addWidget(self.run_button)
        controls_layout.addWidget(QLabel("Runs"))
        controls_layout.addWidget(self.runs_list, 1)
        self._add_dock(
            "Graph and runs", "dock-controls", controls, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.history = HistoryPanel()
        self._add_dock(
            "History", "dock-history", self.history, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.tabifyDockWidget(
            self.findChild(QDockWidget, "dock-controls"),
            self.findChild(QDockWidget, "dock-history"),
        )
        self.findChild(QDockWidget, "dock-controls").raise_()
        self._history_refresh = QTimer(self)
        self._history_refresh.setSingleShot(True)
        self._history_refresh.setInterval(int(WRITE_INTERVAL_S * 2500))  # after the writer's turn
        self._recorder_watch = QTimer(self)  # Recorder.problem is set on its own thread: polled
        self._recorder_watch.setInterval(int(WRITE_INTERVAL_S * 2500))
        self._recorder_problem: str | None = None  # as last shown

        self.inspector = Inspector()
        self.results = ResultsPanel()
        self.occupancy = OccupancyPanel()
        self.timeline = TimelinePanel()
        self.log = QPlainTextEdit()
        self.log.setObjectName("channel-log")
        self.log.setReadOnly(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.inspector, "Inspector")
        self.tabs.addTab(self.results, "Results")
        self.tabs.addTab(self.occupancy, "Occupancy")
        self.tabs.addTab(self.timeline, "Timeline")
        self.tabs.addTab(self.log, "Log")
        self.tabs.setCurrentWidget(self.inspector)
        self._add_dock("Details", "dock-details", self.tabs, Qt.DockWidgetArea.RightDockWidgetArea)

        self.progress_label = QLabel("")
        self.progress_label.setObjectName("progress")
        self.statusBar().addPermanentWidget(self.progress_label)

    def _add_dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)

    def _build_actions(self) -> None:
        self.open_action = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open)
        self.reload_action = QAction("&Reload", self, shortcut=QKeySequence("Ctrl+R"))
        self.run_action = QAction("&Run", self, shortcut=QKeySequence("Ctrl+Return"))
        self.cancel_action = QAction("&Cancel run", self, shortcut=QKeySequence("Ctrl+."))
        self.cancel_action.setEnabled(False)
        self.rerun_failed_action = QAction(
            "Re-run &failed", self, shortcut=QKeySequence("Ctrl+Shift+R")
        )
        self.run_again_action = QAction("Run &again", self)
        for action in (self.rerun_failed_action, self.run_again_action):
            action.setEnabled(False)
        self.quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addAction(self.reload_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = self.menuBar().addMenu("&Run")
        run_menu.addAction(self.run_action)
        run_menu.addAction(self.cancel_action)
        run_menu.addAction(self.rerun_failed_action)
        run_menu.addAction(self.run_again_action)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("toolbar-main")
        for action in (
            self.open_action,
            self.reload_action,
            self.run_action,
            self.cancel_action,
            self.rerun_failed_action,
            self.run_again_action,
        ):
            toolbar.addAction(action)
        self._rebuild_recent_menu()

    def _connect_signals(self) -> None:
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.reload_action.triggered.connect(self.document.reload)
        self.run_action.triggered.connect(self.start_run)
        self.run_button.clicked.connect(self.start_run)
        self.cancel_action.triggered.connect(self.cancel_current_run)
        self.quit_action.triggered.connect(self.close)
        self.document.loading.connect(self._on_document_loading)
        self.document.loaded.connect(self._on_document_loaded)
        self.document.failed.connect(self._on_document_failed)
        self.graph_combo.currentIndexChanged.connect(self._on_graph_combo_changed)
        self.inputs_form.validity_changed.connect(self._on_inputs_validity_changed)
        self.controller.runs_changed.connect(self._on_controller_runs_changed)
        self.controller.run_updated.connect(self._on_controller_run_updated)
        self.controller.ticked.connect(self._on_controller_ticked)
        self.tabs.currentChanged.connect(lambda _index: self._refresh_details())
        self.runs_list.currentRowChanged.connect(self._on_runs_list_row_changed)
        self.graph_view.node_selected.connect(self._on_graph_view_node_selected)
        self.timeline.node_selected.connect(self._on_timeline_node_selected)
        self.graph_view.cancel_node_requested.connect(self.cancel_node)
        self.inspector.cancel_node_requested.connect(self.cancel_node)
        self.graph_view.rerun_requested.connect(self.ask_rerun)
        self.inspector.rerun_with_inputs_requested.connect(
            # Edited inputs change the node's outputs: what depends on them re-runs too.
            lambda node_id, values: self.ask_rerun(node_id, "downstream", {node_id: values})
        )
        self.rerun_failed_action.triggered.connect(self._on_rerun_failed_action_triggered)
        self.run_again_action.triggered.connect(self._on_run_again_action_triggered)
        self.history.open_requested.connect(self.open_stored_run)
        self._history_refresh.timeout.connect(self.history.refresh)
        self._recorder_watch.timeout.connect(self._show_recorder_problem)

    # -- files --------------------------------------------------------------------------

    def open_file(
        self, path: str | Path, graph: str | None = None, run: bool = False
    ) -> asyncio.Task[None]:
        """Load `path`; then select `graph` and, if `run`, start it."""
        path = Path(path).resolve()
        self._remember_recent(path)
        task = self.document.open(path)
        if graph or run:
            task.add_done_callback(lambda _: self._select_and_run(graph, run))
        return task

    def _select_and_run(self, graph: str | None, run: bool) -> None:
        if graph:
            if graph not in self.document.graphs:
                self.error_label.setText(f"{self.document.path}: no graph named {graph!r}")
                return
            self.graph_combo.setCurrentText(graph)
        if run and self.run_button.isEnabled():
            self.start_run()

    def _on_open_action_triggered(self) -> None:
        # open(), not exec(): a nested modal loop inside qasync breaks running tasks.
        dialog = QFileDialog(self, "Open graph file", str(self._last_dir()), "Graph files (*.py)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.open_file)
        dialog.open()

    def _last_dir(self) -> Path:
        recent = self._recent()
        return Path(recent[0]).parent if recent else Path.cwd()

    def _recent(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember_recent(self, path: Path) -> None:
        recent = [str(path), *(p for p in self._recent() if p != str(path))][:MAX_RECENT]
        self.settings.setValue("recent", recent)
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_file(p))
        self.recent_menu.setEnabled(bool(self._recent()))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.toLocalFile().endswith(".py") for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.toLocalFile().endswith(".py"):
                self.open_file(url.toLocalFile())
                event.acceptProposedAction()
                return

    def _on_document_loading(self, path: str) -> None:
        self.file_label.setText(f"Loading {path} …")
        self.run_button.setEnabled(False)

    def _on_document_loaded(self) -> None:
        self.file_label.setText(str(self.document.path))
        self.error_label.setText("")
        previous = self.graph_combo.currentText()
        self.graph_combo.blockSignals(True)
        self.graph_combo.clear()
        self.graph_combo.addItems(list(self.document.graphs))
        if previous in self.document.graphs:
            self.graph_combo.setCurrentText(previous)
        self.graph_combo.blockSignals(False)
        self._on_graph_combo_changed()

    def _on_document_failed(self, message: str) -> None:
        self.file_label.setText(str(self.document.path))
        self.error_label.setText(message)
        self.graph_combo.clear()
        self.inputs_form.set_inputs((), {})
        self.run_button.setEnabled(False)
        self.statusBar().showMessage("could not load the graph file", 5000)

    # -- graph selection and inputs -------------------------------------------------------

    def selected_graph(self) -> GraphDef | None:
        return self.document.graphs.get(self.graph_combo.currentText())

    def _inputs_key(self, graph: GraphDef) -> str:
        return f"inputs/{self.document.path}/{graph.name}"

    def _on_graph_combo_changed(self) -> None:
        graph = self.selected_graph()
        if graph is None:
            self.inputs_form.set_inputs((), {})
            self.run_button.setEnabled(False)
            return
        remembered = self.settings.value(self._inputs_key(graph), "")
        texts = {name: show_default(value) for name, value in graph.defaults.items()}
        if remembered:
            with contextlib.suppress(TypeError, ValueError):  # stale or hand-edited settings
                texts.update(json.loads(remembered))
        self.inputs_form.set_inputs(graph.inputs, texts)
        self.cap_spin.setValue(graph.max_concurrency or DEFAULT_MAX_CONCURRENCY)
        self._preview(graph)

    def _preview(self, graph: GraphDef) -> None:
        """Show a static graph before it runs (and its build errors, e.g. a cycle)."""
        if graph.kind != "graphify" or not self.inputs_form.valid:
            if self.current is None:
                self.graph_view.show_nodes({})
            return
        try:
            built = graph.build(**self.inputs_form.values())  # type: ignore[union-attr]
        except (GraphBuildError, InputError, TypeError) as exc:
            self.error_label.setText(self._where(exc))
            return
        self.error_label.setText("")
        if self.current is None:
            self.graph_view.show_nodes(built._nodes)

    def _where(self, exc: BaseException) -> str:
        line = line_in_file(exc, self.document.path) if self.document.path else None
        where = f"{self.document.path}:{line}" if line else str(self.document.path)
        return f"{where}: {type(exc).__name__}: {exc}"

    def _on_inputs_validity_changed(self, valid: bool) -> None:
        self.run_button.setEnabled(valid and self.selected_graph() is not None)
        self.run_action.setEnabled(self.run_button.isEnabled())

    # -- runs ---------------------------------------------------------------------------

    def start_run(self) -> Run | None:
        graph = self.selected_graph()
        if graph is None:
            return None
        try:
            inputs = self.inputs_form.values()
            handle = start(
                graph,
                inputs,
                max_concurrency=self.cap_spin.value(),
                on_error=self.policy_combo.currentText(),
                executor=self._chosen_executor(),
            )
        except (GraphBuildError, InputError, TypeError, ValueError) as exc:
            self.error_label.setText(self._where(exc))
            return None
        self.error_label.setText("")
        self.settings.setValue(self._inputs_key(graph), json.dumps(self.inputs_form.texts()))
        tracker = self._track_new(handle)
        tracker.target = graph
        tracker.options = {
            "max_concurrency": handle.max_concurrency,
            "on_error": handle.on_error,
            "executor": self._chosen_executor(),
        }
        self.runs_list.setCurrentRow(self.controller.trackers.index(tracker))
        return handle

    def _on_controller_ticked(self) -> None:
        if self.current is not None and not self.current.run.done:
            self._show_progress(self.current)

    def _chosen_executor(self) -> DaskExecutor | None:
        """The executor picked in the controls. Dask executors live as long as the window
        (a cluster starts once, not per run) and are closed when it closes."""
        choice = self.executor_combo.currentText().strip()
        if choice == LOCAL_CHOICE:
            return None
        if choice == CLUSTER_CHOICE:
            address = None
        elif choice.startswith(("dask://", "tcp://", "tls://")):
            address = (
                "tcp://" + choice.removeprefix("dask://")
                if choice.startswith("dask://")
                else choice
            )
        else:
            raise ValueError("executor: choose local, a local cluster, or dask://HOST:PORT")
        if choice not in self.executors:
            self.executors[choice] = DaskExecutor(address)
        return self.executors[choice]

    # -- re-runs ------------------------------------------------------------------------

    def ask_rerun(
        self, node_id: str | None, mode: str, inputs: dict[str, dict] | None = None
    ) -> QMessageBox | None:
        """Highlight and count the nodes a re-run would execute, then ask."""
        tracker = self.current
        if tracker is None:
            return None
        try:
            plan = tracker.run.rerun_plan(node_id, mode=mode)
        except (RuntimeError, ValueError, KeyError) as exc:
            self.statusBar().showMessage(str(exc), 5000)
            return None
        self.graph_view.highlight(set(plan))
        what = {
            "node": "this node",
            "downstream": "this node and everything downstream",
            "failed": "the failed, cancelled and skipped nodes and their dependents",
        }[mode]
        return self._confirm_rerun(
            "Re-run",
            f"Re-run {len(plan)} node(s): {what}? Upstream outputs are reused.",
            lambda yes: self._on_rerun_answered(tracker, node_id, mode, inputs, yes),
        )

    def _confirm_rerun(
        self, title: str, text: str, on_answer: Callable[[bool], None]
    ) -> QMessageBox:
        """Ask before a re-run (window-modal, never a nested event loop)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("confirm-rerun")
        box.finished.connect(lambda answer: on_answer(answer == QMessageBox.StandardButton.Yes))
        box.open()
        return box

    def _on_rerun_answered(
        self,
        tracker: RunTracker,
        node_id: str | None,
        mode: str,
        inputs: dict[str, dict] | None,
        confirmed: bool,
    ) -> None:
        self.graph_view.highlight(set())
        if not confirmed:
            return
        same_file = tracker.target in self.document.graphs.values() or (
            tracker.target is not None
            and getattr(tracker.target, "fn", None) is not None
            and self.document.path is not None
            and tracker.target.fn.__code__.co_filename == str(self.document.path)
        )
        tools = self.document.tools if same_file else None  # the reloaded code, if any
        try:
            tracker.run.rerun(node_id, mode=mode, tools=tools, inputs=inputs)
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            self.error_label.setText(f"re-run refused: {exc}")
            return
        self.controller.follow(tracker)
        self._set_rerun_allowed(False)

    def run_again(self) -> Run | None:
        """A new run of the same graph with the same inputs (the file's current code)."""
        tracker = self.current
        if tracker is None or tracker.target is None:
            return None
        graph = self.document.graphs.get(getattr(tracker.target, "name", ""), tracker.target)
        handle = start(graph, dict(tracker.run.inputs), **tracker.options)
        again = self._track_new(handle)
        again.target, again.options = graph, dict(tracker.options)
        self.runs_list.setCurrentRow(self.controller.trackers.index(again))
        return handle

    def _track_new(self, handle: Run) -> RunTracker:
        """Follow a run this window started, and record it in the history."""
        if self.recorder is not None:
            self.recorder.record(handle, file=self.document.path)
        return self.controller.track(handle)

    def _set_rerun_allowed(self, allowed: bool) -> None:
        self._rerun_allowed = allowed
        stored = self._current_stored()
        node_reruns = allowed and stored is None  # a stored run is read-only
        self.graph_view.rerun_allowed = node_reruns
        self.inspector.rerun_allowed = node_reruns
        self.rerun_failed_action.setEnabled(allowed)
        self.run_again_action.setEnabled(allowed and self.current is not None)
        self.inspector.refresh()

    def _current_stored(self) -> StoredRunView | None:
        run = self.current.run if self.current is not None else None
        return run if isinstance(run, StoredRunView) else None

    def _on_rerun_failed_action_triggered(self) -> None:
        if self._current_stored() is not None:
            self.rerun_stored(failed_only=True)
        else:
            self.ask_rerun(None, "failed")

    def _on_run_again_action_triggered(self) -> None:
        if self._current_stored() is not None:
            self.rerun_stored(failed_only=False)
        else:
            self.run_again()

    # -- history ------------------------------------------------------------------------

    def _show_recorder_problem(self) -> None:
        """What the history writer could not record: in the history pane and the status bar
        while it lasts (a run must not lose its history silently)."""
        problem = self.recorder.problem if self.recorder is not None else None
        if problem == self._recorder_problem:
            return
        shown, self._recorder_problem = self._recorder_problem, problem
        self.history.set_recorder_problem(problem)
        if problem:
            self.statusBar().showMessage(problem)
        elif self.statusBar().currentMessage() == shown:
            self.statusBar().clearMessage()

    def open_stored_run(self, run_id: str) -> asyncio.Task[RunTracker | None]:
        """Load a past run from the history (in a thread) and show it read-only."""
        return asyncio.get_event_loop().create_task(self._open_stored(run_id))

    async def _open_stored(self, run_id: str) -> RunTracker | None:
        if self.store is None:
            return None
        known = next((t for t in self.controller.trackers if t.run.id == run_id), None)
        if known is None:
            self.statusBar().showMessage(f"loading run {run_id} …")
            try:  # reading and rebuilding a big run takes a while: not on the GUI thread
                views = await asyncio.to_thread(_load_views, self.store, run_id)
            except (StoreError, LookupError) as exc:
                self.statusBar().showMessage(f"cannot open run {run_id}: {exc}", 8000)
                return None
            self.statusBar().clearMessage()
            known = self.controller.track(views[0])
            depths = {views[0].id: 0}
            for child in views[1:]:  # nested agents, listed under their parent as when live
                depths[child.id] = depths.get(child.stored.summary.parent_id or "", 0) + 1
                self.controller.track(child, depths[child.id])
        self.runs_list.setCurrentRow(self.controller.trackers.index(known))
        return known

    def rerun_stored(self, failed_only: bool) -> asyncio.Task[QMessageBox | None]:
        """From a stored run: "Run again" (a new run, same inputs) or "Re-run failed" (a
        new run reusing the stored outputs that can be restored). Asks first."""
        return asyncio.get_event_loop().create_task(self._rerun_stored(failed_only))

    async def _rerun_stored(self, failed_only: bool) -> QMessageBox | None:
        view = self._current_stored()
        if view is None:
            return None
        stored = view.stored
        file = stored.summary.file
        if file is None or not await asyncio.to_thread(Path(file).is_file):
            self.error_label.setText(f"run {view.id}: its graph file {file} is not there any more")
            return None
        if self.document.path != Path(file):
            await self.open_file(file)
        definition = self.document.graphs.get(view.name)
        if definition is None:
            self.error_label.setText(f"{file}: no graph named {view.name!r} any more")
            return None
        inputs, lost = restored_inputs(stored.inputs, definition.defaults)
        if lost:
            self.error_label.setText(
                f"run {view.id} cannot run again: its input(s) {', '.join(lost)} were not "
                "plain data (JSON), so only their repr was stored"
            )
            return None
        target: object = definition  # started with `inputs`; a prebuilt graph takes none
        run_inputs: dict | None = inputs
        if failed_only and definition.kind == "graphify":
            try:
                built = definition.build(**inputs)  # type: ignore[union-attr]
            except (GraphBuildError, TypeError) as exc:
                self.error_label.setText(self._where(exc))
                return None
            restored = restorable_outputs(stored, built)
            target, run_inputs = restore(built, restored), None
            self.graph_view.highlight(set(built._nodes) - set(restored))
            plan = f"{len(built._nodes) - len(restored)} node(s) run; {len(restored)} keep "
            plan += "their stored outputs"
        elif failed_only:
            plan = "an agent (graph_fn) has no static graph: the whole agent runs again"
        else:
            plan = "every node runs"
        options = {"max_concurrency": stored.max_concurrency, "on_error": view.on_error}
        return self._confirm_rerun(
            "Run from history",
            f"Start a new run of {view.name} with the inputs of run {view.id}? {plan}.",
            lambda yes: self._start_from_history(target, run_inputs, options, yes),
        )

    def _start_from_history(
        self, target: object, inputs: dict | None, options: dict, confirmed: bool
    ) -> None:
        self.graph_view.highlight(set())
        if not confirmed:
            return
        try:
            handle = start(target, inputs, **options)  # type: ignore[arg-type]
        except (GraphBuildError, TypeError, ValueError) as exc:
            self.error_label.setText(self._where(exc))
            return
        tracker = self._track_new(handle)
        tracker.target, tracker.options = self.document.graphs.get(handle.name), options
        self.runs_list.setCurrentRow(self.controller.trackers.index(tracker))

    def cancel_current_run(self) -> None:
        if self.current is not None:
            self.current.run.cancel()
            self.statusBar().showMessage(f"cancelling {self.current.run.name} …", 3000)

    def cancel_node(self, node_id: str) -> None:
        if self.current is not None and self._current_stored() is None:
            self.current.run.cancel_node(node_id)

    def _on_controller_runs_changed(self) -> None:
        trackers = self.controller.trackers
        while self.runs_list.count() < len(trackers):
            self.runs_list.addItem(QListWidgetItem())
        for row, tracker in enumerate(trackers):
            run = tracker.run
            item = self.runs_list.item(row)
            indent = "    " * tracker.depth + ("↳ " if tracker.depth else "")
            where = "  (history)" if isinstance(run, StoredRunView) else ""
            item.setText(f"{indent}{run.name}  {run.id[:6]}  —  {run.state.value}{where}")
            item.setForeground(QColor(run_colour(run.state)))
        self.cancel_action.setEnabled(self.current is not None and not self.current.run.done)
        if self.store is not None and not self._closing and self.isVisible():
            self._history_refresh.start()  # a run started or ended: list it once written

    def _on_runs_list_row_changed(self, row: int) -> None:
        trackers = self.controller.trackers
        self.current = trackers[row] if 0 <= row < len(trackers) else None
        self._shown_messages = 0
        self.log.clear()
        self.cancel_action.setEnabled(self.current is not None and not self.current.run.done)
        self._set_rerun_allowed(self.current is not None and self.current.run.done)
        if self.current is None:
            return
        self.graph_view.show_nodes(self.current.run.graph._nodes)
        self.results.show_run(self.current.run)
        self.inspector.show_node(None)
        self._show_progress(self.current)

    def _on_controller_run_updated(self, tracker: RunTracker) -> None:
        if tracker is not self.current:
            return
        self.graph_view.refresh(tracker.take_changed())
        if tracker.run.done is not self._rerun_allowed:  # (it refreshes the inspector)
            self._set_rerun_allowed(tracker.run.done)
        if tracker.finished:  # the last word: bring every panel up to date once
            self.occupancy.show_tracker(tracker)
            if self.tabs.currentWidget() is self.timeline:
                self.timeline.show_tracker(tracker)
            self.inspector.refresh()
            self.results.refresh()
        elif time.monotonic() - self._details_refreshed >= DETAILS_REFRESH_S:
            # Plots are costly to paint (~20 ms a frame): 10 Hz is plenty for them.
            self._details_refreshed = time.monotonic()
            self._refresh_details(tracker)
        self._show_progress(tracker)
        for stamp, source, text in tracker.messages[self._shown_messages :]:
            clock = time.strftime("%H:%M:%S", time.localtime(stamp))
            self.log.appendPlainText(f"{clock}.{int(stamp % 1 * 1000):03d}  [{source}]  {text}")
        self._shown_messages = len(tracker.messages)
        self.cancel_action.setEnabled(not tracker.run.done)

    def _refresh_details(self, tracker: RunTracker | None = None) -> None:
        """Refresh only the detail tab on screen; the others catch up when shown."""
        tracker = tracker or self.current
        shown = self.tabs.currentWidget()
        if shown is self.occupancy:
            self.occupancy.show_tracker(tracker)
        elif shown is self.timeline:
            self.timeline.show_tracker(tracker)
        elif shown is self.inspector:
            self.inspector.refresh()
        elif shown is self.results:
            self.results.refresh()

    def _show_progress(self, tracker: RunTracker) -> None:
        counts = "  ".join(f"{state.value} {n}" for state, n in tracker.counts.items() if n)
        self.progress_label.setText(
            f"{tracker.run.name}: {tracker.run.state.value}  |  {counts}  |  "
            f"{tracker.elapsed():.1f} s"
        )

    def _on_timeline_node_selected(self, node_id: str) -> None:
        self.graph_view.select_node(node_id)  # its node, or the group holding it
        if self.current is not None and node_id in self.current.run.nodes:
            self.inspector.show_node(self.current.run.nodes[node_id])
        self.tabs.setCurrentWidget(self.timeline)

    def _on_graph_view_node_selected(self, node_id: str) -> None:
        if self.current is not None and node_id in self.current.run.nodes:
            self.inspector.show_node(self.current.run.nodes[node_id])
        else:
            self.inspector.show_node(self.graph_view.nodes.get(node_id))
        self.tabs.setCurrentWidget(self.inspector)

    # -- closing ------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        live = self.controller.live()
        # Without a running loop (closed after the app's loop ended) nothing can be waited
        # for: close at once below (`Recorder.close` marks what was unfinished).
        winding_down_possible = loop_running()
        if live and not self._closing and winding_down_possible:
            event.ignore()
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Runs in progress",
                f"{len(live)} run(s) are still going. Cancel them and quit?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            box.setObjectName("confirm-quit")
            box.finished.connect(
                lambda answer: answer == QMessageBox.StandardButton.Yes and self.shutdown()
            )
            box.open()
            return
        unsaved = self.recorder is not None and not self.recorder.closed
        if winding_down_possible and (live or ((self.executors or unsaved) and not self._closing)):
            # Wind down first (runs, Dask clusters, the history's last writes), then close
            # for real: the window stays responsive meanwhile.
            event.ignore()
            self.shutdown()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window-state", self.saveState())
        self.settings.sync()
        self._history_refresh.stop()
        self._recorder_watch.stop()
        if self.recorder is not None:
            self.recorder.close()  # closed already unless the loop is gone: then, here
        event.accept()
        self.closed.emit()

    def shutdown(self) -> asyncio.Task[None]:
        """Cancel every run gracefully, wait for them, then close (no question asked)."""
        if self._shutdown_task is None:
            self._closing = True
            for tracker in self.controller.live():
                tracker.run.cancel()
            self._shutdown_task = asyncio.get_running_loop().create_task(self._close_when_idle())
        return self._shutdown_task

    async def _close_when_idle(self) -> None:
        runs = [t.run for t in self.controller.live()]
        if runs:
            await asyncio.wait([asyncio.ensure_future(r.wait()) for r in runs])
        executors, self.executors = list(self.executors.values()), {}
        for executor in executors:
            await executor.close()
        if self.recorder is not None:
            self.statusBar().showMessage("saving the run history …")
            await asyncio.to_thread(self.recorder.close)
            if self.recorder.problem:  # the window is closing: said where it was started
                print(f"graphdeck: {self.recorder.problem}", file=sys.stderr)
        QTimer.singleShot(0, self.close)

    def _restore_layout(self) -> None:
        geometry = self.settings.value("geometry")
        state = self.settings.value("window-state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 900)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        else:  # first start: the graph gets most of the width
            docks = [self.findChild(QDockWidget, n) for n in ("dock-controls", "dock-details")]
            self.resizeDocks(docks, [300, 460], Qt.Orientation.Horizontal)


def _load_views(store: RunStore, run_id: str) -> list[StoredRunView]:
    """A stored run and its child runs (depth first), ready to show."""
    run, children = load_with_children(store, run_id)
    return [StoredRunView(each) for each in (run, *children)]
