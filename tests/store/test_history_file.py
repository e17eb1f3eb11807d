"""The history file itself: private from creation, refused when it cannot be written, and
checked for damage when its last writer did not close it."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from graphdeck import start
from graphdeck.store import Recorder, RunStore, StoreError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_history_and_its_wal_and_shm_files_are_private(tmp_path, graph) -> None:
    path = tmp_path / "new" / "history.sqlite3"
    store = RunStore(path)
    recorder = store.recorder()
    try:
        handle = start(graph, {"n": 2})
        recorder.record(handle)
        await handle.result()
        assert recorder.flush()
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)  # while a writer has the file open
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        assert recorder.close()


def test_an_existing_history_keeps_the_mode_its_owner_chose(tmp_path) -> None:
    path = tmp_path / "shared.sqlite3"
    RunStore(path)
    path.chmod(0o640)
    RunStore(path).recorder().close()
    assert _mode(path) == 0o640


def test_a_read_only_history_is_refused_before_any_run_is_accepted(store, read_only) -> None:
    read_only(store.path)
    assert store.runs() == []  # reading still works
    with pytest.raises(StoreError, match=r"is read-only .*make it writable or pass --store"):
        store.recorder()


async def test_a_damaged_file_left_by_a_dead_writer_is_refused_not_written_into(
    store, record, crashed_writer, damaged
) -> None:
    for n in (3, 4, 5):
        await record(n)
    crashed_writer(store.path)
    damaged(store.path)
    before = store.path.read_bytes()
    with pytest.raises(StoreError, match=r"is damaged \(quick_check: .*move it aside"):
        RunStore(store.path)
    assert store.path.read_bytes() == before  # nothing was written into it
    with pytest.raises(StoreError, match="is damaged"):
        RunStore(store.path)  # and it says so every time, until moved aside


async def test_an_intact_file_left_by_a_dead_writer_is_checked_and_used(
    store, record, crashed_writer
) -> None:
    handle = await record(3)
    crashed_writer(store.path)
    assert RunStore(store.path).interrupted == [handle.id]


def test_a_recorder_opened_directly_on_a_read_only_file_fails_the_same_way(
    store, read_only
) -> None:
    read_only(store.path)
    with pytest.raises(StoreError, match="is read-only"):
        Recorder(store.path)
