"""`Recorder`: writes runs into the history database, off the event loop.

`record()` writes the run's own row at once, on the caller's thread (one small
transaction), so a run killed in its first moments is still listed, as interrupted.
Everything else is written by the writer thread: every `interval` seconds (200 ms) it
reads what is new in each recorded run's event log (the log is append-only and read by
index, docs/design.md §2.1) and commits it, in transactions of at most TRANSACTION_ROWS log
rows. A killed process therefore loses at most the last interval of events (while the
writer keeps up within its time budget: see TimeBudget), and a slow disk slows the
history, never the run.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from .. import Run
from ._budget import TimeBudget
from ._db import BUSY_TIMEOUT_S, StoreError, check_writable, connect
from ._problems import Problems
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

WRITE_INTERVAL_S = 0.2
#: how long `close()` waits for the last writes
CLOSE_TIMEOUT_S = 10.0
#: share of wall time the writer may spend reading logs while a run is live, on average
#: (see TimeBudget): a run that emits events faster than this allows is written with some
#: delay, and in full as soon as it ends (or on `flush`)
LIVE_BUDGET_SHARE = 0.05
#: time the writer may spend reading at once after being idle: the start of a run of ~3,000
#: nodes (its graph and first wave of nodes) written as it happens, for at most 20 ms
#: taken from the run once
LIVE_BURST_S = 0.02
_CHUNK_ROWS = 250  # log rows read between two looks at the budget (~0.5 ms of work)
#: log rows (~5 per node) read into one transaction at most: memory for ~100,000 nodes'
#: rows, and the file's write lock held for a second or so. Not less: a node whose rows
#: fall into two transactions is written twice (an insert, then an update), which made
#: writing a 100,000-node run three times slower at 20,000 rows per transaction.
TRANSACTION_ROWS = 500_000
#: log rows of finished runs the writer may lag behind before `record()` waits for it:
#: ~50,000 nodes, ~50 MB of finished runs kept for it (measured: ~200 B per log row), about
#: a second of writing
MAX_BACKLOG_ROWS = 250_000
#: longest `record()` waits for the connection or the file's lock to write the run's row;
#: past it the writer thread writes the row with the rest. `record()` runs on the event
#: loop's thread: this stays under the loop-block threshold (0.1 s), so a locked file never
#: shows as the caller blocking the loop (a write takes ~0.5 ms otherwise)
RECORD_WAIT_S = 0.05
INTERRUPTED = "interrupted"
_log = logging.getLogger("graphdeck.store")


class Recorder:
    """Records runs (and their child runs) into the database at `path`.

    Opening fails with `StoreError` (damaged, locked, read-only, newer schema) before any
    thread starts. Later write errors (a lock held too long, a full disk) keep the
    unwritten rows for the next attempt, and `problem` says what is not recorded in one
    line starting "history not recorded: ". `close()` returns False when rows could not be
    written and `problem` then names the runs left incomplete: rows are never dropped
    without saying so.

    The backlog is bounded by backpressure, not by coalescing. When the writer is more
    than `max_backlog` log rows (~5 per node) behind on finished runs, `record()` waits
    for it before accepting the next run: a process starting runs faster than they can be
    written is slowed to the writer's pace, and memory holds at most `max_backlog` rows of
    finished runs besides the runs still going. Coalescing (keeping only a summary of the
    runs past the limit) would keep the runs fast but lose their nodes, attempts and
    outputs, which are what the history is for. While the database cannot be written at
    all, waiting would not help: a run arriving past the limit is then not recorded, and
    `problem` says so.
    """

    def __init__(
        self,
        path: Path,
        *,
        interval: float = WRITE_INTERVAL_S,
        max_backlog: int = MAX_BACKLOG_ROWS,
    ) -> None:
        self.path = path
        self.interval = interval
        self.max_backlog = max_backlog
        #: CPU time the writer thread has spent (reading logs, encoding, SQLite)
        self.writer_cpu_s = 0.0
        self._problems = Problems(path)
        self._conn = connect(path)
        try:
            check_writable(self._conn, path)
        except StoreError:
            self._conn.close()
            raise
        # Invariant: held around every use of _conn once the writer thread runs (its
        # commits, `record()`'s run row, `close()`'s last update).
        self._conn_lock = threading.Lock()
        self._cursors: list[RunCursor] = []  # the writer thread's
        self._new: list[RunCursor] = []  # Invariant: guarded by _lock
        self._backlog: list[Batch] = []  # read but not committed (the writer thread's)
        self._reading = Batch()  # the batch the writer is reading into (counted as behind)
        self._budget = TimeBudget(LIVE_BUDGET_SHARE, LIVE_BURST_S)  # the writer thread's
        self._progress = threading.Condition()  # notified after every commit
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._done_pass = threading.Condition()
        self._requested = 0  # flush requests made
        self._completed = 0  # flush requests a finished pass has covered
        self._failed = 0  # flush requests a pass failed for a reason waiting does not fix
        self._closing = False  # tells the writer thread to stop
        self._close_lock = threading.Lock()
        self._close_started = False
        self._written = False
        # Invariant: _thread_done and _abandoned change under _exit_lock only; whichever
        # of the writer thread and `close()` comes second closes the connection.
        self._exit_lock = threading.Lock()
        self._thread_done = False
        self._abandoned = False
        self._thread = threading.Thread(target=self._loop, name="graphdeck-history", daemon=True)
        self._thread.start()

    @property
    def problem(self) -> str | None:
        """What is not recorded, in one line for the user (None: all is being written)."""
        return self._problems.line

    @property
    def backlog(self) -> int:
        """Log rows (~5 per node) of finished runs not written yet.

        Counted from the writer's cursors while it works on another thread: an estimate
        by a chunk of rows at most, which is all a bound needs."""
        with self._lock:
            cursors = [*self._cursors, *self._new]
        batches, reading = list(self._backlog), self._reading
        if all(batch is not reading for batch in batches):
            batches.append(reading)
        rows = sum(batch.rows_read for batch in batches)
        for cursor in cursors:
            run = cursor.run
            if run is not None and run.done:
                rows += run.event_count - cursor.index
        return rows

    def record(self, run: Run, *, file: str | Path | None = None) -> bool:
        """Record `run` from its first event on (call it right after `start()`).

        The run's row is written before this returns (unless the file stays locked past
        RECORD_WAIT_S), so the run is listed even if the process is killed at once. Waits
        while the writer is more than `max_backlog` rows behind (see the class docstring).
        Returns whether the run will be recorded; if not, `problem` says why."""
        refused = self._make_room()
        if refused is not None:
            self._problems.lose(run.id, run.name, refused)
            return False
        cursor = RunCursor(run, None if file is None else str(file))
        self._write_run_row(cursor, run)
        with self._lock:
            self._new.append(cursor)
        return True

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Block until everything recorded so far is written. False on timeout, and at once
        when a write failed for a reason waiting does not fix (a read-only file, a full
        disk): `problem` says what."""
        with self._done_pass:
            self._requested += 1
            wanted = self._requested
            self._wake.set()
            self._done_pass.wait_for(
                lambda: self._completed >= wanted or self._failed >= wanted, timeout
            )
            return self._completed >= wanted

    @property
    def closed(self) -> bool:
        """`close()` was called (it may still be writing the last rows)."""
        return self._close_started

    def close(self, timeout: float | None = None) -> bool:
        """Write what is left, mark runs that did not finish as interrupted, stop. Gives
        up after `timeout` seconds (default CLOSE_TIMEOUT_S: a database locked for good must
        not keep the app from exiting). Returns whether everything was written; if not,
        `problem` names the runs left incomplete. Safe to call from any thread, more than
        once: later calls wait for the first and return its answer."""
        with self._close_lock:
            if not self._close_started:
                with self._progress:  # wakes `record()` calls waiting for room: they refuse
                    self._close_started = True
                    self._progress.notify_all()
                self._written = self._shut_down(CLOSE_TIMEOUT_S if timeout is None else timeout)
            return self._written

    # -- the caller's side --------------------------------------------------------------

    def _make_room(self) -> str | None:
        """Wait while the writer is too far behind; why the run cannot be recorded, if so."""
        with self._progress:
            while True:
                if self._close_started:
                    return "the recorder was already closed"
                behind = self.backlog
                if behind <= self.max_backlog:
                    return None
                if self._problems.database is not None:
                    return (
                        f"{behind:,} rows of earlier runs are still waiting for the "
                        f"database ({self._problems.database})"
                    )
                if not self._thread.is_alive():
                    return "the history writer has stopped"
                self._wake.set()
                self._progress.wait(self.interval)

    def _write_run_row(self, cursor: RunCursor, run: Run) -> None:
        """Write the run's row (its RunStarted event, the log's first row) now, in one small
        transaction; if the connection or the file stays busy past RECORD_WAIT_S, or the
        write fails, the writer thread writes it with the rest."""
        if run.event_count == 0 or not self._conn_lock.acquire(timeout=RECORD_WAIT_S):
            return
        conn = self._conn
        try:
            batch = Batch()
            batch.extend(cursor, run, 0, 1)
            conn.execute(f"PRAGMA busy_timeout = {int(RECORD_WAIT_S * 1000)}")
            try:
                with transaction(conn):
                    _write(conn, batch)
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        except sqlite3.Error as exc:
            self._problems.write_failed(exc)
            return  # the cursor stays at row 0
        except Exception:  # a bug in reading the row: the writer meets it too, and says so
            return
        finally:
            self._conn_lock.release()
        cursor.index = 1

    # -- the writer thread ------------------------------------------------------------

    def _loop(self) -> None:
        spent = 0.0
        while not self._closing:
            self._wake.wait(max(0.0, self.interval - spent))
            self._wake.clear()
            began, cpu = time.perf_counter(), time.thread_time()
            with self._done_pass:
                covering = self._requested
            written = self._write_pass(drain=covering > self._completed)
            self.writer_cpu_s += time.thread_time() - cpu  # before a flush returns
            with self._done_pass:
                if written:
                    self._completed = covering
                elif self._problems.database is not None and not self._problems.worth_waiting:
                    self._failed = covering
                self._done_pass.notify_all()
            spent = time.perf_counter() - began
        with self._exit_lock:
            self._thread_done = True
            if self._abandoned:
                self._conn.close()

    def _write_pass(self, drain: bool) -> bool:
        """Commit what a failed write left, then read what is new (within the time budget
        unless `drain`) and commit it. True if everything was read and committed."""
        if self._backlog and not self._commit():
            return False  # read nothing more while the database fails: memory stays bounded
        with self._lock:
            self._cursors.extend(self._new)
            self._new.clear()
        batch = self._reading = Batch()
        pass_ends = time.perf_counter() + self.interval
        complete = True
        for cursor in list(self._cursors):  # child runs found on the way: next pass
            run = cursor.run
            if run is None:
                continue  # finished, written, and gone
            end = run.event_count
            try:
                while cursor.index < end:
                    throttled = not (drain or run.done)
                    if throttled and not self._budget.wait(until=pass_ends):
                        break
                    began = time.perf_counter()  # wall time holding the GIL: the run's loss
                    stop = min(end, cursor.index + _CHUNK_ROWS)
                    batch.extend(cursor, run, cursor.index, stop)
                    cursor.index = stop
                    if throttled:
                        self._budget.spend(time.perf_counter() - began)
                    if batch.rows_read >= TRANSACTION_ROWS:
                        if not self._commit(batch):
                            return False
                        batch = self._reading = Batch()
            except Exception as exc:  # a bug here must cost this run's record, nothing more
                _log.exception("recording run %s failed; it is no longer recorded", run.id)
                self._cursors.remove(cursor)
                self._problems.lose(run.id, run.name, f"recording it failed ({exc!r})")
                continue
            complete &= cursor.index >= end
            if run.done and cursor.index >= end:
                cursor.let_go()
        self._cursors = [cursor for cursor in self._cursors if cursor.run is not None]
        return self._commit(batch, heartbeat=True) and complete

    def _commit(self, batch: Batch | None = None, *, heartbeat: bool = False) -> bool:
        """Commit the backlog and `batch` in one transaction (with the live runs' heartbeat).
        On failure everything stays in the backlog for the next attempt."""
        if batch is not None:
            self._follow_children(batch)
            if batch:
                self._backlog.append(batch)
        live = []
        if heartbeat:
            live = [c.run_id for c in self._cursors if (run := c.run) and not run.done]
        if self._backlog or live:
            now = time.time()
            try:
                with self._conn_lock, transaction(self._conn):
                    for pending in self._backlog:
                        _write(self._conn, pending)
                    self._conn.executemany(HEARTBEAT_SQL, [(now, run_id) for run_id in live])
            except sqlite3.Error as exc:
                self._problems.write_failed(exc)
                return False
            self._backlog.clear()
            self._reading = Batch()  # what it held is written
            self._problems.write_worked()
        with self._progress:
            self._progress.notify_all()
        return True

    def _follow_children(self, batch: Batch) -> None:
        for child, parent_id in batch.children:
            file = next((c.file for c in self._cursors if c.run_id == parent_id), None)
            self._cursors.append(RunCursor(child, file))
        batch.children.clear()

    # -- closing ------------------------------------------------------------------------

    def _shut_down(self, timeout: float) -> bool:
        written = self._thread.is_alive() and self.flush(timeout)
        self._closing = True
        self._wake.set()
        self._thread.join(BUSY_TIMEOUT_S + 1.0)
        with self._exit_lock:
            stuck = self._abandoned = not self._thread_done
        if not stuck:  # the connection is ours again
            unfinished = [c.run_id for c in self._cursors if (run := c.run) and not run.done]
            try:
                if unfinished:
                    with self._conn_lock, transaction(self._conn):
                        self._conn.executemany(
                            "UPDATE runs SET state = ? WHERE id = ?",
                            [(INTERRUPTED, run_id) for run_id in unfinished],
                        )
            except sqlite3.Error as exc:
                self._problems.write_failed(exc)
                written = False
            self._conn.close()
        self._problems.closed(None if written else self._unwritten(), gave_up_after=timeout)
        return written

    def _unwritten(self) -> dict[str, str]:
        """Runs (id -> graph) with rows not written: read but not committed, or not read."""
        with self._lock:
            cursors = [*self._cursors, *self._new]
        graphs = {cursor.run_id: cursor.graph for cursor in cursors}
        runs = {run_id: graphs.get(run_id, "") for b in self._backlog for run_id in b.read}
        for cursor in cursors:
            run = cursor.run
            if run is not None and cursor.index < run.event_count:
                runs[cursor.run_id] = cursor.graph
        return runs


def _write(conn: sqlite3.Connection, batch: Batch) -> None:
    conn.executemany(RUN_SQL, [(*row, time.time()) for row in batch.runs.values()])
    conn.executemany(NEW_NODE_SQL, batch.new_nodes)
    conn.executemany(NODE_SQL, batch.node_updates)
    conn.executemany(NEW_ATTEMPT_SQL, batch.new_attempts)
    conn.executemany(ATTEMPT_SQL, batch.attempt_updates)
    conn.executemany(MESSAGE_SQL, batch.messages)
    conn.executemany(OCCUPANCY_SQL, batch.occupancy)
    conn.executemany(COUNTS_SQL, [{"id": run_id} for run_id in batch.finished])
