"""Fixtures for the history store's tests: a fresh history file and a small graph recorded
into it; and the ways a history file goes wrong, made real: read-only (even for root,
where permission bits do not stop writes), left by a writer that died, damaged, and a
disk that fills up."""

from __future__ import annotations

import contextlib
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from graphdeck import Graphify, Run, RunFailed, graphify, start, tool
from graphdeck.store import RunStore, _recorder


@tool(outputs=["v"])
async def square(x: int) -> dict:
    if x == 3:
        raise ValueError("three is not welcome")
    return {"v": x * x}


@graphify(name="squares", inputs=["n"], outputs=["total"])
def squares(n):
    return {"total": sum_of(xs=[square(x=i).v for i in range(n)]).total}


@tool(outputs=["total"])
async def sum_of(xs: list) -> dict:
    return {"total": sum(xs)}


@pytest.fixture
def graph() -> Graphify:
    """`squares`: n squares then their sum; square 3 fails."""
    return squares


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "history.sqlite3")


@pytest.fixture
def record(store) -> Callable[..., Awaitable[Run]]:
    """`await record(n)`: one run of `squares` recorded in `store`, written in full."""

    async def record(n: int, **options) -> Run:
        recorder = store.recorder()
        try:
            handle = start(squares, {"n": n}, on_error="continue", **options)
            recorder.record(handle)
            with contextlib.suppress(RunFailed):
                await handle.result()
            assert recorder.flush()
        finally:
            assert recorder.close()
        return handle

    return record


def _writable(path: Path) -> bool:
    try:
        with path.open("r+b"):
            return True
    except OSError:
        return False


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """`read_only(path)` makes the file unwritable: permission bits for a normal user, the
    immutable attribute (chattr +i) for root; skips the test where neither works."""
    undo: list[Callable[[], object]] = []

    def make(path: Path) -> None:
        mode = path.stat().st_mode
        path.chmod(0o444)
        undo.append(lambda: path.chmod(mode))
        if not _writable(path):
            return
        chattr = shutil.which("chattr")
        if (
            chattr
            and subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode == 0
        ):
            undo.append(lambda: subprocess.run([chattr, "-i", str(path)], check=True))
            if not _writable(path):
                return
        pytest.skip("cannot make a file read-only here (root without chattr +i)")

    yield make
    for step in reversed(undo):
        with contextlib.suppress(OSError):
            step()


@pytest.fixture
def crashed_writer() -> Callable[[Path], None]:
    """`crashed_writer(path)`: the file as a writer killed mid-run leaves it, its first run
    "running" for a process that is gone (so the file was not closed cleanly)."""
    process = subprocess.Popen(["sh", "-c", "exit 0"])
    process.wait()

    def crash(path: Path) -> None:
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute(
                "UPDATE runs SET state = 'running', pid = ? WHERE rowid = 1", (process.pid,)
            )

    return crash


@pytest.fixture
def damaged() -> Callable[[Path], None]:
    """`damaged(path)`: random bytes over the start of a page in the middle of the file
    (the attempts table's root page, which opening the history does not read)."""

    def damage(path: Path) -> None:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'attempts'")
        with path.open("r+b") as f:
            f.seek((root[0] - 1) * page_size)
            f.write(random.Random(12).randbytes(200))

    return damage


@pytest.fixture
def disk_fills(monkeypatch):
    """The recorder's connection cannot grow the file past its size when opened: SQLite's
    own "database or disk is full", as when the disk fills during a run."""
    real = _recorder.connect

    def connect(path):
        conn = real(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(_recorder, "connect", connect)
