"""Layouts computed off the GUI thread, newest request wins.

A layout of a big graph takes from milliseconds to seconds (igraph, and building the
groups of 100k nodes in Python); the window never waits for it (docs/design.md §9.1). A
job is a plain function that builds a `Drawing` from a snapshot: it runs in a daemon
thread, creates no Qt object (§6: worker threads never create or destroy Qt objects), and
its result is handed back on the GUI thread. While one job runs, a newer request waits
for it and older waiting ones are dropped; a result is always shown (a graph that grows
all the time still gets drawn), unless `cancel` came after its job started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from .daemon_thread import in_daemon_thread

Job = Callable[[], Any]


class LayoutRunner(QObject):
    """Runs layout jobs one at a time in a daemon thread; `finished(result)` per job that
    was still the newest when it ended."""

    #: a job's result (whatever it returned), on the GUI thread
    finished = Signal(object)
    #: a job raised: its message (a bug, but the window must go on)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Invariant: `_waiting` is the newest job not started yet (None: nothing waits);
        # `_task` drains jobs while there are any.
        self._waiting: Job | None = None
        self._generation = 0  # bumped by `cancel`: results of older jobs are dropped
        self._task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def request(self, job: Job, in_place: bool = False) -> None:
        """Run `job` after the one running, if any (replacing any job still waiting). With
        no running event loop, or `in_place` (a small graph), run it here and now."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            in_place = True
        if in_place:
            self._waiting = None
            self._generation += 1  # a job still running for an older request is stale
            self.finished.emit(job())
            return
        self._waiting = job
        if not self.busy:
            self._task = loop.create_task(self._drain())

    async def wait(self) -> None:
        """Until every job asked for so far has run."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    def cancel(self) -> None:
        """Drop waiting jobs and the result of the running one."""
        self._waiting = None
        self._generation += 1
        if self._task is not None:
            self._task.cancel()

    async def _drain(self) -> None:
        while self._waiting is not None:
            job, self._waiting = self._waiting, None
            generation = self._generation
            try:
                result = await in_daemon_thread(job, name="graphdeck-layout")
            except Exception as exc:  # a bug in a layout: say so, keep the window going
                self.failed.emit(f"layout failed: {type(exc).__name__}: {exc}")
                continue
            if generation == self._generation:
                try:
                    self.finished.emit(result)
                except RuntimeError:  # the view was deleted meanwhile: nowhere to show it
                    return
