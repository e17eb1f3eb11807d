"""Tasks owned by a widget: kept while going, all cancelled when it closes."""

from __future__ import annotations

import asyncio

from graphdeck.gui.tasks import OwnedTasks


def test_done_tasks_leave_and_the_rest_are_cancelled(qtbot, gui_loop):
    owned = OwnedTasks()
    quick = owned.start(asyncio.sleep(0))
    slow = owned.start(asyncio.sleep(3600))
    qtbot.waitUntil(quick.done, timeout=2000)
    assert len(owned) == 1
    owned.cancel_all()
    # (a task is done before its done-callbacks run: the one that forgets it comes next)
    qtbot.waitUntil(lambda: slow.done() and len(owned) == 0, timeout=2000)
    assert slow.cancelled()
