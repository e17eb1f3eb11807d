"""Starting a new run from a stored one: "Run again" (same inputs, every node runs) or
"Re-run failed" (same inputs, the stored outputs that can be restored are reused).

The graph comes from the run's file as it is now (opened if it is not the open one) and
is built off the GUI thread before the question is asked, so a builder that hangs or
fails never freezes the window and the question shows exactly what will run.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from graphdeck import TaskGraph
from graphdeck.loader import GraphDef
from graphdeck.store import StoredRunView, restorable_outputs, restore, restored_inputs

from .building import BuildProblem, build_graph
from .dialogs import YES, ask_yes_no
from .document import GraphDocument
from .file_code import CodeProblem, definition_from_file
from .problems import describe_problem
from .run_options import RunOptions
from .session import MonitorSession
from .tasks import OwnedTasks


@dataclass(frozen=True)
class _NewRun:
    definition: GraphDef
    inputs: dict[str, Any]
    built: TaskGraph | None
    options: RunOptions


class HistoryRerun(QObject):
    """Asks before each run started from the history (`parent` owns the questions)."""

    #: these nodes would run (an empty set: the question is over)
    highlight = Signal(object)
    #: why it cannot start: one line for the error label
    problem = Signal(str)
    #: the new run started (its `RunTracker`)
    started = Signal(object)

    def __init__(
        self,
        session: MonitorSession,
        document: GraphDocument,
        open_file: Callable[[Path], Awaitable[None]],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._document = document
        self._open_file = open_file
        self._parent = parent
        self._asking = OwnedTasks()

    def ask(self, view: StoredRunView, failed_only: bool) -> asyncio.Task[QMessageBox | None]:
        """Prepare the new run of `view`, then ask (the task's result: the question, or
        None when it cannot start and `problem` said why)."""
        return self._asking.start(self._ask(view, failed_only))

    def cancel(self) -> None:
        """Stop preparing any run: the window is closing."""
        self._asking.cancel_all()

    async def _ask(self, view: StoredRunView, failed_only: bool) -> QMessageBox | None:
        definition = await self._definition(view)
        if definition is None:
            return None
        inputs, lost = restored_inputs(view.stored.inputs, definition.defaults)
        if lost:
            self.problem.emit(
                f"run {view.id} cannot run again: its input(s) {', '.join(lost)} were not "
                "plain data (JSON), so only their repr was stored"
            )
            return None
        built = None
        if definition.kind == "graphify":
            try:
                built = await build_graph(
                    definition,  # type: ignore[arg-type]
                    inputs,
                    self._document.path,
                    self._document.prove_build,
                )
            except BuildProblem as problem:
                self.problem.emit(str(problem))
                return None
        plan, built = self._plan(view, built, failed_only)
        options = RunOptions(max_concurrency=view.stored.max_concurrency, on_error=view.on_error)
        box = ask_yes_no(
            self._parent,
            "confirm-rerun",
            "Run from history",
            f"Start a new run of {view.name} with the inputs of run {view.id}? {plan}.",
        )
        new_run = _NewRun(definition, inputs, built, options)
        box.finished.connect(functools.partial(self._on_question_finished, new_run))
        return box

    async def _definition(self, view: StoredRunView) -> GraphDef | None:
        """The stored run's graph as its file defines it now (the file opened if need be;
        refused when it failed to load)."""
        file = view.stored.summary.file
        if file is None:
            self.problem.emit(f"run {view.id}: no graph file was recorded")
            return None
        try:
            return await definition_from_file(
                self._document, self._open_file, Path(file), view.name
            )
        except CodeProblem as problem:
            self.problem.emit(f"run {view.id}: {problem}")
            return None

    def _plan(
        self, view: StoredRunView, built: TaskGraph | None, failed_only: bool
    ) -> tuple[str, TaskGraph | None]:
        """What will run, in words, and the graph to run (stored outputs restored)."""
        if not failed_only:
            return "every node runs", built
        if built is None:
            return "an agent (graph_fn) has no static graph: the whole agent runs again", None
        restored = restorable_outputs(view.stored, built)
        self.highlight.emit(set(built._nodes) - set(restored))
        plan = f"{len(built._nodes) - len(restored)} node(s) run; {len(restored)} keep "
        return plan + "their stored outputs", restore(built, restored)

    def _on_question_finished(self, new_run: _NewRun, answer: int) -> None:
        self.highlight.emit(set())
        if answer != YES:
            return
        try:
            tracker = self._session.start(
                new_run.definition,
                new_run.inputs,
                new_run.options,
                built=new_run.built,
                file=self._document.path,
                loaded_at=self._document.loaded_at,
            )
        except (ValueError, TypeError) as exc:  # GraphBuildError is a ValueError
            self.problem.emit(describe_problem(exc, self._document.path))
            return
        self.started.emit(tracker)
