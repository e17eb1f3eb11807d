"""Pause, Resume and Step on the selected live run, and its breakpoints (docs/design.md
§3.10): the Run menu's and toolbar's actions, the graph's "Break here" requests, and the
held nodes marked on the canvas. Everything goes through public `Run` methods; what the
run did about it comes back as events (`RunPaused`, `RunResumed`), like everything else."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from graphdeck import RunState

from .tracker import RunTracker


def pause_note(run: Any) -> str:
    """`paused (2 held)` for a paused live run, "" otherwise (a stored run never is)."""
    if not getattr(run, "paused", False) or run.done:
        return ""
    held = len(run.held)
    return f"paused ({held} held)" if held else "paused"


def can_pause(tracker: RunTracker | None) -> bool:
    """A live run the monitor started (a stored run is read-only, an ended one is over)."""
    if tracker is None:
        return False
    run = tracker.run
    return hasattr(run, "pause") and not run.done and run.state is RunState.RUNNING


class PauseActions(QObject):
    """Pause / Resume / Step for the run `window` shows, in `menu` and on `toolbar`;
    carries out the graph view's breakpoint requests on that run."""

    def __init__(self, window: Any, menu: QMenu, toolbar: QToolBar) -> None:
        """`window`: the `MainWindow` (not imported here: no import cycle)."""
        super().__init__(window)
        self.window = window
        self.view = window.graph_view
        # Invariant: the run the actions act on: the one selected in the runs list.
        self.tracker: RunTracker | None = None
        # F5 / F10 as in debuggers; F6 (next to them) pauses.
        self.pause_action = QAction("&Pause", self, shortcut=QKeySequence("F6"))
        self.pause_action.setObjectName("pause-action")
        self.resume_action = QAction("Res&ume", self, shortcut=QKeySequence("F5"))
        self.resume_action.setObjectName("resume-action")
        self.step_action = QAction("&Step", self, shortcut=QKeySequence("F10"))
        self.step_action.setObjectName("step-action")
        self.pause_action.setToolTip("start no new node (running ones finish)")
        self.resume_action.setToolTip("go on: held nodes first, then the rest")
        self.step_action.setToolTip("let exactly one node start, then pause again")
        actions = [self.pause_action, self.resume_action, self.step_action]
        menu.addSeparator()
        menu.addActions(actions)
        toolbar.addSeparator()
        toolbar.addActions(actions)
        self._connect_signals()
        self.refresh()

    def _connect_signals(self) -> None:
        window = self.window
        self.pause_action.triggered.connect(self._on_pause_action_triggered)
        self.resume_action.triggered.connect(self._on_resume_action_triggered)
        self.step_action.triggered.connect(self._on_step_action_triggered)
        window.controls.runs_list.tracker_selected.connect(self._on_runs_list_tracker_selected)
        window.session.controller.run_updated.connect(self._on_controller_run_updated)
        window.details.inspector.held_bar.acted.connect(self.refresh)
        self.view.breakpoint_requested.connect(self._on_view_breakpoint_requested)

    def refresh(self) -> None:
        """Enable what applies to the run now; mark its held nodes; say it is paused."""
        run = self._live_run()
        paused = run is not None and run.paused
        self.pause_action.setEnabled(run is not None and not paused)
        self.resume_action.setEnabled(paused)
        self.step_action.setEnabled(paused)
        live = run is not None and self.tracker is not None
        self.view.breakpoints = self.tracker.breakpoints if live else None  # type: ignore[union-attr]
        self.view.mark_held(set(run.held) if run is not None else set())

    @Slot(object)
    def _on_runs_list_tracker_selected(self, tracker: RunTracker | None) -> None:
        self.tracker = tracker
        self.refresh()

    @Slot(object)
    def _on_controller_run_updated(self, tracker: RunTracker) -> None:
        if tracker is self.tracker:
            self.refresh()

    def _live_run(self) -> Any:
        """The run shown if it can be paused now, else None."""
        return self.tracker.run if self.tracker is not None and can_pause(self.tracker) else None

    @Slot()
    def _on_pause_action_triggered(self) -> None:
        run = self._live_run()
        if run is not None:
            run.pause()
            self.refresh()

    @Slot()
    def _on_resume_action_triggered(self) -> None:
        run = self._live_run()
        if run is not None:
            run.resume()
            self.refresh()

    @Slot()
    def _on_step_action_triggered(self) -> None:
        run = self._live_run()
        if run is not None:
            run.step()
            self.refresh()

    @Slot(str, bool)
    def _on_view_breakpoint_requested(self, spec: str, on: bool) -> None:
        """Set (`on`) or clear a breakpoint on a node id or a tool name; the tracker keeps
        the list, which `Run` does not expose, for the graph's menu to offer clearing."""
        run = self._live_run()
        if run is None or self.tracker is None:
            return
        if on:
            run.set_breakpoint(spec)
            self.tracker.breakpoints.add(spec)
        else:
            run.clear_breakpoint(spec)
            self.tracker.breakpoints.discard(spec)
        self.refresh()
