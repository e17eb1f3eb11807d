"""A long session stays small: runs leave the list (one, or every finished one), finished
runs beyond the limit are released from memory but stay in History, and the history's
retention is applied while the session goes on."""

from __future__ import annotations

import gc
import weakref

from graphdeck.gui import housekeeping
from guisupport import load, run_and_wait, run_rows, set_inputs, write_pipeline

EXAMPLES_SLOW = """
import asyncio
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def wait(seconds: float):
    await asyncio.sleep(seconds)
    return {"v": seconds}

@graphify(name="slow", outputs=["v"])
def slow(seconds=30.0):
    return {"v": wait(seconds=seconds).v}
"""


def released(refs: list[weakref.ref]) -> bool:
    gc.collect()
    return all(ref() is None for ref in refs)


def test_remove_takes_a_finished_run_off_the_list_and_out_of_memory(
    qtbot, history_window, tmp_path
) -> None:
    win = history_window
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, win, path)
    first = weakref.ref(run_and_wait(qtbot, win))
    run_and_wait(qtbot, win)
    assert len(run_rows(win)) == 2
    win.controls.runs_list.select_row(0)
    assert win.current.run is first()
    assert win.housekeeping.remove_action.isEnabled()
    win.housekeeping.remove_action.trigger()
    assert len(run_rows(win)) == 1
    assert win.current is not None and win.current.run is not first()  # the other one
    qtbot.waitUntil(lambda: released([first]), timeout=5000)


def test_a_live_run_cannot_be_removed(qtbot, window, tmp_path) -> None:
    path = tmp_path / "slow.py"
    path.write_text(EXAMPLES_SLOW)
    load(qtbot, window, path)
    handle = window.start_run()
    assert handle is not None
    qtbot.waitUntil(lambda: window.current is not None and window.current.run is handle)
    assert not window.housekeeping.remove_action.isEnabled()
    assert not window.housekeeping.remove_finished_action.isEnabled()
    assert not window.session.controller.remove(window.current)
    assert len(run_rows(window)) == 1
    handle.cancel()
    qtbot.waitUntil(lambda: handle.done)
    qtbot.waitUntil(window.housekeeping.remove_finished_action.isEnabled)
    window.housekeeping.remove_finished_action.trigger()
    assert run_rows(window) == [] and window.current is None


def test_finished_runs_beyond_the_limit_are_released_but_stay_in_history(
    qtbot, make_window, settings, store, tmp_path
) -> None:
    settings.setValue(housekeeping.SETTING, 2)
    win = make_window(store=store)
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, win, path)
    win.controls.runs_list.select_row(-1)
    handles = [run_and_wait(qtbot, win) for _ in range(4)]
    ids = [h.id for h in handles]
    refs = [weakref.ref(h) for h in handles[:2]]
    del handles
    qtbot.waitUntil(lambda: len(run_rows(win)) == 2)
    assert [t.run.id for t in win.session.controller.trackers] == ids[2:]
    qtbot.waitUntil(lambda: released(refs), timeout=5000)
    assert win.session.recorder.flush()
    assert {r.id for r in store.runs(limit=None)} >= set(ids)  # History still has them


def test_the_shown_run_is_never_released(qtbot, make_window, settings, tmp_path) -> None:
    settings.setValue(housekeeping.SETTING, 1)
    win = make_window()
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, win, path)
    first = run_and_wait(qtbot, win)
    set_inputs(win, start="5")
    handle = win.start_run()
    win.controls.runs_list.select_row(0)  # the user looks at the first run meanwhile
    assert win.current.run is first
    qtbot.waitUntil(lambda: handle.done)
    qtbot.waitUntil(lambda: len(run_rows(win)) == 1)
    assert win.current.run is first and win.session.controller.trackers[0].run is first


def test_history_retention_applies_during_the_session(
    qtbot, history_window, store, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(housekeeping, "PRUNE_EVERY", 2)
    monkeypatch.setattr(housekeeping, "KEEP_RUNS", 3)
    path = tmp_path / "pipeline.py"
    write_pipeline(path)
    load(qtbot, history_window, path)
    for _ in range(6):
        run_and_wait(qtbot, history_window)
    assert history_window.session.recorder.flush()
    qtbot.waitUntil(lambda: len(store.runs(limit=None)) <= 3 + 1, timeout=5000)
