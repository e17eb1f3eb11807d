"""The run history: what is recorded, read back, exported, pruned; bad database files."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import sqlite3
import time
import weakref
from collections.abc import Iterator

import pytest

from graphdeck import NodeState, RunFailed, graph_fn, graphify, start, tool
from graphdeck.store import (
    SCHEMA_VERSION,
    Recorder,
    RunStore,
    StoredRunView,
    StoreError,
    chrome_trace,
    restorable_outputs,
    restore,
    run_document,
)

calls: list[str] = []


@tool(outputs=["v"])
async def square(x: int) -> dict:
    calls.append(f"square{x}")
    await asyncio.sleep(0)
    if x == 3:
        raise ValueError("three is not welcome")
    return {"v": x * x}


@tool(outputs=["total", "shape"])
async def combine(xs: list) -> dict:
    calls.append("combine")
    return {"total": sum(xs), "shape": (len(xs), "tuple")}  # a tuple: not restorable


attempts_left: dict[str, int] = {}


@tool(outputs=["v"], retries=2)
async def flaky(name: str) -> dict:
    attempts_left[name] = attempts_left.get(name, 2) - 1
    if attempts_left[name] > 0:
        raise ConnectionError(f"{name}: try again")
    return {"v": name}


@graphify(name="squares", inputs=["n"], outputs=["total"])
def squares(n):
    parts = [square(x=i) for i in range(n)]
    return {"total": combine(xs=[p.v for p in parts]).total}


@graphify(name="retrying", outputs=["v"])
def retrying():
    return {"v": flaky(name="a").v}


@graph_fn(name="chatty")
async def chatty(*, context):
    await context.channel().send_text("hello from the agent")
    out = await square(x=2)
    inner = await quiet(k=out["v"])
    return {"v": inner["k"]}


@graph_fn(name="quiet")
async def quiet(k, *, context):
    return {"k": k + 1}


@contextlib.contextmanager
def _opened(path) -> Iterator[sqlite3.Connection]:
    """A plain connection, committed and closed at the end (never left to the GC: Python
    3.13 warns about an unclosed database)."""
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        yield conn


@pytest.fixture(autouse=True)
def _clean():
    calls.clear()
    attempts_left.clear()


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "history.sqlite3")


async def _recorded(store: RunStore, target, inputs=None, **options):
    recorder = store.recorder()
    try:
        handle = start(target, inputs, **options)
        recorder.record(handle, file="/graphs/example.py")
        with contextlib.suppress(RunFailed):
            await handle.result()
        assert recorder.flush()
    finally:
        recorder.close()
    return handle


async def test_every_node_attempt_output_and_error_is_recorded(store) -> None:
    handle = await _recorded(store, squares, {"n": 5}, on_error="continue")
    stored = store.load(handle.id)
    assert stored.summary.state == "failed" and stored.summary.file == "/graphs/example.py"
    assert stored.inputs == {"n": 5} and stored.inputs_restorable
    assert {n.id for n in stored.nodes} == set(handle.nodes)
    by_id = {n.id: n for n in stored.nodes}
    for node_id, record in handle.nodes.items():
        assert by_id[node_id].state == record.state.value
        assert len(by_id[node_id].attempts) == len(record.attempts)
    assert by_id["square_2"].outputs == {"v": 4}
    assert by_id["square_2"].restorable_outputs == {"v": 4}
    failed = by_id["square_3"].attempts[-1]
    assert failed.error == "ValueError: three is not welcome"
    assert "Traceback" in failed.traceback and "three is not welcome" in failed.traceback
    assert by_id["combine_0"].state == "skipped" and not by_id["combine_0"].attempts
    assert by_id["combine_0"].upstream == [f"square_{i}" for i in range(5)]
    assert stored.occupancy and max(s[3] for s in stored.occupancy) <= 4
    assert stored.summary.unsuccessful == 2 and stored.summary.nodes == 6


async def test_values_json_cannot_hold_are_kept_as_repr_and_not_restorable(store) -> None:
    handle = await _recorded(store, squares, {"n": 3})
    stored = store.load(handle.id)
    combined = next(n for n in stored.nodes if n.id == "combine_0")
    assert combined.outputs == {"total": 5, "shape": {"$repr": "(3, 'tuple')"}}
    assert combined.restorable_outputs is None  # a tuple would come back as a list


async def test_retries_are_separate_attempts(store) -> None:
    handle = await _recorded(store, retrying)
    (node,) = store.load(handle.id).nodes
    assert [a.state for a in node.attempts] == ["failed", "succeeded"]
    assert node.attempts[0].error == "ConnectionError: a: try again"
    assert node.attempts[0].finished_at <= node.attempts[1].started_at


async def test_agent_messages_tool_calls_and_child_runs_are_recorded(store) -> None:
    handle = await _recorded(store, chatty)
    stored = store.load(handle.id)
    assert [(kind, text) for _, kind, _, _, text, _ in stored.messages] == [
        ("channel", "hello from the agent")
    ]
    assert [n.id for n in stored.nodes] == ["square_0"]
    (child_id,) = stored.children
    child = store.load(child_id)
    assert child.summary.parent_id == handle.id and child.summary.graph == "quiet"
    assert child.summary.file == "/graphs/example.py"
    assert [r.id for r in store.runs()] == [handle.id]  # the list shows top-level runs
    assert len(store.runs(top_level=False)) == 2


async def test_a_rerun_is_recorded_as_more_attempts_of_the_same_run(store) -> None:
    recorder = store.recorder()
    handle = start(squares, {"n": 4}, on_error="continue")
    recorder.record(handle)
    with contextlib.suppress(RunFailed):
        await handle.result()
    handle.rerun(["square_2"], mode="node")
    with contextlib.suppress(RunFailed):
        await handle.result()
    recorder.close()
    stored = store.load(handle.id)
    (square_2,) = [n for n in stored.nodes if n.id == "square_2"]
    assert [a.number for a in square_2.attempts] == [1, 2]
    assert stored.rounds == 1 and stored.summary.state == "failed"


async def test_the_recorder_keeps_no_finished_run_alive(store) -> None:
    recorder = store.recorder()
    handle = start(squares, {"n": 2})
    recorder.record(handle)
    await handle.result()
    assert recorder.flush()
    assert recorder.flush()  # a pass after the run was drained lets go of it
    ref = weakref.ref(handle)
    del handle
    gc.collect()
    recorder.close()
    assert ref() is None


async def test_runs_filter_by_graph_state_and_date(store) -> None:
    first = await _recorded(store, squares, {"n": 2})
    second = await _recorded(store, squares, {"n": 4}, on_error="continue")
    third = await _recorded(store, retrying)
    assert [r.id for r in store.runs()] == [third.id, second.id, first.id]
    assert [r.id for r in store.runs(graph="squar")] == [second.id, first.id]
    assert [r.id for r in store.runs(state="failed")] == [second.id]
    assert [r.id for r in store.runs(since=third.started_at)] == [third.id]
    assert store.runs(until=first.started_at) == []
    assert store.graphs() == ["retrying", "squares"]
    assert store.resolve(first.id[:7]) == first.id


def test_resolving_an_unknown_run_id_names_it(store) -> None:
    with pytest.raises(LookupError, match="no run 'nope'"):
        store.load("nope")


async def test_prune_keeps_the_newest_runs_and_deletes_child_runs_with_them(store) -> None:
    old_agent = await _recorded(store, chatty)
    middle = await _recorded(store, squares, {"n": 2})
    newest = await _recorded(store, squares, {"n": 3})
    assert store.prune(max_runs=2) == 2  # the agent run and its child run
    assert [r.id for r in store.runs(top_level=False)] == [newest.id, middle.id]
    with _opened(store.path) as conn:
        for table in ("nodes", "attempts", "messages", "occupancy"):
            left = conn.execute(f"SELECT count(*) FROM {table} WHERE run_id = ?", (old_agent.id,))
            assert left.fetchone()[0] == 0, table
    assert store.prune(max_age_days=0) == 2
    assert store.runs() == []


def test_a_new_file_gets_the_current_schema_in_wal_mode(store) -> None:
    with _opened(store.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.integrity_check() == "ok"


def test_a_file_from_a_newer_graphdeck_is_refused_clearly(tmp_path) -> None:
    path = tmp_path / "newer.sqlite3"
    with _opened(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this graphdeck understands"):
        RunStore(path)


def test_a_damaged_file_is_refused_with_a_message_that_says_what_to_do(tmp_path) -> None:
    path = tmp_path / "damaged.sqlite3"
    path.write_bytes(b"this is not a database, just bytes " * 200)
    with pytest.raises(StoreError, match=r"damaged.*move it aside"):
        RunStore(path)


def test_a_locked_file_is_refused_after_the_busy_timeout(tmp_path) -> None:
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")  # a rollback-journal database…
    holder.execute("BEGIN EXCLUSIVE")  # …that another process is writing to
    try:
        began = time.monotonic()
        with pytest.raises(StoreError, match="locked by another process"):
            RunStore(path)
        assert time.monotonic() - began < 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_writes_blocked_by_a_lock_are_kept_and_written_later(store) -> None:
    recorder = Recorder(store.path, interval=0.05)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        handle = start(squares, {"n": 2})
        recorder.record(handle)
        await handle.result()
        assert not recorder.flush(timeout=3)  # cannot write while the lock is held
        assert "locked" in recorder.problem
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert recorder.flush(timeout=10)
    recorder.close()
    assert recorder.problem is None
    assert store.load(handle.id).summary.state == "succeeded"


async def test_a_recorder_closed_mid_run_marks_the_run_interrupted(store) -> None:
    release = asyncio.Event()

    @tool(outputs=["v"])
    async def wait_forever() -> dict:
        await release.wait()
        return {"v": 1}

    @graphify(name="stuck", outputs=["v"])
    def stuck():
        return {"v": wait_forever().v}

    recorder = store.recorder()
    handle = start(stuck)
    recorder.record(handle)
    await asyncio.sleep(0)
    recorder.close()
    assert store.load(handle.id).summary.state == "interrupted"
    release.set()
    await handle.result()


async def test_json_export_holds_the_whole_run(store) -> None:
    handle = await _recorded(store, chatty)
    stored = store.load(handle.id)
    child = store.load(stored.children[0])
    document = json.loads(json.dumps(run_document(stored, [child])))
    assert document["format"] == "graphdeck-run" and document["run"]["id"] == handle.id
    assert document["nodes"][0]["attempts"][0]["outputs"] == {"v": 4}
    assert document["messages"][0]["text"] == "hello from the agent"
    assert document["children"][0]["run"]["graph"] == "quiet"


def _check_trace_event(event: dict) -> None:
    """The Trace Event Format's rules for the phases we write."""
    assert event["ph"] in {"X", "M", "C", "i"}
    assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
    assert isinstance(event["name"], str) and event["name"]
    assert isinstance(event["ts"], int | float) and event["ts"] >= 0
    if event["ph"] == "M":
        assert event["name"] in {"process_name", "thread_name"}
        assert isinstance(event["args"]["name"], str)
        return
    if event["ph"] == "X":
        assert isinstance(event["dur"], int | float) and event["dur"] >= 0
    if event["ph"] == "C":
        assert all(isinstance(v, int | float) for v in event["args"].values())
    if event["ph"] == "i":
        assert event["s"] in {"g", "p", "t"}


async def test_trace_export_is_a_valid_chrome_trace_with_one_lane_per_slot(store) -> None:
    handle = await _recorded(store, squares, {"n": 8}, on_error="continue", max_concurrency=3)
    trace = json.loads(json.dumps(chrome_trace(store.load(handle.id))))
    assert set(trace) >= {"traceEvents", "displayTimeUnit"}
    events = trace["traceEvents"]
    for event in events:
        _check_trace_event(event)
    slices = [e for e in events if e["ph"] == "X"]
    assert sorted(e["name"] for e in slices) == sorted(f"square_{i}" for i in range(8))
    lanes = {e["tid"] for e in slices}
    assert 1 <= len(lanes) <= 3  # never more lanes than the cap
    for lane in lanes:  # slices in one lane never overlap
        spans = sorted((e["ts"], e["ts"] + e["dur"]) for e in slices if e["tid"] == lane)
        pairs = itertools.pairwise(spans)
        assert all(a_end <= b_start + 1e-3 for (_, a_end), (b_start, _) in pairs)
    assert any(e["ph"] == "C" for e in events)


async def test_a_stored_run_reads_like_a_finished_run(store) -> None:
    handle = await _recorded(store, retrying)
    view = StoredRunView(store.load(handle.id))
    assert view.done and view.state == "succeeded" and view.name == "retrying"
    (node,) = view.nodes.values()
    assert node.state is NodeState.SUCCEEDED and node.attempts == 2
    assert node.attempts[0].state is NodeState.FAILED
    assert node.outputs == {"v": "a"}
    events = view.events_since(0)
    assert [type(e).__name__ for e in (events[0], events[-1])] == ["RunStarted", "RunFinished"]
    assert [e.time for e in events] == sorted(e.time for e in events)


async def test_rerun_from_history_reuses_restorable_outputs_and_runs_the_rest(store) -> None:
    handle = await _recorded(store, squares, {"n": 5}, on_error="continue")
    stored = store.load(handle.id)
    graph = squares.build(**stored.inputs)
    restored = restorable_outputs(stored, graph)
    assert sorted(restored) == ["square_0", "square_1", "square_2", "square_4"]
    calls.clear()
    again = start(restore(graph, restored), on_error="continue")
    with pytest.raises(RunFailed):
        await again.result()
    assert calls == ["square3"]  # the restored nodes did not call the tool again
    assert again.nodes["square_4"].outputs == {"v": 16}


async def test_rerun_from_history_recomputes_a_node_whose_inputs_changed(store) -> None:
    handle = await _recorded(store, squares, {"n": 2})
    stored = store.load(handle.id)
    graph = squares.build(n=3)  # combine now reads three squares
    restored = restorable_outputs(stored, graph)
    assert sorted(restored) == ["square_0", "square_1"]


def test_an_older_file_is_migrated_in_place_keeping_its_runs(tmp_path, monkeypatch) -> None:
    from graphdeck.store import _schema

    path = tmp_path / "old.sqlite3"
    with _opened(path) as conn:
        _schema.migrate(conn)  # a file at today's version…
        conn.execute("INSERT INTO runs (id, graph, state) VALUES ('r1', 'g', 'succeeded')")
    # …opened by a graphdeck whose schema has moved on by one version
    upgrade = "ALTER TABLE runs ADD COLUMN label TEXT; UPDATE runs SET label = 'migrated'"
    monkeypatch.setattr(_schema, "MIGRATIONS", (*_schema.MIGRATIONS, upgrade))
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    store = RunStore(path)
    assert [r.id for r in store.runs()] == ["r1"]
    with _opened(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert conn.execute("SELECT label FROM runs").fetchone()[0] == "migrated"


def test_a_failed_migration_leaves_the_file_as_it_was(tmp_path, monkeypatch) -> None:
    from graphdeck.store import _schema

    path = tmp_path / "old.sqlite3"
    RunStore(path)
    monkeypatch.setattr(_schema, "MIGRATIONS", (*_schema.MIGRATIONS, "ALTER TABLE nope ADD x"))
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="no such table"):
        RunStore(path)
    with _opened(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_a_writer_bug_costs_that_runs_record_only_and_never_hangs(store, monkeypatch) -> None:
    from graphdeck.store import _rows

    original = _rows.Batch.extend

    def broken_for_squares(self, cursor, run, index, end):
        if run.name == "squares":
            raise RuntimeError("bug in the writer")
        return original(self, cursor, run, index, end)

    monkeypatch.setattr(_rows.Batch, "extend", broken_for_squares)
    recorder = store.recorder()
    doomed, fine = start(squares, {"n": 2}), start(retrying)
    recorder.record(doomed)
    recorder.record(fine)
    await doomed.result()
    await fine.result()
    assert recorder.flush()
    assert "bug in the writer" in recorder.problem
    assert recorder.close()
    assert [r.graph for r in store.runs()] == ["retrying"]


async def test_close_gives_up_on_a_database_locked_for_good(store) -> None:
    recorder = Recorder(store.path, interval=0.05)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        handle = start(squares, {"n": 2})
        recorder.record(handle)
        await handle.result()
        began = time.monotonic()
        assert recorder.close(timeout=1) is False
        assert time.monotonic() - began < 8  # the timeout plus one busy wait at most
        assert "locked" in recorder.problem
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def test_inputs_kept_as_repr_are_restored_from_an_equal_default() -> None:
    from graphdeck.store import restored_inputs

    stored = {"n": 3, "topics": {"$repr": "('a', 'b')"}, "when": {"$repr": "<object at 0x1>"}}
    inputs, lost = restored_inputs(stored, {"topics": ("a", "b"), "when": object()})
    assert inputs["topics"] == ("a", "b") and inputs["n"] == 3
    assert lost == ["when"]
