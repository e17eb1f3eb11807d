"""The graph a graphify will run, built for the inputs in the form before anything runs.

A builder is user code: it may raise, take long, or never return. It is built in the
loading child first (`prover`, see `GraphDocument.prove_build`: a hang there costs the
monitor nothing and can be stopped), then here in a daemon thread, so the window stays
responsive whatever it does, and only the newest request counts: an older build finishing
late is dropped, never shown. The graph built is handed to the first run of exactly those
inputs, so that run does not build it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from superqt.utils import QSignalDebouncer

from graphdeck import Graphify, TaskGraph

from .building import BuildProblem, Prover, build_graph

#: typing in an input field asks for a build per key: build on the first, then once
#: the typing pauses this long
BUILD_DEBOUNCE_MS = 150


@dataclass(frozen=True)
class _Request:
    definition: Graphify
    inputs: dict[str, Any]
    key: Hashable  # tells apart inputs that compare equal but differ (1 and True)
    file: Path | None


class GraphPreview(QObject):
    """Builds the newest requested graph off the GUI thread and says how it went."""

    #: a build of this graph started (the previous outcome no longer holds)
    building = Signal(str)
    #: the graph of the newest request (a `TaskGraph`)
    built = Signal(object)
    #: the newest request cannot be built: one line, `file:line: …`
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, prover: Prover | None = None) -> None:
        super().__init__(parent)
        #: proves each build where a hang costs nothing, before it is built here
        self.prover = prover
        # Invariant: `_request` is the newest request (None: nothing to preview); `graph`
        # and `error` are its outcome, and both are None while it is pending or building.
        self._request: _Request | None = None
        self.graph: TaskGraph | None = None
        self.error: str | None = None
        self._settled = True
        self._task: asyncio.Task[None] | None = None
        self._debounce = QSignalDebouncer(QSignalDebouncer.EmissionPolicy.Leading, self)
        self._debounce.setTimeout(BUILD_DEBOUNCE_MS)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._debounce.triggered.connect(self._on_debounce_triggered)

    @property
    def busy(self) -> bool:
        """The newest request is waiting or building."""
        return not self._settled

    @property
    def ready(self) -> bool:
        """The newest request was built: its inputs build (and the build returns)."""
        return self._settled and self._request is not None and self.error is None

    def request(
        self, definition: Graphify, inputs: dict[str, Any], key: Hashable, file: Path | None
    ) -> None:
        """Build `definition` with `inputs` (`key` names them exactly); `file` is the
        graph file, for where an error happened."""
        self._request = _Request(definition, inputs, key, file)
        self.graph, self.error, self._settled = None, None, False
        self.building.emit(definition.name)
        self._debounce.throttle()

    def clear(self) -> None:
        """Nothing to preview (an agent, or inputs that do not parse): drop any build."""
        self._request, self.graph, self.error, self._settled = None, None, None, True
        self._debounce.cancel()
        if self._task is not None:
            self._task.cancel()

    def take(self, definition: object, key: Hashable) -> TaskGraph | None:
        """The graph built for exactly `definition` and `key`, once: a graph runs once
        (`build_again` builds the next)."""
        request, graph = self._request, self.graph
        if request is None or graph is None:
            return None
        if request.definition is not definition or request.key != key:
            return None
        self.graph = None
        return graph

    def build_again(self) -> None:
        """Build the last request's graph again if a run took it, off the GUI thread, so
        that the next Run starts at once. The window asks once no run is live: a build
        meanwhile took the interpreter from the runs (a 10k-node run 1.3x slower)."""
        request = self._request
        if request is not None and self.graph is None and not self.busy and self.error is None:
            self.request(request.definition, request.inputs, request.key, request.file)

    async def wait(self) -> None:
        """Until the newest request has its outcome (forever, if its builder hangs)."""
        while self.busy:
            if self._task is not None and not self._task.done():
                await asyncio.wait([self._task])
            else:
                await asyncio.sleep(BUILD_DEBOUNCE_MS / 1000)

    @Slot()
    def _on_debounce_triggered(self) -> None:
        if self._task is not None:
            self._task.cancel()  # its thread runs on; its result will be dropped
        if self._request is not None and not self._settled:
            self._task = asyncio.get_running_loop().create_task(self._build(self._request))

    async def _build(self, request: _Request) -> None:
        try:
            graph = await build_graph(request.definition, request.inputs, request.file, self.prover)
        except BuildProblem as problem:
            outcome: TaskGraph | str = str(problem)
        else:
            outcome = graph
        if request is not self._request:
            return  # superseded while it built
        self._settled = True
        if isinstance(outcome, str):
            self.error = outcome
            self.failed.emit(outcome)
        else:
            self.graph = outcome
            self.built.emit(outcome)
