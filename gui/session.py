"""The monitor's session: every run it started or opened from the history, and what those
runs share (Dask executors, the history recorder), with no widget in sight.

The window turns clicks into calls here and shows what the `RunController` reports; tests
drive a session without any window. Everything goes through public `Run` methods.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from graphdeck import TaskGraph, start
from graphdeck.executors import Executor, parse_executor
from graphdeck.loader import GraphDef
from graphdeck.store import (
    Recorder,
    RunStore,
    StoredRunView,
    StoreError,
    load_with_children,
)

from .run_options import RunOptions
from .tracker import CancelAsked, RunController, RunTracker


class MonitorSession(QObject):
    """Runs started, re-run, cancelled and recorded; executors made once and closed last.

    `store`: the run history to record runs in and to open past runs from (None: none);
    `store_problem`: why there is no history (also set when its recorder cannot start).
    """

    #: a step of winding down the user waits for (e.g. "saving the run history …")
    progress = Signal(str)
    #: every run ended, executors closed, history saved: the window may close now
    wound_down = Signal()

    def __init__(
        self,
        store: RunStore | None = None,
        store_problem: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.store_problem = store_problem
        self.recorder: Recorder | None = None
        if store is not None:
            try:
                self.recorder = store.recorder()
            except StoreError as exc:
                self.store, self.store_problem = None, str(exc)
        self.controller = RunController(self)
        # Invariant: only executors this session made (one per spec: a Dask cluster starts
        # once, not per run); runs never own them, `shutdown` closes them.
        self.executors: dict[str, Executor] = {}
        self._shutdown: asyncio.Task[None] | None = None

    # -- starting runs ------------------------------------------------------------------

    def executor(self, spec: str) -> Executor | None:
        """The executor for a `parse_executor` spec; None runs tool bodies in-process.
        Raises ValueError naming the accepted specs."""
        if spec not in self.executors:
            executor, owned = parse_executor(spec)
            if not owned:
                return executor
            self.executors[spec] = executor  # type: ignore[assignment]
        return self.executors[spec]

    def start(
        self,
        definition: GraphDef | None,
        inputs: Mapping[str, Any] | None,
        options: RunOptions,
        *,
        built: TaskGraph | None = None,
        file: Path | None = None,
        loaded_at: float | None = None,
    ) -> RunTracker:
        """Start and follow a run of `definition` with `inputs`, recorded as from `file`
        (its code loaded at `loaded_at`).

        `built`: its graph already built for exactly these inputs (the preview built it
        off the GUI thread); it runs as it is instead of being built again here.
        Raises GraphBuildError, TypeError or ValueError when the run cannot start.
        """
        executor = self.executor(options.executor)
        target: Any = built if built is not None else definition
        handle = start(
            target,
            None if built is not None else inputs,
            max_concurrency=options.max_concurrency,
            on_error=options.on_error,
            executor=executor,
            block_threshold=options.block_threshold,
        )
        if self.recorder is not None:
            self.recorder.record(handle, file=file)
        tracker = self.controller.track(handle)
        tracker.target, tracker.options = definition, options
        tracker.file, tracker.loaded_at = file, loaded_at
        return tracker

    def rerun(
        self,
        tracker: RunTracker,
        node_id: str | None,
        mode: str,
        *,
        inputs: dict[str, dict] | None = None,
        tools: Mapping[str, Any] | None = None,
    ) -> None:
        """Re-run part of a finished run in place (see `Run.rerun`), and follow it again."""
        tracker.run.rerun(node_id, mode=mode, tools=tools, inputs=inputs)
        tracker.cancel_asked = CancelAsked()  # what was asked of the last round is done
        self.controller.follow(tracker)

    def cancel(self, tracker: RunTracker) -> None:
        if not tracker.run.done:
            tracker.cancel_asked.run_at = time.time()
        tracker.run.cancel()

    def cancel_node(self, tracker: RunTracker, node_id: str) -> None:
        if not isinstance(tracker.run, StoredRunView):  # a stored run is read-only
            node = tracker.run.nodes.get(node_id)
            if node is not None and not node.state.is_terminal:
                tracker.cancel_asked.nodes.add(node_id)
            tracker.run.cancel_node(node_id)

    # -- the history --------------------------------------------------------------------

    def find(self, run_id: str) -> RunTracker | None:
        return next((t for t in self.controller.trackers if t.run.id == run_id), None)

    async def open_stored(self, run_id: str) -> RunTracker | None:
        """Follow a past run (and its child runs) from the history, read-only; the one
        already open if it is. Raises StoreError or LookupError."""
        known = self.find(run_id)
        if known is not None or self.store is None:
            return known
        # Reading and rebuilding a big run takes a while: not on the GUI thread.
        views = await asyncio.to_thread(_load_views, self.store, run_id)
        tracker = self.controller.track(views[0])
        depths = {views[0].id: 0}
        for child in views[1:]:  # nested agents, listed under their parent as when live
            depths[child.id] = depths.get(child.stored.summary.parent_id or "", 0) + 1
            self.controller.track(child, depths[child.id])
        return tracker

    # -- winding down -------------------------------------------------------------------

    @property
    def closing(self) -> bool:
        """`shutdown` was called: no new work, the session is winding down."""
        return self._shutdown is not None

    def must_wind_down(self) -> bool:
        """Closing has to wait: runs are live, or clusters and the history's last writes
        have not been closed and saved yet."""
        unsaved = self.recorder is not None and not self.recorder.closed
        return bool(self.controller.live()) or (
            not self.closing and bool(self.executors or unsaved)
        )

    def shutdown(self) -> asyncio.Task[None]:
        """Cancel every run gracefully and wind down (once); `wound_down` says when done."""
        if self._shutdown is None:
            for tracker in self.controller.live():
                self.cancel(tracker)
            self._shutdown = asyncio.get_running_loop().create_task(self._wind_down())
        return self._shutdown

    async def _wind_down(self) -> None:
        runs = [t.run for t in self.controller.live()]
        if runs:
            await asyncio.wait([asyncio.ensure_future(r.wait()) for r in runs])
        executors, self.executors = list(self.executors.values()), {}
        for executor in executors:
            await executor.close()
        if self.recorder is not None:
            self.progress.emit("saving the run history …")
            await asyncio.to_thread(self.recorder.close)
            if self.recorder.problem:  # the window is closing: said where it was started
                print(f"graphdeck: {self.recorder.problem}", file=sys.stderr)
        self.wound_down.emit()

    def close_now(self) -> None:
        """Save what is left at once (no loop to wind down on: the app's loop has ended;
        `Recorder.close` marks unfinished runs as interrupted)."""
        if self.recorder is not None:
            self.recorder.close()


def _load_views(store: RunStore, run_id: str) -> list[StoredRunView]:
    """A stored run and its child runs (depth first), ready to show."""
    run, children = load_with_children(store, run_id)
    return [StoredRunView(each) for each in (run, *children)]
