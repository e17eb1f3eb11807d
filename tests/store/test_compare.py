"""`graphdeck compare` and `graphdeck.store.compare`: two runs side by side."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graphdeck import graphify, start, tool
from graphdeck.store import RunStore, compare

GRAPH = textwrap.dedent(
    """
    import asyncio
    from graphdeck import graphify, tool

    @tool(outputs=["out"])
    async def same(x: int):
        return x

    @tool(outputs=["out"])
    async def scaled(x: int, factor: int, pause: float):
        await asyncio.sleep(pause)
        return x * factor

    @graphify(name="pair", outputs=["a", "b"])
    def pair(factor=2, pause=0.0):
        first = same(x=1)
        return {"a": first.out, "b": scaled(x=first.out, factor=factor, pause=pause).out}
    """
)


def graphdeck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "graphdeck", *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, str, str]:
    """A stored run, then the same graph again with one node's output changed (and that
    node slower)."""
    path, db = tmp_path / "pair.py", tmp_path / "history.sqlite3"
    path.write_text(GRAPH)
    ids = []
    for inputs in ('{"factor": 2, "pause": 0.0}', '{"factor": 3, "pause": 0.3}'):
        done = graphdeck("run", str(path), "--inputs", inputs, "--store", str(db), "--json")
        assert done.returncode == 0, done.stderr
        ids.append(json.loads(done.stdout)["run_id"])
    return db, ids[0], ids[1]


def test_compare_json_has_every_node_and_the_summary(two_runs) -> None:
    db, a, b = two_runs
    done = graphdeck("compare", a[:6], b[:6], "--store", str(db), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["a"], report["b"]) == (a, b)
    nodes = {n["id"]: n for n in report["nodes"]}
    assert set(nodes) == {"same_0", "scaled_0"}
    for node in nodes.values():
        assert {"id", "a_state", "b_state", "a_seconds", "b_seconds", "outputs_equal"} <= set(node)
    assert nodes["same_0"]["outputs_equal"] is True
    assert nodes["scaled_0"]["outputs_equal"] is False
    assert nodes["scaled_0"]["b_seconds"] >= 0.3
    summary = report["summary"]
    assert summary["outputs_changed"] == ["scaled_0"]
    assert summary["slower"] == ["scaled_0"]
    assert summary["only_a"] == summary["only_b"] == summary["state_changed"] == []


def test_compare_prints_what_changed(two_runs) -> None:
    db, a, b = two_runs
    done = graphdeck("compare", a, b, "--store", str(db))
    assert done.returncode == 0, done.stderr
    assert "scaled_0" in done.stdout and "changed" in done.stdout
    assert "outputs changed: 1 (scaled_0)" in done.stdout


def test_an_unknown_run_id_is_one_line_and_exit_2(two_runs) -> None:
    db, a, _ = two_runs
    done = graphdeck("compare", a, "nope", "--store", str(db))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "nope" in done.stderr


@tool(outputs=["out"])
async def double(x: int) -> dict:
    await asyncio.sleep(0)
    return {"out": x * 2}


@graphify(outputs=["out"])
def doubled(x=1):
    return {"out": double(x=double(x=x).out).out}


async def test_compare_takes_live_runs_and_stored_ones_alike(tmp_path) -> None:
    store = RunStore(tmp_path / "h.sqlite3")
    recorder = store.recorder()
    try:
        first, second = start(doubled, {"x": 1}), start(doubled, {"x": 5})
        for handle in (first, second):
            recorder.record(handle)
            await handle.result()
        assert await asyncio.to_thread(recorder.flush)
    finally:
        await asyncio.to_thread(recorder.close)
    live = compare(first, second)
    stored = compare(store.load(first.id), store.load(second.id))
    assert live["summary"]["outputs_changed"] == stored["summary"]["outputs_changed"]
    assert stored["summary"]["outputs_changed"] == ["double_0", "double_1"]
