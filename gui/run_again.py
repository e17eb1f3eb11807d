""" "Run again" on a run of this session: a new run with the same inputs and options, of
its graph as the file defines it now.

Never the previous version without saying so: after a reload that failed it is refused
with the load error (`file_code`). The graph is built like the preview's (in the loading
child first, then off the GUI thread), so a builder that hangs never freezes the window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from graphdeck import Graphify
from graphdeck.loader import GraphDef

from .building import BuildProblem, build_graph
from .document import GraphDocument
from .file_code import CodeProblem, definition_from_file
from .problems import describe_problem
from .session import MonitorSession
from .tasks import OwnedTasks
from .tracker import RunTracker


class RunAgain(QObject):
    """Starts runs again; `problem` says why one cannot start."""

    #: why it cannot start: one line for the error label
    problem = Signal(str)
    #: the new run started (its `RunTracker`)
    started = Signal(object)

    def __init__(
        self,
        session: MonitorSession,
        document: GraphDocument,
        open_file: Callable[[Path], Awaitable[None]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._document = document
        self._open_file = open_file
        self._going = OwnedTasks()

    def start(self, tracker: RunTracker) -> asyncio.Task[RunTracker | None]:
        """Start a run like `tracker`'s; the task's result is its tracker, or None when it
        cannot start (and `problem` said why)."""
        return self._going.start(self._start(tracker))

    def cancel(self) -> None:
        """Stop preparing any run: the window is closing."""
        self._going.cancel_all()

    async def _start(self, tracker: RunTracker) -> RunTracker | None:
        try:
            definition = await self._definition(tracker)
            inputs = dict(tracker.run.inputs)
            built = None
            if isinstance(definition, Graphify):
                prove = self._document.prove_build if tracker.file is not None else None
                built = await build_graph(definition, inputs, tracker.file, prove)
            again = self._session.start(
                definition,
                inputs,
                tracker.options,
                built=built,
                file=tracker.file,
                loaded_at=self._document.loaded_at if tracker.file is not None else None,
            )
        except (CodeProblem, BuildProblem) as exc:
            self.problem.emit(f"cannot run {tracker.run.name} again: {exc}")
            return None
        except (ValueError, TypeError) as exc:  # inputs the graph no longer takes
            self.problem.emit(describe_problem(exc, tracker.file))
            return None
        self.started.emit(again)
        return again

    async def _definition(self, tracker: RunTracker) -> GraphDef:
        """The graph as its file defines it now; a graph from no file runs as it was."""
        if tracker.file is None:
            if tracker.target is None:
                raise CodeProblem("it has no graph definition to run (a child run?)")
            return tracker.target  # type: ignore[return-value]
        name = getattr(tracker.target, "name", tracker.run.name)
        return await definition_from_file(self._document, self._open_file, tracker.file, name)
