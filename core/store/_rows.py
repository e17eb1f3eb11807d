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
from typing import TYPE_CHECKING, Any

from .._eventlog import (
    ADDED,
    KIND_MASK,
    OUTPUT,
    STATE,
    output_attempt,
    state_payload,
    unpack_state,
)
from .._states import TERMINAL_NODE_STATES, UNSUCCESSFUL_NODE_STATES, NodeState
from ..events import (
    ChannelMessage,
    ChildRunStarted,
    Event,
    GroupOccupancyChanged,
    NodePlaced,
    OccupancyChanged,
    RunFinished,
    RunStarted,
    RunWarning,
)
from ._encode import describe_error, encode_inputs, encode_mapping
from ._encode import dumps as _encode

if TYPE_CHECKING:
    from .._graph import Node
    from .._run import Run

HOST = socket.gethostname()
PENDING, RUNNING, RETRYING = NodeState.PENDING, NodeState.RUNNING, NodeState.RETRYING
FAILED, TIMED_OUT = NodeState.FAILED, NodeState.TIMED_OUT

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


def _upsert(
    table: str, key: tuple[str, ...], keep: tuple[str, ...], follow: tuple[str, ...] = ()
) -> str:
    """INSERT … ON CONFLICT DO UPDATE for `table`: `keep` columns keep the stored value when
    the row has NULL; `follow` columns take the row's value whenever it carries a state."""
    columns = (*key, *keep, *follow)
    updates = [f"{c} = coalesce(excluded.{c}, {c})" for c in keep] + [
        f"{c} = CASE WHEN excluded.state IS NULL THEN {c} ELSE excluded.{c} END" for c in follow
    ]
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(updates)}"
    )


# Column order = the order of the rows Batch builds (and of the tables' definitions).
NODE_SQL = _upsert(
    "nodes",
    ("run_id", "node_id"),
    keep=("seq", "tool", "kind", "grp", "upstream", "inputs", "state"),
    follow=("error", "finished_at"),
)
ATTEMPT_SQL = _upsert(
    "attempts",
    ("run_id", "node_id", "attempt"),
    keep=(
        "state",
        "started_at",
        "finished_at",
        "inputs",
        "outputs",
        "restorable",
        "error",
        "traceback",
        "worker",
    ),
)
NEW_NODE_SQL = "INSERT INTO nodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
NEW_ATTEMPT_SQL = "INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
MESSAGE_SQL = "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)"
OCCUPANCY_SQL = "INSERT INTO occupancy VALUES (?, ?, ?, ?, ?, ?)"
HEARTBEAT_SQL = "UPDATE runs SET updated_at = ? WHERE id = ?"
#: a finished run's node counts, kept on its row so listing the history reads no nodes
COUNTS_SQL = f"""
UPDATE runs SET
    nodes = (SELECT count(*) FROM nodes WHERE run_id = :id),
    unsuccessful = (SELECT count(*) FROM nodes WHERE run_id = :id AND state IN
                    ({", ".join(f"'{state.value}'" for state in UNSUCCESSFUL_NODE_STATES)}))
WHERE id = :id
"""


class RunCursor:
    """How far the writer has read one run, and what it must remember between batches."""

    __slots__ = (
        "_strong",
        "_weak",
        "file",
        "index",
        "open_attempts",
        "run_id",
        "seq",
        "waiting_inputs",
    )

    def __init__(self, run: Run, file: str | None) -> None:
        self.run_id = run.id
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
    NULL-keeping UPSERTs above.
    """

    def __init__(self) -> None:
        self.runs: dict[str, list[Any]] = {}
        self.new_nodes: dict[tuple[str, str], list[Any]] = {}
        self.node_updates: dict[tuple[str, str], list[Any]] = {}
        self.new_attempts: dict[tuple[str, str, int], list[Any]] = {}
        self.attempt_updates: dict[tuple[str, str, int], list[Any]] = {}
        self.messages: list[tuple[Any, ...]] = []
        self.occupancy: list[tuple[Any, ...]] = []
        self.children: list[tuple[Run, str]] = []  # child runs to follow (run, parent id)
        self.finished: list[str] = []  # runs that ended in this batch (to count their nodes)

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
        """Read log rows `index` to `end` of `run` (raw columns: no event objects)."""
        run_id = run.id
        times, nodes, codes, payloads = run.event_rows(index, end)
        for t, node, code, payload in zip(times, nodes, codes, payloads, strict=True):
            kind = code & KIND_MASK
            if kind == STATE:
                state, attempt = unpack_state(code)
                error, inputs = state_payload(payload)
                if inputs is not None:
                    cursor.waiting_inputs[node.id] = inputs
                self._state(cursor, run_id, node.id, t, state, attempt, error)
            elif kind == ADDED:
                self._added(cursor, run_id, node, payload)
            elif kind == OUTPUT:
                outputs, restorable = encode_mapping(payload)
                row = self._attempt(run_id, node.id, output_attempt(code))
                row[7], row[8] = outputs, int(restorable)
            else:
                self._event(cursor, run, payload)

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
            self._attempt(run_id, event.node_id, event.attempt)[11] = event.worker
        elif kind is ChannelMessage:
            self.messages.append(
                (run_id, event.time, "channel", event.channel, event.node_id, event.text)
            )
        elif kind is RunWarning:
            self.messages.append(
                (run_id, event.time, "warning", None, event.node_id, event.message)
            )
        elif kind is RunStarted:
            self._run_started(cursor, event)
        elif kind is RunFinished:
            row = self._run(run_id)
            error, _ = describe_error(event.error)
            row[8], row[10], row[11] = event.state, event.time, error
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

    def _added(self, cursor: RunCursor, run_id: str, node: Node, inputs: dict[str, Any]) -> None:
        upstream = node.upstream
        self.new_nodes[(run_id, node.id)] = [
            run_id,
            node.id,
            cursor.seq,
            node.tool.name,
            node.kind,
            node.group,
            _encode(list(upstream)) if upstream else "[]",
            encode_inputs(inputs),
            PENDING,
            None,
            None,
        ]
        cursor.seq += 1

    def _node(self, run_id: str, node_id: str) -> list[Any]:
        key = (run_id, node_id)
        row = self.new_nodes.get(key) or self.node_updates.get(key)
        if row is None:
            row = self.node_updates[key] = [run_id, node_id, *([None] * 9)]
        return row

    def _attempt(self, run_id: str, node_id: str, attempt: int) -> list[Any]:
        key = (run_id, node_id, attempt)
        row = self.new_attempts.get(key) or self.attempt_updates.get(key)
        if row is None:
            row = self.attempt_updates[key] = [run_id, node_id, attempt, *([None] * 9)]
        return row

    def _state(
        self,
        cursor: RunCursor,
        run_id: str,
        node_id: str,
        t: float,
        state: NodeState,
        attempt: int,
        error: BaseException | None,
    ) -> None:
        text, trace = describe_error(error) if error is not None else (None, None)
        row = self._node(run_id, node_id)
        terminal = state in TERMINAL_NODE_STATES
        row[8], row[9], row[10] = state, text, t if terminal else None
        if state is RUNNING:
            inputs = cursor.waiting_inputs.pop(node_id, None)
            self.new_attempts[(run_id, node_id, attempt)] = [
                run_id,
                node_id,
                attempt,
                RUNNING,
                t,
                None,
                None if inputs is None else encode_mapping(inputs)[0],
                None,
                None,
                None,
                None,
                None,
            ]
            cursor.open_attempts.add(node_id)
        elif (terminal or state is RETRYING) and node_id in cursor.open_attempts:
            cursor.open_attempts.discard(node_id)
            row = self._attempt(run_id, node_id, attempt)
            if state is RETRYING:
                state = TIMED_OUT if isinstance(error, TimeoutError) else FAILED
            row[3], row[5], row[9], row[10] = state, t, text, trace
