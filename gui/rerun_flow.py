"""Re-running part of a finished run in place: show which nodes would run, ask, re-run.

Upstream outputs are reused; a re-run after the graph file was edited and reloaded runs
the tools' new code. After a reload that failed it is refused with the load error, and a
run whose file is not the open one re-runs with its own code, which the question says
(`file_code`): never stale code without saying so.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from .dialogs import YES, ask_yes_no
from .document import GraphDocument
from .file_code import code_note, load_refusal
from .session import MonitorSession
from .tracker import RunTracker

#: what each re-run mode runs, in the question asked
MODES = {
    "node": "this node",
    "downstream": "this node and everything downstream",
    "failed": "the failed, cancelled and skipped nodes and their dependents",
}


@dataclass(frozen=True)
class _Rerun:
    tracker: RunTracker
    node_id: str | None
    mode: str
    inputs: dict[str, dict] | None


class RerunFlow(QObject):
    """Asks before each re-run of a live session's run (`parent` owns the questions)."""

    #: these nodes would re-run (an empty set: the question is over)
    highlight = Signal(object)
    #: why there is nothing to ask (for the status bar)
    note = Signal(str)
    #: the re-run was refused: one line for the error label
    problem = Signal(str)
    #: the run is going again (its `RunTracker`)
    started = Signal(object)

    def __init__(self, session: MonitorSession, document: GraphDocument, parent: QWidget) -> None:
        super().__init__(parent)
        self._session = session
        self._document = document
        self._parent = parent

    def ask(
        self,
        tracker: RunTracker,
        node_id: str | None,
        mode: str,
        inputs: dict[str, dict] | None = None,
    ) -> QMessageBox | None:
        """Highlight and count the nodes a re-run would execute, then ask (None: there is
        nothing to re-run and `note` says why, or it is refused and `problem` says why)."""
        refusal = load_refusal(self._document, tracker.file)
        if refusal is not None:
            self.problem.emit(f"re-run refused: {refusal}")
            return None
        try:
            plan = tracker.run.rerun_plan(node_id, mode=mode)
        except (RuntimeError, ValueError, KeyError) as exc:
            self.note.emit(str(exc))
            return None
        self.highlight.emit(set(plan))
        box = ask_yes_no(
            self._parent,
            "confirm-rerun",
            "Re-run",
            f"Re-run {len(plan)} node(s): {MODES[mode]}? Upstream outputs are reused."
            + code_note(self._document, tracker.file, tracker.loaded_at),
        )
        rerun = _Rerun(tracker, node_id, mode, inputs)
        box.finished.connect(functools.partial(self._on_question_finished, rerun))
        return box

    def _on_question_finished(self, rerun: _Rerun, answer: int) -> None:
        self.highlight.emit(set())
        if answer != YES:
            return
        refusal = load_refusal(self._document, rerun.tracker.file)  # it may have changed since
        if refusal is not None:
            self.problem.emit(f"re-run refused: {refusal}")
            return
        try:
            self._session.rerun(
                rerun.tracker,
                rerun.node_id,
                rerun.mode,
                inputs=rerun.inputs,
                tools=self._reloaded_tools(rerun.tracker),
            )
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            self.problem.emit(f"re-run refused: {exc}")
            return
        self.started.emit(rerun.tracker)

    def _reloaded_tools(self, tracker: RunTracker) -> dict | None:
        """The open file's tools, if the run's graph comes from it: the re-run picks up
        their code as reloaded since the run (None: keep the run's own)."""
        target, document = tracker.target, self._document
        if tracker.file is not None and tracker.file == document.path:
            return document.tools
        if target in document.graphs.values():
            return document.tools
        fn = getattr(target, "fn", None)
        from_file = (
            fn is not None
            and document.path is not None
            and fn.__code__.co_filename == str(document.path)
        )
        return document.tools if from_file else None
