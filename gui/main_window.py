"""The main window: it lays out the monitor's features and wires them together.

Each feature does its own job: the `MonitorSession` starts, re-runs, cancels and records
runs (no widgets); the `ControlsPanel` collects what to run and `GraphSetup` says when it
can run, once the `GraphPreview` has built it off the GUI thread; the `RunsList` picks the
run every view shows; `DetailsTabs` show it; `RerunFlow` and `HistoryRerun` ask before
re-running. The window only passes signals between them, all in
`_connect_signals`; views read runs through their `RunTracker`s and public `Run` methods.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import QSignalDebouncer

from graphdeck import Run
from graphdeck.loader import GraphDef
from graphdeck.store import WRITE_INTERVAL_S, RunStore, StoredRunView, StoreError

from .block_marks import BlockMarks
from .compare_flow import CompareFlow
from .controls import ControlsPanel
from .critical_path_view import CriticalPathToggle
from .details_tabs import DetailsTabs
from .dialogs import YES, ask_graph_file, ask_yes_no
from .document import GraphDocument
from .file_messages import FileMessages
from .find_bar import FindBar
from .graph_actions import GraphActions
from .graph_setup import GraphSetup
from .graph_view import GraphView, Legend
from .gui_thread_gc import FrozenWhileRunsLive
from .history import HistoryPanel
from .history_rerun import HistoryRerun
from .housekeeping import Housekeeping
from .labels import ElidedLabel, wrapping
from .pause_actions import PauseActions
from .preview import GraphPreview
from .problems import describe_problem
from .recorder_watch import RecorderWatch
from .remembered import Remembered
from .rerun_flow import RerunFlow
from .run_again import RunAgain
from .runs_list import RunsListModel, progress_text
from .session import MonitorSession
from .tasks import OwnedTasks, loop_running
from .theme import icon_path
from .tracker import RunTracker
from .window_layout import restore_layout, save_layout

#: list a run in the history pane once the recorder has had its turn to write it
HISTORY_REFRESH_MS = int(WRITE_INTERVAL_S * 2500)


class MainWindow(QMainWindow):
    """The monitor. `store`: the run history to record runs in and to browse (None: no
    history); `store_problem`: why the history is unavailable, shown in its pane."""

    #: the window has really closed (runs wound down, history saved)
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
        self.remembered = Remembered(settings)
        self.session = MonitorSession(store, store_problem, self)
        self.document = GraphDocument(self)
        self.preview = GraphPreview(self, prover=self.document.prove_build)
        self.reruns = RerunFlow(self.session, self.document, self)
        self.history_rerun = HistoryRerun(self.session, self.document, self.open_file, self)
        self.run_again_flow = RunAgain(self.session, self.document, self.open_file, self)
        # Invariant: `current` is the run selected in the runs list, the one every view shows.
        self.current: RunTracker | None = None
        self._rerun_allowed: bool | None = None  # as last set by `_set_rerun_allowed`
        self._tasks = OwnedTasks()  # opening stored runs, starting a file's run
        self._history_refresh = QSignalDebouncer(parent=self)
        self._history_refresh.setTimeout(HISTORY_REFRESH_MS)
        self.setWindowTitle("graphdeck")
        self.setWindowIcon(QIcon(icon_path()))
        self.setAcceptDrops(True)
        self.housekeeping = Housekeeping(self.session, settings, lambda: self.current, self)
        self._frozen = FrozenWhileRunsLive(lambda: len(self.session.controller.live()))
        self._build_widgets()
        self._build_actions()
        self.setup = GraphSetup(self.document, self.controls, self.preview, self.remembered, self)
        self._connect_signals()
        self.file_messages = FileMessages(self)  # the status bar and empty canvas on the file
        # (after the window's own connections: they see `current` already updated)
        self.block_marks = BlockMarks(self)
        self.critical_path = CriticalPathToggle(self)
        restore_layout(self, self.settings)
        self.history.set_store(self.session.store, self.session.store_problem)
        self.recorder_watch = RecorderWatch(
            self.session.recorder, self.history, self.statusBar(), self
        )

    # -- construction -------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.graph_view = GraphView()
        self.find_bar = FindBar(self.graph_view)
        self.find_bar.hide()
        self.preview_note = wrapping(QLabel(""))
        self.preview_note.setObjectName("preview-note")
        self.preview_note.hide()
        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.addWidget(Legend())
        center_layout.addWidget(self.find_bar)
        center_layout.addWidget(self.preview_note)
        center_layout.addWidget(self.graph_view, 1)
        self.setCentralWidget(center)
        self.runs_model = RunsListModel(self.session.controller, self)
        self.controls = ControlsPanel(self.runs_model)
        self.history = HistoryPanel()
        self.details = DetailsTabs()
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        controls_dock = self._add_dock("Graph and runs", "dock-controls", self.controls, left)
        history_dock = self._add_dock("History", "dock-history", self.history, left)
        self.tabifyDockWidget(controls_dock, history_dock)
        controls_dock.raise_()
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self._add_dock("Details", "dock-details", self.details, right)
        self.progress_label = ElidedLabel("")
        self.progress_label.setObjectName("progress")
        self.statusBar().addPermanentWidget(self.progress_label)

    def _add_dock(
        self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_actions(self) -> None:
        self.open_action = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open)
        self.reload_action = QAction("&Reload", self, shortcut=QKeySequence("Ctrl+R"))
        self.run_action = QAction("&Run", self, shortcut=QKeySequence("Ctrl+Return"))
        self.run_action.setEnabled(False)
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
        run_actions = (
            self.run_action,
            self.cancel_action,
            self.rerun_failed_action,
            self.run_again_action,
        )
        run_menu = self.menuBar().addMenu("&Run")
        run_menu.addActions(run_actions)
        toolbar = self.addToolBar("Toolbar")  # (its name in menus)
        toolbar.setObjectName("toolbar-main")
        toolbar.addActions([self.open_action, self.reload_action, *run_actions])
        self.graph_actions = GraphActions(self, toolbar)
        self.pause_actions = PauseActions(self, run_menu, toolbar)
        self.compare_flow = CompareFlow(self, run_menu, toolbar)
        run_menu.addSeparator()
        run_menu.addActions(self.housekeeping.actions)
        self._rebuild_recent_menu()

    def _connect_signals(self) -> None:
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.recent_menu.triggered.connect(self._on_recent_menu_triggered)
        self.reload_action.triggered.connect(self.document.reload)
        self.run_action.triggered.connect(self.start_run)
        self.controls.run_button.clicked.connect(self.start_run)
        self.cancel_action.triggered.connect(self.cancel_current_run)
        self.rerun_failed_action.triggered.connect(self._on_rerun_failed_action_triggered)
        self.run_again_action.triggered.connect(self._on_run_again_action_triggered)
        self.quit_action.triggered.connect(self.close)
        self.housekeeping.problem.connect(self.statusBar().showMessage)

        self.document.loading.connect(self._on_document_loading)
        self.setup.ready_changed.connect(self._on_setup_ready_changed)
        self.setup.preview_changed.connect(self._on_setup_preview_changed)
        self.setup.note_changed.connect(self._on_setup_note_changed)
        self.controls.runs_list.tracker_selected.connect(self._on_runs_list_tracker_selected)

        controller = self.session.controller
        controller.runs_changed.connect(self._on_controller_runs_changed)
        controller.runs_changed.connect(self._frozen.update)
        controller.ticked.connect(self._frozen.update)
        controller.run_updated.connect(self._on_controller_run_updated)
        controller.run_finished.connect(self._on_controller_run_finished)
        controller.ticked.connect(self._on_controller_ticked)
        self.session.progress.connect(self._on_session_progress)
        self.session.wound_down.connect(self._on_session_wound_down)

        self.graph_view.node_selected.connect(self._on_graph_view_node_selected)
        self.graph_view.selection_cleared.connect(self._on_graph_view_selection_cleared)
        self.graph_view.cancel_node_requested.connect(self.cancel_node)
        self.graph_view.rerun_requested.connect(self.ask_rerun)
        self.details.timeline.node_selected.connect(self._on_timeline_node_selected)
        self.details.log.node_selected.connect(self._on_log_node_selected)
        self.details.inspector.cancel_node_requested.connect(self.cancel_node)
        self.details.inspector.rerun_with_inputs_requested.connect(
            self._on_inspector_rerun_with_inputs_requested
        )
        for flow in (self.reruns, self.history_rerun):
            flow.highlight.connect(self.graph_view.highlight)
        for flow in (self.reruns, self.history_rerun, self.run_again_flow):
            flow.problem.connect(self.controls.show_error)
        self.reruns.note.connect(self._on_reruns_note)
        self.reruns.started.connect(self._on_reruns_started)
        self.history_rerun.started.connect(self._on_history_rerun_started)
        self.run_again_flow.started.connect(self._on_history_rerun_started)
        self.history.open_requested.connect(self.open_stored_run)
        self._history_refresh.triggered.connect(self.history.refresh)

    # -- files --------------------------------------------------------------------------

    def open_file(
        self, path: str | Path, graph: str | None = None, run: bool = False
    ) -> asyncio.Task[None]:
        """Load `path` (off the GUI thread); then select `graph` and, if `run`, start it
        once its preview is built."""
        path = Path(path).resolve()
        self.remembered.remember_file(path)
        self._rebuild_recent_menu()
        load = self.document.open(path)
        if not (graph or run):
            return load
        return self._tasks.start(self._select_and_run(load, graph, run))

    async def _select_and_run(self, load: asyncio.Task[None], graph: str | None, run: bool) -> None:
        await load
        if self.document.error is not None:
            return  # the load error is on screen already
        if graph:
            if graph not in self.document.graphs:
                self.controls.show_error(f"{self.document.path}: no graph named {graph!r}")
                return
            self.controls.select_graph(graph)
        if run:
            await self.preview.wait()
            if self.controls.run_button.isEnabled():
                self.start_run()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.remembered.recent_files():
            self.recent_menu.addAction(path).setData(path)
        self.recent_menu.setEnabled(bool(self.remembered.recent_files()))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.toLocalFile().endswith(".py") for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.toLocalFile().endswith(".py"):
                self.open_file(url.toLocalFile())
                event.acceptProposedAction()
                return

    @Slot()
    def _on_open_action_triggered(self) -> None:
        ask_graph_file(self, str(self.remembered.last_dir()), self.open_file)

    @Slot(QAction)
    def _on_recent_menu_triggered(self, action: QAction) -> None:
        self.open_file(action.data())

    @Slot(str)
    def _on_document_loading(self, path: str) -> None:
        # A run of another file must not stay on screen as if it were the new file's.
        if self.current is not None and self.current.file != Path(path):
            self.controls.runs_list.clear_selection()

    def selected_graph(self) -> GraphDef | None:
        return self.setup.selected_graph()

    @Slot(bool)
    def _on_setup_ready_changed(self, ready: bool) -> None:
        self.controls.run_button.setEnabled(ready)
        self.run_action.setEnabled(ready)

    @Slot(object)
    def _on_setup_preview_changed(self, nodes: dict) -> None:
        if self.current is None:  # a run shown keeps the canvas
            self.graph_view.show_nodes(nodes)

    @Slot(str)
    def _on_setup_note_changed(self, text: str) -> None:
        self.preview_note.setText(text)  # about the preview: shown while no run is
        self.preview_note.setVisible(bool(text) and self.current is None)

    # -- runs ---------------------------------------------------------------------------

    def start_run(self) -> Run | None:
        """Start the selected graph with the form's inputs; None (and the reason shown)
        if it cannot start."""
        graph = self.selected_graph()
        if graph is None:
            return None
        form = self.controls.inputs_form
        try:
            inputs = form.values()
            # The preview's graph if it was built for exactly these inputs (the usual
            # case); else it is built here, which the loading child proved returns.
            built = self.preview.take(graph, self.setup.inputs_key())
            tracker = self.session.start(
                graph,
                inputs,
                self.controls.run_options(),
                built=built,
                file=self.document.path,
                loaded_at=self.document.loaded_at,
            )
        except (ValueError, TypeError) as exc:  # a GraphBuildError or InputError too
            self.controls.show_error(describe_problem(exc, self.document.path))
            return None
        self.controls.show_error("")
        self.setup.remember_inputs(graph)
        self.controls.runs_list.select(tracker)
        return tracker.run

    def run_again(self) -> asyncio.Task[RunTracker | None] | None:
        """A new run of the selected run's graph with its inputs (the file's current code,
        refused after a reload that failed; see `RunAgain`)."""
        return None if self.current is None else self.run_again_flow.start(self.current)

    def cancel_current_run(self) -> None:
        if self.current is not None:
            self.session.cancel(self.current)
            self.statusBar().showMessage(f"cancelling {self.current.run.name} …", 3000)

    def cancel_node(self, node_id: str) -> None:
        if self.current is not None:
            self.session.cancel_node(self.current, node_id)

    def ask_rerun(
        self, node_id: str | None, mode: str, inputs: dict[str, dict] | None = None
    ) -> QMessageBox | None:
        """Highlight and count the nodes a re-run of the selected run would execute, then
        ask (see `RerunFlow`)."""
        if self.current is None:
            return None
        return self.reruns.ask(self.current, node_id, mode, inputs)

    def _current_stored(self) -> StoredRunView | None:
        run = self.current.run if self.current is not None else None
        return run if isinstance(run, StoredRunView) else None

    def _set_rerun_allowed(self, allowed: bool) -> None:
        self._rerun_allowed = allowed
        node_reruns = allowed and self._current_stored() is None  # a stored run is read-only
        self.graph_view.rerun_allowed = node_reruns
        self.details.inspector.rerun_allowed = node_reruns
        self.details.group_inspector.rerun_allowed = node_reruns
        failed = self.current is not None and self.current.something_failed
        # (a live agent has no static graph to re-run the failed part of)
        agent = node_reruns and self.current is not None and self.current.run.is_agent
        self.rerun_failed_action.setEnabled(allowed and failed and not agent)
        self.run_again_action.setEnabled(allowed and self.current is not None)
        self.details.inspector.refresh()

    @Slot()
    def _on_rerun_failed_action_triggered(self) -> None:
        if self._current_stored() is not None:
            self.rerun_stored(failed_only=True)
        else:
            self.ask_rerun(None, "failed")

    @Slot()
    def _on_run_again_action_triggered(self) -> None:
        if self._current_stored() is not None:
            self.rerun_stored(failed_only=False)
        else:
            self.run_again()

    @Slot(str, dict)
    def _on_inspector_rerun_with_inputs_requested(self, node_id: str, values: dict) -> None:
        # Edited inputs change the node's outputs: what depends on them re-runs too.
        self.ask_rerun(node_id, "downstream", {node_id: values})

    @Slot(str)
    def _on_reruns_note(self, text: str) -> None:
        self.statusBar().showMessage(text, 5000)

    @Slot(object)
    def _on_reruns_started(self, _tracker: RunTracker) -> None:
        self._set_rerun_allowed(False)

    # -- history ------------------------------------------------------------------------

    def open_stored_run(self, run_id: str) -> asyncio.Task[RunTracker | None]:
        """Load a past run from the history (in a thread) and show it read-only."""
        return self._tasks.start(self._open_stored(run_id))

    async def _open_stored(self, run_id: str) -> RunTracker | None:
        if self.session.find(run_id) is None:
            self.statusBar().showMessage(f"loading run {run_id} …")
        try:
            tracker = await self.session.open_stored(run_id)
        except (StoreError, LookupError) as exc:
            self.statusBar().showMessage(f"cannot open run {run_id}: {exc}", 8000)
            return None
        self.statusBar().clearMessage()
        if tracker is not None:
            self.controls.runs_list.select(tracker)
        return tracker

    def rerun_stored(self, failed_only: bool) -> asyncio.Task[QMessageBox | None] | None:
        """From the stored run shown: "Run again" (a new run, same inputs) or "Re-run
        failed" (a new run reusing the stored outputs that can be restored). Asks first."""
        view = self._current_stored()
        return None if view is None else self.history_rerun.ask(view, failed_only)

    @Slot(object)
    def _on_history_rerun_started(self, tracker: RunTracker) -> None:
        self.controls.runs_list.select(tracker)

    # -- the selected run ---------------------------------------------------------------

    @Slot()
    def _on_controller_runs_changed(self) -> None:
        self.cancel_action.setEnabled(self.current is not None and not self.current.run.done)
        if self.session.store is not None and not self.session.closing and self.isVisible():
            self._history_refresh.throttle()  # a run started or ended: list it once written

    @Slot(object)
    def _on_controller_run_finished(self, _tracker: RunTracker) -> None:
        if not self.session.controller.live():  # (no run to take the interpreter from)
            self.preview.build_again()

    @Slot(object)
    def _on_runs_list_tracker_selected(self, tracker: RunTracker | None) -> None:
        if tracker is self.current:
            return
        self.current = self.session.controller.shown = tracker
        self.preview_note.setVisible(bool(self.preview_note.text()) and tracker is None)
        self.housekeeping.refresh()
        self.cancel_action.setEnabled(tracker is not None and not tracker.run.done)
        self._set_rerun_allowed(tracker is not None and tracker.run.done)
        self.details.show_tracker(tracker)
        if tracker is None:
            self.graph_view.show_nodes({})  # nothing of another file's run stays on screen
            self.progress_label.setText("")
        else:
            # a run that failed opens on its first failed node
            self.graph_view.show_run(tracker.run, select_failed=tracker.run.done)
            self.progress_label.setText(progress_text(tracker))

    @Slot(object)
    def _on_controller_run_updated(self, tracker: RunTracker) -> None:
        if tracker is not self.current:
            if self.current is not None and tracker.descends_from(self.current):
                self.graph_view.refresh(set())  # its calls are drawn inline
                self.details.refresh_from(self.current)  # its messages are in the log
            return
        self.graph_view.refresh(tracker.take_changed())
        if tracker.run.done is not self._rerun_allowed:  # (it refreshes the inspector)
            self._set_rerun_allowed(tracker.run.done)
            if tracker.run.done and self.graph_view.selected_key is None:
                self.graph_view.select_first_failed()  # it ended: where it went wrong
        self.details.refresh_from(tracker)
        self.progress_label.setText(progress_text(tracker))
        self.cancel_action.setEnabled(not tracker.run.done)

    @Slot()
    def _on_controller_ticked(self) -> None:
        if self.current is not None and not self.current.run.done:
            self.progress_label.setText(progress_text(self.current))

    @Slot(str)
    def _on_timeline_node_selected(self, node_id: str) -> None:
        self._select_node(node_id)
        self.details.setCurrentWidget(self.details.timeline)

    @Slot(str)
    def _on_log_node_selected(self, node_id: str) -> None:
        self._select_node(node_id)
        self.details.setCurrentWidget(self.details.inspector)

    def _select_node(self, node_id: str) -> None:
        self.graph_view.select_node(node_id)  # its node, or the group holding it
        if self.current is not None and node_id in self.current.run.nodes:
            self.details.inspector.show_node(self.current.run.nodes[node_id])

    @Slot()
    def _on_graph_view_selection_cleared(self) -> None:
        self.details.inspector.show_node(None)  # nothing selected: nothing inspected
        self.details.group_inspector.show_group(None)

    @Slot(str)
    def _on_graph_view_node_selected(self, node_id: str) -> None:
        if self.current is not None and node_id in self.current.run.nodes:
            self.details.inspector.show_node(self.current.run.nodes[node_id])
        else:
            self.details.inspector.show_node(self.graph_view.nodes.get(node_id))
        self.details.setCurrentWidget(self.details.inspector)

    # -- closing ------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        # Without a running loop (closed after the app's loop ended) nothing can be waited
        # for: close at once below.
        can_wind_down = loop_running()
        live = self.session.controller.live()
        if live and not self.session.closing and can_wind_down:
            event.ignore()
            box = ask_yes_no(
                self,
                "confirm-quit",
                "Runs in progress",
                f"{len(live)} run(s) are still going. Cancel them and quit?",
            )
            box.finished.connect(self._on_confirm_quit_finished)
            return
        if can_wind_down and self.session.must_wind_down():
            # Wind down first (runs, Dask clusters, the history's last writes), then close
            # for real: the window stays responsive meanwhile.
            event.ignore()
            self.shutdown()
            return
        save_layout(self, self.settings)
        # Work still going would report to a window that is gone.
        self._history_refresh.cancel()
        self._tasks.cancel_all()
        self.housekeeping.close()
        self._frozen.thaw()
        self.history_rerun.cancel()
        self.run_again_flow.cancel()
        self.compare_flow.cancel()
        self.history.stop()
        self.recorder_watch.stop()
        self.document.close()
        self.preview.clear()
        self.session.close_now()
        event.accept()
        self.closed.emit()

    def shutdown(self) -> asyncio.Task[None]:
        """Cancel every run gracefully, wait for them, then close (no question asked)."""
        return self.session.shutdown()

    @Slot(int)
    def _on_confirm_quit_finished(self, answer: int) -> None:
        if answer == YES:
            self.shutdown()

    @Slot(str)
    def _on_session_progress(self, text: str) -> None:
        self.statusBar().showMessage(text)

    @Slot()
    def _on_session_wound_down(self) -> None:
        QTimer.singleShot(0, self.close)  # after the winding-down task has returned
