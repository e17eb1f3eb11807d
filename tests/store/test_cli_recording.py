"""`graphdeck run --store`: whatever could not be recorded is said in one line on stderr,
and the run itself (its result, its exit code) is never affected."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from graphdeck.cli import main
from graphdeck.store import RunStore, _recorder

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "map_reduce.py"
WIDE = """
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def one(i: int) -> dict:
    return {"v": i}

@graphify(name="wide", outputs=["sum"])
def wide():
    return {"sum": sum_all(xs=[one(i=i).v for i in range(300)]).sum}

@tool(outputs=["sum"])
async def sum_all(xs: list) -> dict:
    return {"sum": sum(xs)}
"""


def _run(db: Path, graph: Path = EXAMPLE) -> int:
    return main(["run", str(graph), "--store", str(db)])


def _said(capsys) -> str:
    """The one line the run wrote on stderr (its result went to stdout as usual)."""
    captured = capsys.readouterr()
    assert "sum: " in captured.out
    (line,) = captured.err.splitlines()
    assert line.startswith("graphdeck: history not recorded: ")
    return line


def test_a_read_only_history_is_said_and_the_run_goes_on(store, read_only, capsys) -> None:
    read_only(store.path)
    assert _run(store.path) == 0
    assert "is read-only" in _said(capsys)


def test_a_disk_filling_during_the_run_is_said_with_the_run_it_cost(
    store, disk_fills, tmp_path, capsys
) -> None:
    graph = tmp_path / "wide.py"
    graph.write_text(WIDE)
    assert _run(store.path, graph) == 0
    line = _said(capsys)
    assert " (wide) incomplete: the disk holding the run history" in line
    assert "is full" in line


@pytest.mark.slow
def test_a_lock_held_past_the_close_timeout_is_said(store, monkeypatch, capsys) -> None:
    monkeypatch.setattr(_recorder, "CLOSE_TIMEOUT_S", 0.5)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    opened = RunStore.recorder

    def recorder_then_lock(self, **options):  # another process takes the lock mid-run
        recorder = opened(self, **options)
        blocker.execute("BEGIN IMMEDIATE")
        return recorder

    monkeypatch.setattr(RunStore, "recorder", recorder_then_lock)
    try:
        assert _run(store.path) == 0
    finally:
        with contextlib.suppress(sqlite3.Error):
            blocker.execute("ROLLBACK")
        blocker.close()
    line = _said(capsys)
    assert " (map_reduce) incomplete: " in line and "locked by another process" in line


def test_a_damaged_history_left_by_a_dead_writer_is_said_and_left_alone(
    store, crashed_writer, damaged, capsys
) -> None:
    for _ in range(3):
        assert _run(store.path) == 0
    crashed_writer(store.path)
    damaged(store.path)
    capsys.readouterr()
    before = store.path.read_bytes()
    assert _run(store.path) == 0
    assert "is damaged (quick_check: " in _said(capsys)
    assert store.path.read_bytes() == before
