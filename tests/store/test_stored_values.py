"""What the history stores of values: bounded reprs of huge values, and secrets kept out."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from graphdeck import Secret, graphify, start, tool
from graphdeck.store import RunStore
from graphdeck.values import REPR_LIMIT

SECRET = "hunter2-do-not-store"


class Counted:
    """A value whose repr counts how often it is built."""

    built = 0

    def __repr__(self) -> str:
        Counted.built += 1
        return "Counted()"


@tool(outputs=["items"])
async def many_items(n: int) -> dict:
    return {"items": [Counted() for _ in range(n)]}


@graphify(name="huge", inputs=["n"], outputs=["items"])
def huge(n):
    return {"items": many_items(n=n).items}


@tool(outputs=["token"])
async def log_in(user: str, password) -> dict:
    # Returns a secret of its own: outputs are stored as shown, so it must stay hidden.
    return {"token": Secret(f"token-for-{user}")}


@graphify(name="login", inputs=["user", "password"], outputs=["token"])
def login(user, password):
    return {"token": log_in(user=user, password=password).token}


async def _record(store: RunStore, target, inputs):
    recorder = store.recorder()
    try:
        handle = start(target, inputs)
        recorder.record(handle)
        await handle.result()
        assert recorder.flush()
    finally:
        assert recorder.close()
    return handle


async def test_a_huge_output_is_stored_as_a_bounded_repr_built_only_as_far_as_kept(
    store,
) -> None:
    Counted.built = 0
    n = 200_000
    handle = await _record(store, huge, {"n": n})
    (node,) = store.load(handle.id).nodes
    text = node.outputs["items"]["$repr"]
    assert text.startswith("[Counted(), Counted(), ")
    assert len(text) <= REPR_LIMIT + 1  # the cut is marked with "…"
    # The repr of the run's outputs and of the node's are both bounded: a few thousand
    # items each at most, never all 200,000.
    assert Counted.built < n / 10


def _database_bytes(path: Path) -> bytes:
    """Every byte of the history on disk: the file and whatever its WAL still holds."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


async def test_a_secret_input_is_stored_only_as_its_placeholder(store) -> None:
    handle = await _record(store, login, {"user": "ada", "password": Secret(SECRET)})
    stored = store.load(handle.id)
    hidden = {"$repr": "Secret('***')"}
    assert stored.inputs == {"user": "ada", "password": hidden}
    (node,) = stored.nodes
    assert node.inputs["password"] == hidden  # as declared
    (attempt,) = node.attempts
    assert attempt.inputs is None or attempt.inputs["password"] == hidden  # as resolved
    assert node.outputs == {"token": hidden}
    assert stored.outputs == {"token": hidden}
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    on_disk = _database_bytes(store.path)
    assert SECRET.encode() not in on_disk and b"token-for-ada" not in on_disk
    assert b"Secret('***')" in on_disk


async def test_a_loop_block_is_stored_with_its_details_and_comes_back(tmp_path) -> None:
    import asyncio
    import time as clock

    from graphdeck import graphify, start, tool
    from graphdeck.store import RunStore, StoredRunView

    @tool(outputs=["out"])
    async def rude(x: int) -> dict:
        clock.sleep(0.3)  # noqa: ASYNC251 - blocks the loop, on purpose
        return {"out": x}

    @graphify(outputs=["out"])
    def g():
        return {"out": rude(x=1).out}

    store = RunStore(tmp_path / "h.sqlite3")
    recorder = store.recorder()
    try:
        handle = start(g)
        recorder.record(handle)
        await handle.wait()
        assert await asyncio.to_thread(recorder.flush)
    finally:
        await asyncio.to_thread(recorder.close)
    # Only the rude node's block: a loaded machine may add one outside any node.
    [live] = [w for w in handle.warnings if w.node_id == "rude_0"]
    [stored] = [w for w in StoredRunView(store.load(handle.id)).warnings if w.node_id == "rude_0"]
    assert (stored.kind, stored.node_id, stored.message) == (live.kind, live.node_id, live.message)
    assert stored.details["where"] == live.details["where"]
    assert stored.details["stack"] == [list(e) for e in live.details["stack"]]
