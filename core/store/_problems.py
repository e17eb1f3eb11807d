"""What the history writer could not record, said in one line: "history not recorded: …".

A run that printed its result must never lose its history silently: every failure ends
up in `Problems.line`, which the command line prints and the monitor shows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ._db import describe_database_error

NOT_RECORDED = "history not recorded"


class Problems:
    """The recorder's account of what is not recorded (yet), for the user.

    `line` is None while all is being written; otherwise the latest of: a write failing
    now (cleared when one works again), a run refused or dropped, and after `close()`, the
    runs left incomplete.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.line: str | None = None
        #: the last failed write's error, until a write works again
        self.database: str | None = None
        self._database_line: str | None = None  # the `line` it made
        self._lost: dict[str, str] = {}  # run id -> graph, of runs not recorded in full
        self._lost_why = ""  # why the last of them was not

    @property
    def worth_waiting(self) -> bool:
        """The last write failed on a lock, which its holder may release any moment (a
        read-only file or a full disk stay so)."""
        return self.database is not None and "locked" in self.database

    def write_failed(self, exc: sqlite3.Error) -> None:
        self.database = describe_database_error(self.path, exc)
        self._database_line = self.line = f"{NOT_RECORDED}: {self.database} (will retry)"

    def write_worked(self) -> None:
        if self.database is not None:
            self.database = None
            if self.line is self._database_line:
                self.line = None

    def lose(self, run_id: str, graph: str, why: str) -> None:
        """Run `run_id` is not recorded (in full), because `why`."""
        self._lost[run_id] = graph
        self._lost_why = why
        self.line = f"{NOT_RECORDED}: run {run_id} ({graph}): {why}"

    def closed(self, unwritten: dict[str, str] | None, gave_up_after: float) -> None:
        """The final line at close: `unwritten` runs (id -> graph) have rows that were not
        written (None: everything was)."""
        if unwritten is None:
            if len(self._lost) > 1:  # `line` named the last one only
                self.line = f"{NOT_RECORDED}: {some_runs(self._lost)}: {self._lost_why}"
            return
        runs = {**self._lost, **unwritten}
        why = self.database or f"the history writer did not finish within {gave_up_after:g} s"
        what = f"{some_runs(runs)} incomplete" if runs else "the last rows"
        self.line = f"{NOT_RECORDED}: {what}: {why}"


def some_runs(runs: dict[str, str]) -> str:
    """'run 1a2b3c (etl)', or 'runs 1a2b3c (etl), 4d5e6f (etl), 7a8b9c and 3 more'."""
    shown = [f"{run_id} ({graph})" if graph else run_id for run_id, graph in runs.items()]
    if len(shown) == 1:
        return f"run {shown[0]}"
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return f"runs {', '.join(shown[:3])}{more}"
