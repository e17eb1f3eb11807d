"""`RunStore`: reading the run history, and keeping it tidy (interrupted runs, retention)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._db import (
    StoreError,
    check_not_damaged,
    connect,
    default_store_path,
    describe_database_error,
)
from ._encode import decode, unrestorable_keys
from ._recorder import INTERRUPTED, Recorder
from ._rows import HOST
from ._schema import transaction

#: a live run's writer updates its row several times a second; silence this long means
#: the process is gone even where its pid cannot be checked (another host)
STALE_AFTER_S = 30.0
_UNFINISHED = ("pending", "running")
#: retention the command line and the monitor apply when they open the history
KEEP_RUNS = 1000


@dataclass(frozen=True)
class RunSummary:
    """One line of the history: what `graphdeck history` and the history pane list."""

    id: str
    graph: str
    file: str | None
    state: str
    started_at: float | None
    finished_at: float | None
    parent_id: str | None
    nodes: int
    unsuccessful: int
    error: str | None

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


@dataclass
class StoredAttempt:
    number: int
    state: str
    started_at: float | None
    finished_at: float | None
    inputs: dict[str, Any] | None
    outputs: dict[str, Any] | None
    restorable: bool
    error: str | None
    traceback: str | None
    worker: str | None


@dataclass
class StoredNode:
    id: str
    tool: str
    kind: str
    group: str | None
    upstream: list[str]
    inputs: dict[str, Any]
    state: str
    error: str | None
    finished_at: float | None
    attempts: list[StoredAttempt] = field(default_factory=list)

    @property
    def outputs(self) -> dict[str, Any] | None:
        """Outputs of the last attempt that produced any."""
        for attempt in reversed(self.attempts):
            if attempt.outputs is not None:
                return attempt.outputs
        return None

    @property
    def restorable_outputs(self) -> dict[str, Any] | None:
        """The outputs, if the node succeeded and every value can be fed back into a run."""
        if self.state != "succeeded":
            return None
        for attempt in reversed(self.attempts):
            if attempt.outputs is not None:
                return attempt.outputs if attempt.restorable else None
        return None


@dataclass
class StoredRun:
    """A run as the history has it: everything needed to show it and to run it again."""

    summary: RunSummary
    inputs: dict[str, Any]
    inputs_restorable: bool
    max_concurrency: int | None
    on_error: str | None
    outputs: dict[str, Any] | None
    rounds: int
    nodes: list[StoredNode]
    #: time, kind ("channel" or "warning"), source (the channel, or the warning's kind),
    #: node, text, details (JSON text of a warning's details, or None)
    messages: list[tuple[float, str, str | None, str | None, str, str | None]]
    occupancy: list[
        tuple[float, str | None, int, int, int | None]
    ]  # time, group, active, peak, cap
    children: list[str]

    @property
    def id(self) -> str:
        return self.summary.id


_SUMMARY_SQL = """
SELECT r.id, r.graph, r.file, r.state, r.started_at, r.finished_at, r.parent_id,
       coalesce(r.nodes, (SELECT count(*) FROM nodes n WHERE n.run_id = r.id)),
       coalesce(r.unsuccessful, (SELECT count(*) FROM nodes n WHERE n.run_id = r.id
            AND n.state IN ('failed', 'timed_out', 'cancelled', 'skipped'))),
       r.error
FROM runs r
"""


class RunStore:
    """The history database at `path` (default: `default_store_path()`).

    Opening it marks runs whose process is gone as "interrupted", after checking the file
    (`PRAGMA quick_check`): a writer that died mid-run is when damage is likeliest to have
    happened, and writing into a damaged file makes it worse. Raises `StoreError` with a
    message meant for the user when the file is damaged, locked or too new.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        with self._connection() as conn:
            self.interrupted = _mark_interrupted(conn, self.path)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn = connect(self.path)
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe_database_error(self.path, exc)) from exc
        finally:
            conn.close()

    def recorder(self, **options: Any) -> Recorder:
        """A writer for new runs into this store (one per process is enough)."""
        return Recorder(self.path, **options)

    # -- reading ----------------------------------------------------------------------

    def runs(
        self,
        *,
        graph: str | None = None,
        state: str | None = None,
        since: float | None = None,
        until: float | None = None,
        top_level: bool = True,
        limit: int | None = 200,
    ) -> list[RunSummary]:
        """Newest first. `graph` matches names as a substring; times are epoch seconds."""
        where, params = [], []
        if graph:
            where.append("r.graph LIKE ? ESCAPE '\\'")
            params.append("%" + graph.replace("\\", "\\\\").replace("%", "\\%") + "%")
        if state:
            where.append("r.state = ?")
            params.append(state)
        if since is not None:
            where.append("r.started_at >= ?")
            params.append(since)
        if until is not None:
            where.append("r.started_at < ?")
            params.append(until)
        if top_level:
            where.append("r.parent_id IS NULL")
        sql = _SUMMARY_SQL + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY r.started_at DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._connection() as conn:
            return [RunSummary(*row) for row in conn.execute(sql, params)]

    def graphs(self) -> list[str]:
        with self._connection() as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT graph FROM runs ORDER BY graph")]

    def resolve(self, run_id: str) -> str:
        """The full id of a run given its id or an unambiguous prefix of it."""
        with self._connection() as conn:
            found = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM runs WHERE id >= ? AND id < ? LIMIT 2",
                    (run_id, run_id + "\U0010ffff"),
                )
            ]
        if not found:
            raise LookupError(f"no run {run_id!r} in the history {self.path}")
        if len(found) > 1 and run_id not in found:
            raise LookupError(f"run id {run_id!r} is ambiguous: give more characters")
        return run_id if run_id in found else found[0]

    def load(self, run_id: str) -> StoredRun:
        run_id = self.resolve(run_id)
        with self._connection() as conn:
            return _load(conn, run_id)

    # -- housekeeping -----------------------------------------------------------------

    def prune(self, *, max_runs: int | None = None, max_age_days: float | None = None) -> int:
        """Delete the oldest finished top-level runs (with their child runs) beyond
        `max_runs`, and those older than `max_age_days`. Returns how many were deleted."""
        with self._connection() as conn, transaction(conn):
            doomed: set[str] = set()
            finished = "state NOT IN ('pending', 'running') AND parent_id IS NULL"
            if max_runs is not None:
                doomed.update(
                    r[0]
                    for r in conn.execute(
                        f"SELECT id FROM runs WHERE {finished} ORDER BY started_at DESC "
                        "LIMIT -1 OFFSET ?",
                        (max(0, max_runs),),
                    )
                )
            if max_age_days is not None:
                cutoff = time.time() - max_age_days * 86400
                doomed.update(
                    r[0]
                    for r in conn.execute(
                        f"SELECT id FROM runs WHERE {finished} AND started_at < ?", (cutoff,)
                    )
                )
            return _delete(conn, doomed)

    def delete(self, run_id: str) -> int:
        """Delete a run (id or unambiguous prefix) and its child runs; how many went."""
        run_id = self.resolve(run_id)
        with self._connection() as conn, transaction(conn):
            return _delete(conn, {run_id})

    def integrity_check(self) -> str:
        with self._connection() as conn:
            return conn.execute("PRAGMA integrity_check").fetchone()[0]


_RUN_TABLES = (
    ("nodes", "run_id"),
    ("attempts", "run_id"),
    ("messages", "run_id"),
    ("occupancy", "run_id"),
    ("runs", "id"),
)


def _delete(conn: sqlite3.Connection, run_ids: set[str]) -> int:
    """Delete these runs, their child runs and all their rows (inside a transaction)."""
    doomed = run_ids | _descendants(conn, run_ids)
    rows = [(run_id,) for run_id in doomed]
    for table, column in _RUN_TABLES:
        conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", rows)
    return len(doomed)


def _descendants(conn: sqlite3.Connection, run_ids: set[str]) -> set[str]:
    found: set[str] = set()
    frontier = list(run_ids)
    while frontier:
        marks = ",".join("?" * len(frontier[:500]))
        batch, frontier = frontier[:500], frontier[500:]
        children = [
            r[0] for r in conn.execute(f"SELECT id FROM runs WHERE parent_id IN ({marks})", batch)
        ]
        new = [c for c in children if c not in found and c not in run_ids]
        found.update(new)
        frontier.extend(new)
    return found


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _mark_interrupted(conn: sqlite3.Connection, path: Path) -> list[str]:
    """Runs left "running" by a process that is gone are "interrupted". Such runs are the
    sign that the file was not closed cleanly: it is checked before anything is written
    (StoreError if damaged)."""
    now = time.time()
    gone = [
        run_id
        for run_id, host, pid, updated in conn.execute(
            "SELECT id, host, pid, updated_at FROM runs WHERE state IN (?, ?)", _UNFINISHED
        )
        if (host == HOST and pid is not None and pid != os.getpid() and not _pid_alive(pid))
        or (updated is not None and now - updated > STALE_AFTER_S)
    ]
    if gone:
        check_not_damaged(conn, path)
        with transaction(conn):
            conn.executemany(
                "UPDATE runs SET state = ? WHERE id = ?", [(INTERRUPTED, r) for r in gone]
            )
    return gone


def _load(conn: sqlite3.Connection, run_id: str) -> StoredRun:
    summary = RunSummary(*conn.execute(_SUMMARY_SQL + " WHERE r.id = ?", (run_id,)).fetchone())
    inputs, restorable, cap, on_error, outputs, rounds = conn.execute(
        "SELECT inputs, inputs_restorable, max_concurrency, on_error, outputs, rounds "
        "FROM runs WHERE id = ?",
        (run_id,),
    ).fetchone()
    nodes: dict[str, StoredNode] = {}
    for node_id, tool, kind, group, upstream, node_inputs, state, error, finished in conn.execute(
        "SELECT node_id, tool, kind, grp, upstream, inputs, state, error, finished_at "
        "FROM nodes WHERE run_id = ? ORDER BY seq",
        (run_id,),
    ):
        nodes[node_id] = StoredNode(
            node_id,
            tool or "?",
            kind or "tool",
            group,
            decode(upstream) or [],
            decode(node_inputs) or {},
            state or "pending",
            error,
            finished,
        )
    for row in conn.execute(
        "SELECT node_id, attempt, state, started_at, finished_at, inputs, outputs, restorable, "
        "error, traceback, worker FROM attempts WHERE run_id = ? ORDER BY node_id, attempt",
        (run_id,),
    ):
        node = nodes.get(row[0])
        if node is not None:
            node.attempts.append(
                StoredAttempt(
                    row[1],
                    row[2] or "running",
                    row[3],
                    row[4],
                    decode(row[5]),
                    decode(row[6]),
                    bool(row[7]),
                    row[8],
                    row[9],
                    row[10],
                )
            )
    messages = list(
        conn.execute(
            "SELECT time, kind, source, node_id, text, details FROM messages "
            "WHERE run_id = ? ORDER BY time",
            (run_id,),
        )
    )
    occupancy = list(
        conn.execute(
            "SELECT time, grp, active, peak, cap FROM occupancy WHERE run_id = ? ORDER BY time",
            (run_id,),
        )
    )
    children = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM runs WHERE parent_id = ? ORDER BY started_at", (run_id,)
        )
    ]
    decoded_inputs = decode(inputs) or {}
    return StoredRun(
        summary,
        decoded_inputs,
        bool(restorable) and not unrestorable_keys(decoded_inputs),
        cap,
        on_error,
        decode(outputs),
        rounds,
        list(nodes.values()),
        messages,
        occupancy,
        children,
    )


def load_with_children(store: RunStore, run_id: str) -> tuple[StoredRun, list[StoredRun]]:
    """The run and every run nested under it (depth first, parents before children)."""
    run = store.load(run_id)
    descendants: list[StoredRun] = []
    pending = list(run.children)
    while pending:
        child = store.load(pending.pop(0))
        descendants.append(child)
        pending[:0] = child.children
    return run, descendants
