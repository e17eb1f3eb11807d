"""What the GUI fixture counts as left behind by a test (tests/gui/conftest.py)."""

from __future__ import annotations

import asyncio
import threading

from guisupport import leaked_threads, unfinished_tasks


def test_a_task_still_pending_after_the_grace_is_reported_and_cancelled(qtbot, gui_loop):
    quick = asyncio.ensure_future(asyncio.sleep(0.05))
    stuck = asyncio.ensure_future(asyncio.sleep(3600))
    assert unfinished_tasks(gui_loop, qtbot, grace_s=0.3) == [stuck]
    assert quick.done() and not quick.cancelled()  # ended within the grace: not a leak
    assert stuck.cancelled()


def test_a_thread_still_alive_after_the_grace_is_reported(gui_loop):
    before = set(threading.enumerate())
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, name="stuck", daemon=True)
    quick = threading.Thread(target=release.wait, args=(0.05,), name="quick", daemon=True)
    pool = threading.Thread(target=release.wait, name="graphdeck-tool-99", daemon=True)
    for thread in (stuck, quick, pool):
        thread.start()
    try:
        assert leaked_threads(before, grace_s=0.5) == [stuck]  # not quick, not the pool's
    finally:
        release.set()
    assert leaked_threads(before, grace_s=1.0) == []
