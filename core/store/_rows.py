"""Turning a batch of a run's events into rows for the history database.

The writer reads a run's log every ~200 ms; a batch may hold a node's whole life or just
one step of it. Rows are merged per key within the batch and written as UPSERTs, so a
node that started and finished inside one batch costs one row write, and a column the
batch knows nothing about keeps the value an earlier batch wrote.
"""

from __future__ import annotations

import os
import socket
import weakref
from typing import Any

from .. import Node, NodeState, Run
from ..events import (
    ChannelMessage,
    ChildRunStarted,
    Event,
    GroupOccupancyChanged,
    NodeInputsEdited,
    NodePlaced,
    OccupancyChanged,
    RunFinished,
    RunStarted,
    RunWarning,
)
from ._encode import describe_error, encode_inputs, encode_mapping
from ._encode import dumps as _encode

HOST = socket.gethostname()
PENDING, FAILED, TIMED_OUT = "pending", NodeState.FAILED.value, NodeState.TIMED_OUT.value
#: what a state row does to the node's open attempt (see `_STATE_ROWS`)
_OPENS, _CLOSES, _RETRIES = "opens", "closes", "retries"


def _attempt_step(state: NodeState) -> str | None:
    if state is NodeState.RUNNING:
        return _OPENS
    if state is NodeState.RETRYING:
        return _RETRIES
    return _CLOSES if state.is_terminal else None


_UNSUCCESSFUL = [s for s in NodeState if s.is_terminal and s is not NodeState.SUCCEEDED]
#: a state -> (state as str, terminal, attempt step): one lookup per state row
_STATE_ROWS: dict[NodeState, tuple[str, bool, str | None]] = {
    state: (state.value, state.is_terminal, _attempt_step(state)) for state in NodeState
}
#: NULL in node and attempt rows. Binding None costs CPython's sqlite3 an adapter lookup
#: per value (measured: ~1 µs each, a third of the SQL time of a node), an exact str
#: none; the statements turn it back into NULL with `nullif(?, '')`.
# Invariant: '' is never a real value of a node or attempt column (ids, tool names and
# groups are non-empty, JSON and error texts never empty), so it can stand for NULL.
NULL = ""
_UNKNOWN = (NULL,) * 9  # every column after the key (nodes: 2 + 9, attempts: 3 + 9)
_NO_RESULT = (NULL,) * 5  # an attempt's outputs, restorable, error, traceback, worker

# Columns written by NULL-keeping UPSERTs: "keep" columns keep the stored value when the
# batch has none; "follow" columns are replaced whenever the batch knows the state (an
# error or end time belongs to the state that set it, and a re-run clears them).
RUN_SQL = """
INSERT INTO runs (id, parent_id, graph, file, inputs, inputs_restorable, max_concurrency,
                  on_error, state, started_at, finished_at, error, outputs, rounds, host, pid,
                  updated_at)
VALUES (?, ?, ?, ?, ?, coalesce(?, 1), ?, ?, ?, ?, ?, ?, ?, coalesce(?, 0), ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    state = coalesce(excluded.state, state),
    finished_at = CASE WHEN excluded.state IS NULL THEN finished_at ELSE excluded.finished_at END,
    error = CASE WHEN excluded.state IS NULL THEN error ELSE excluded.error END,
    outputs = CASE WHEN excluded.state IS NULL THEN outputs ELSE excluded.outputs END,
    rounds = max(rounds, excluded.rounds),
    updated_at = excluded.updated_at
"""


def _insert(table: str, key: tuple[str, ...], rest: tuple[str, ...]) -> str:
    """INSERT of a row given as `key` columns then `rest`, where NULL stands for NULL."""
    values = ["?"] * len(key) + [f"nullif(?, '{NULL}')"] * len(rest)
    return f"INSERT INTO {table} ({', '.join((*key, *rest))}) VALUES ({', '.join(values)})"


def _upsert(
    table: str, key: tuple[str, ...], keep: tuple[str, ...], follow: tuple[str, ...] = ()
) -> str:
    """INSERT … ON CONFLICT DO UPDATE for `table`: `keep` columns keep the stored value when
    the row has NULL; `follow` columns take the row's value whenever it carries a state."""
    updates = [f"{c} = coalesce(excluded.{c}, {c})" for c in keep] + [
        f"{c} = CASE WHEN excluded.state IS NULL THEN {c} ELSE excluded.{c} END" for c in follow
    ]
    return (
        f"{_insert(table, key, (*keep, *follow))} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(updates)}"
    )


# Column order = the order of the rows Batch builds (and of the tables' definitions).
_NODE_KEY = ("run_id", "node_id")
_NODE_KEEP = ("seq", "tool", "kind", "grp", "upstream", "inputs", "state")
_NODE_FOLLOW = ("error", "finished_at")
_ATTEMPT_KEY = ("run_id", "node_id", "attempt")
_ATTEMPT_KEEP = (
    "state",
    "started_at",
    "finished_at",
    "inputs",
    "outputs",
    "restorable",
    "error",
    "traceback",
    "worker",
)
NODE_SQL = _upsert("nodes", _NODE_KEY, _NODE_KEEP, _NODE_FOLLOW)
ATTEMPT_SQL = _upsert("attempts", _ATTEMPT_KEY, _ATTEMPT_KEEP)
NEW_NODE_SQL = _insert("nodes", _NODE_KEY, (*_NODE_KEEP, *_NODE_FOLLOW))
NEW_ATTEMPT_SQL = _insert("attempts", _ATTEMPT_KEY, _ATTEMPT_KEEP)
MESSAGE_SQL = (
    "INSERT INTO messages (run_id, time, kind, source, node_id, text, details) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
OCCUPANCY_SQL = "INSERT INTO occupancy VALUES (?, ?, ?, ?, ?, ?)"
HEARTBEAT_SQL = "UPDATE runs SET updated_at = ? WHERE id = ?"
#: a finished run's node counts, kept on its row so listing the history reads no nodes
COUNTS_SQL = f"""
UPDATE runs SET
    nodes = (SELECT count(*) FROM nodes WHERE run_id = :id),
    unsuccessful = (SELECT count(*) FROM nodes WHERE run_id = :id AND state IN
                    ({", ".join(f"'{state.value}'" for state in _UNSUCCESSFUL)}))
WHERE id = :id
"""


class RunCursor:
    """How far the writer has read one run, and what it must remember between batches."""

    __slots__ = (
        "_strong",
        "_weak",
        "file",
        "graph",
        "index",
        "open_attempts",
        "run_id",
        "seq",
        "waiting_inputs",
    )

    def __init__(self, run: Run, file: str | None) -> None:
        self.run_id = run.id
        self.graph = run.name
        self._strong: Run | None = run
        self._weak = weakref.ref(run)
        self.file = file
        self.index = 0
        self.seq = 0  # order of the nodes as they were added
        self.open_attempts: set[str] = set()  # node ids with a RUNNING attempt not yet closed
        self.waiting_inputs: dict[str, dict[str, Any]] = {}  # resolved, not yet running

    @property
    def run(self) -> Run | None:
        """The run; None once it finished, was written and nobody else holds it."""
        return self._strong or self._weak()

    def let_go(self) -> None:
        """Hold the run weakly from now on: the writer must not keep finished runs alive,
        yet a re-run of a run someone still holds is recorded like the first round."""
        self._strong = None


class Batch:
    """Rows for one write transaction, merged per key.

    Rows born in this batch (a node added, an attempt started) are complete and go in
    with plain INSERTs; rows that only update what an earlier batch wrote go through the
    NULL-keeping UPSERTs above. Each table's rows are kept as lists ready for one
    `executemany` (no object per row besides the row itself), and states and kinds as
    plain str: binding an enum costs SQLite's adapter lookup per value.
    """

    def __init__(self) -> None:
        self.runs: dict[str, list[Any]] = {}
        self.new_nodes: list[list[Any]] = []
        self.node_updates: list[list[Any]] = []
        self.new_attempts: list[list[Any]] = []
        self.attempt_updates: list[list[Any]] = []
        self.messages: list[tuple[Any, ...]] = []
        self.occupancy: list[tuple[Any, ...]] = []
        self.children: list[tuple[Run, str]] = []  # child runs to follow (run, parent id)
        self.finished: list[str] = []  # runs that ended in this batch (to count their nodes)
        #: runs whose log rows this batch holds (what a failed write leaves unwritten)
        self.read: set[str] = set()
        self.rows_read = 0  # log rows read into this batch (a plain int: read across threads)
        # Invariant: every row of new_nodes/node_updates is in _nodes[run id][node id], and
        # every row of new_attempts/attempt_updates in _attempts[run id][(node id, attempt)].
        self._nodes: dict[str, dict[str, list[Any]]] = {}
        self._attempts: dict[str, dict[tuple[str, int], list[Any]]] = {}

    def __bool__(self) -> bool:
        return bool(
            self.runs
            or self.new_nodes
            or self.node_updates
            or self.new_attempts
            or self.attempt_updates
            or self.messages
            or self.occupancy
        )

    def extend(self, cursor: RunCursor, run: Run, index: int, end: int) -> None:
        """Read events `index` to `end` of `run` as rows (`Run.visit`: no event objects)."""
        run_id = run.id
        self.read.add(run_id)
        self.rows_read += end - index
        run.visit(_RowsOfRun(self, cursor, run), index, end)

    def _event(self, cursor: RunCursor, run: Run, event: Event) -> None:
        run_id = run.id
        kind = type(event)
        if kind is OccupancyChanged:
            self.occupancy.append((run_id, event.time, None, event.active, event.peak, event.cap))
        elif kind is GroupOccupancyChanged:
            self.occupancy.append(
                (run_id, event.time, event.group, event.active, event.peak, event.limit)
            )
        elif kind is NodePlaced:
            attempts = self._attempts.setdefault(run_id, {})
            self._attempt(run_id, attempts, event.node_id, event.attempt)[11] = event.worker or NULL
        elif kind is NodeInputsEdited:
            cursor.waiting_inputs[event.node_id] = event.inputs
        elif kind is ChannelMessage:
            self.messages.append(
                (run_id, event.time, "channel", event.channel, event.node_id, event.text, None)
            )
        elif kind is RunWarning:
            details = None if event.details is None else _encode(event.details)
            self.messages.append(
                (run_id, event.time, "warning", event.kind, event.node_id, event.message, details)
            )
        elif kind is RunStarted:
            self._run_started(cursor, event)
        elif kind is RunFinished:
            row = self._run(run_id)
            error, _ = describe_error(event.error)
            row[8], row[10], row[11] = str(event.state), event.time, error
            row[12] = encode_mapping(run.outputs)[0]
            self.finished.append(run_id)
        elif kind is ChildRunStarted:
            child = next((c for c in run.children if c.id == event.child_run_id), None)
            if child is not None:
                self.children.append((child, run_id))

    def _run(self, run_id: str) -> list[Any]:
        row = self.runs.get(run_id)
        if row is None:
            row = self.runs[run_id] = [run_id, *([None] * 15)]  # updated_at added on write
        return row

    def _run_started(self, cursor: RunCursor, event: RunStarted) -> None:
        row = self._run(event.run_id)
        inputs, restorable = encode_mapping(event.inputs)
        row[1:8] = [
            event.parent_run_id,
            event.graph,
            cursor.file,
            inputs,
            int(restorable),
            event.max_concurrency,
            event.on_error,
        ]
        row[8:14] = ["running", event.time, None, None, None, event.rerun]
        row[14:16] = [HOST, os.getpid()]

    def _attempt(
        self,
        run_id: str,
        attempts: dict[tuple[str, int], list[Any]],
        node_id: str,
        attempt: int,
    ) -> list[Any]:
        key = (node_id, attempt)
        row = attempts.get(key)
        if row is None:
            row = attempts[key] = [run_id, node_id, attempt, *_UNKNOWN]
            self.attempt_updates.append(row)
        return row


class _RowsOfRun:
    """The `RowVisitor` that turns one run's log rows into the batch's table rows.

    The writer's hottest code: a node costs five log rows (added, ready, running, output,
    succeeded), so what each needs is bound once here."""

    __slots__ = ("_attempts", "_batch", "_cursor", "_nodes", "_run", "_run_id")

    def __init__(self, batch: Batch, cursor: RunCursor, run: Run) -> None:
        self._batch, self._cursor, self._run, self._run_id = batch, cursor, run, run.id
        self._nodes = batch._nodes.setdefault(run.id, {})
        self._attempts = batch._attempts.setdefault(run.id, {})

    def node_added(self, time: float, node: Node, inputs: dict[str, Any]) -> None:
        cursor, upstream = self._cursor, node.upstream
        row = [
            self._run_id,
            node.id,
            cursor.seq,
            node.tool.name,
            node.kind,
            node.group or NULL,
            _encode(list(upstream)) if upstream else "[]",
            encode_inputs(inputs),
            PENDING,
            NULL,
            NULL,
        ]
        self._nodes[node.id] = row
        self._batch.new_nodes.append(row)
        cursor.seq += 1

    def node_state(
        self,
        time: float,
        node: Node,
        state: NodeState,
        attempt: int,
        error: BaseException | None,
        inputs: dict[str, Any] | None,
    ) -> None:
        value, terminal, step = _STATE_ROWS[state]
        node_id, run_id, cursor = node.id, self._run_id, self._cursor
        text, trace = NULL, NULL
        if inputs is not None:
            cursor.waiting_inputs[node_id] = inputs
        if error is not None:
            text, trace = describe_error(error)
        row = self._nodes.get(node_id)
        if row is None:
            row = self._nodes[node_id] = [run_id, node_id, *_UNKNOWN]
            self._batch.node_updates.append(row)
        row[8], row[9], row[10] = value, text, time if terminal else NULL
        if step is _OPENS:
            given = cursor.waiting_inputs.pop(node_id, None)
            row = [run_id, node_id, attempt, value, time, NULL, NULL, *_NO_RESULT]
            if given is not None:
                row[6] = encode_mapping(given)[0]
            self._attempts[(node_id, attempt)] = row
            self._batch.new_attempts.append(row)
            cursor.open_attempts.add(node_id)
        elif step is not None and node_id in cursor.open_attempts:
            cursor.open_attempts.discard(node_id)
            row = self._batch._attempt(run_id, self._attempts, node_id, attempt)
            if step is _RETRIES:
                value = TIMED_OUT if isinstance(error, TimeoutError) else FAILED
            row[3], row[5], row[9], row[10] = value, time, text, trace

    def node_output(self, time: float, node: Node, attempt: int, outputs: dict[str, Any]) -> None:
        encoded, restorable = encode_mapping(outputs)
        row = self._batch._attempt(self._run_id, self._attempts, node.id, attempt)
        row[7], row[8] = NULL if encoded is None else encoded, int(restorable)

    def event(self, event: Event) -> None:
        self._batch._event(self._cursor, self._run, event)
