"""`Recorder`: writes runs into the history database from a background thread.

The event loop never touches SQLite. Every `interval` seconds (200 ms) the writer thread
reads what is new in each recorded run's event log (the log is append-only and read by
index, docs/design.md §2.1) and commits it in one transaction. A killed process therefore loses
at most the last interval of events (while the writer keeps up: see LIVE_BUDGET_SHARE),
and a slow disk slows the history, never the run.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ._db import BUSY_TIMEOUT_S, connect, describe_database_error
from ._rows import (
    ATTEMPT_SQL,
    COUNTS_SQL,
    HEARTBEAT_SQL,
    MESSAGE_SQL,
    NEW_ATTEMPT_SQL,
    NEW_NODE_SQL,
    NODE_SQL,
    OCCUPANCY_SQL,
    RUN_SQL,
    Batch,
    RunCursor,
)
from ._schema import transaction

if TYPE_CHECKING:
    from .._run import Run

WRITE_INTERVAL_S = 0.2
#: how long `close()` waits for the last writes
CLOSE_TIMEOUT_S = 10.0
#: share of wall time the writer may spend reading logs while a run is live. The writer
#: shares the GIL with the event loop, so its CPU time is the run's slowdown; a run that
#: emits events faster than this budget allows is written with some delay, and in full
#: as soon as it ends (or on `flush`).
LIVE_BUDGET_SHARE = 0.05
_CHUNK_ROWS = 250  # log rows read between two pauses (~1 ms of work)
INTERRUPTED = "interrupted"
_log = logging.getLogger("graphdeck.store")


class Recorder:
    """Records runs (and their child runs) into the database at `path`.

    Opening fails with `StoreError` (corrupt, locked, newer schema) before any thread
    starts. Write errors later (a lock held too long, a full disk) keep the unwritten rows
    for the next attempt and are shown in `problem`.
    """

    def __init__(self, path: Path, *, interval: float = WRITE_INTERVAL_S) -> None:
        self.path = path
        self.interval = interval
        #: what went wrong last, for the user (None: all is being written)
        self.problem: str | None = None
        self._db_problem: str | None = None  # the part of it a later write can clear
        self._conn = connect(path)
        self._cursors: list[RunCursor] = []
        self._new: list[RunCursor] = []
        self._backlog: list[Batch] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._done_pass = threading.Condition()
        self._requested = 0  # flush requests made
        self._completed = 0  # flush requests a finished pass has covered
        self._closing = False  # tells the writer thread to stop
        self._close_lock = threading.Lock()
        self._close_started = False
        self._written = False
        self._thread = threading.Thread(target=self._loop, name="graphdeck-history", daemon=True)
        self._thread.start()

    def record(self, run: Run, *, file: str | Path | None = None) -> None:
        """Record `run` from its first event on (call it right after `start()`)."""
        with self._lock:  # picked up by the next pass (never sooner: the run has begun)
            self._new.append(RunCursor(run, None if file is None else str(file)))

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Block until everything recorded so far is written; False on timeout."""
        with self._done_pass:
            self._requested += 1
            wanted = self._requested
            self._wake.set()
            return self._done_pass.wait_for(lambda: self._completed >= wanted, timeout)

    @property
    def closed(self) -> bool:
        """`close()` was called (it may still be writing the last rows)."""
        return self._close_started

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> bool:
        """Write what is left, mark runs that did not finish as interrupted, stop. Gives
        up after `timeout` seconds (a database locked for good must not keep the app from
        exiting). Returns whether everything was written. Safe to call from any thread,
        more than once: later calls wait for the first and return its answer."""
        with self._close_lock:
            if not self._close_started:
                self._close_started = True
                self._written = self._shut_down(timeout)
            return self._written

    def _shut_down(self, timeout: float) -> bool:
        written = self._thread.is_alive() and self.flush(timeout)
        self._closing = True
        self._wake.set()
        self._thread.join(BUSY_TIMEOUT_S + 1.0)
        if self._thread.is_alive():
            return False  # stuck waiting for a lock: the connection is still its
        unfinished = [c.run_id for c in self._cursors if (run := c.run) and not run.done]
        try:
            with transaction(self._conn):
                self._conn.executemany(
                    "UPDATE runs SET state = ? WHERE id = ?",
                    [(INTERRUPTED, run_id) for run_id in unfinished],
                )
        except sqlite3.Error as exc:
            self.problem = describe_database_error(self.path, exc)
            written = False
        self._conn.close()
        return written

    # -- the writer thread ------------------------------------------------------------

    def _loop(self) -> None:
        spent = 0.0
        while not self._closing:
            self._wake.wait(max(0.0, self.interval - spent))
            self._wake.clear()
            began = time.perf_counter()
            with self._done_pass:
                covering = self._requested
            if self._write_pass(drain=covering > self._completed):
                with self._done_pass:
                    self._completed = covering
                    self._done_pass.notify_all()
            spent = time.perf_counter() - began

    def _write_pass(self, drain: bool) -> bool:
        """Write what is new (within the CPU budget unless `drain`); True if all was read
        and committed."""
        with self._lock:
            self._cursors.extend(self._new)
            self._new.clear()
        batch = Batch()
        live: list[str] = []
        kept: list[RunCursor] = []
        pass_ends = time.perf_counter() + self.interval
        complete = True
        for cursor in self._cursors:
            run = cursor.run
            if run is None:
                continue  # finished, written, and gone
            end = run._log.complete
            try:
                while cursor.index < end:
                    throttled = not (drain or run.done)
                    began = time.perf_counter()
                    if throttled and began >= pass_ends:
                        break
                    stop = min(end, cursor.index + _CHUNK_ROWS)
                    batch.extend(cursor, run, cursor.index, stop)
                    cursor.index = stop
                    if throttled:  # pause: reading takes LIVE_BUDGET_SHARE of the time
                        now = time.perf_counter()
                        pause = (now - began) * (1 / LIVE_BUDGET_SHARE - 1)
                        time.sleep(max(0.0, min(pause, pass_ends - now)))
            except Exception as exc:  # a bug here must cost this run's record, nothing more
                _log.exception("recording run %s failed; it is no longer recorded", run.id)
                self.problem = f"recording run {run.id} failed ({exc!r}); it is no longer recorded"
                continue
            kept.append(cursor)
            complete &= cursor.index >= end
            if not run.done:
                live.append(run.id)
            elif cursor.index >= end:
                cursor.let_go()
        self._cursors = kept
        for child, parent_id in batch.children:
            file = next((c.file for c in kept if c.run_id == parent_id), None)
            self._cursors.append(RunCursor(child, file))
        if batch:
            self._backlog.append(batch)
        now = time.time()
        try:
            with transaction(self._conn):
                for pending in self._backlog:
                    _write(self._conn, pending)
                self._conn.executemany(HEARTBEAT_SQL, [(now, run_id) for run_id in live])
        except sqlite3.Error as exc:
            self.problem = self._db_problem = describe_database_error(self.path, exc)
            return False
        self._backlog.clear()
        if self.problem is self._db_problem:  # the database is fine again
            self.problem = self._db_problem = None
        return complete


def _write(conn: sqlite3.Connection, batch: Batch) -> None:
    conn.executemany(RUN_SQL, [(*row, time.time()) for row in batch.runs.values()])
    conn.executemany(NEW_NODE_SQL, batch.new_nodes.values())
    conn.executemany(NODE_SQL, batch.node_updates.values())
    conn.executemany(NEW_ATTEMPT_SQL, batch.new_attempts.values())
    conn.executemany(ATTEMPT_SQL, batch.attempt_updates.values())
    conn.executemany(MESSAGE_SQL, batch.messages)
    conn.executemany(OCCUPANCY_SQL, batch.occupancy)
    conn.executemany(COUNTS_SQL, [{"id": run_id} for run_id in batch.finished])
