"""What the views know of a run, read from its event log: counts, attempts as bars in
slot lanes, messages; and the controller that follows runs and their child runs."""

from __future__ import annotations

import asyncio

from graphdeck import NodeState, graphify, tool
from graphdeck.gui.tracker import RunController, RunTracker
from guisupport import finished_run


@tool(outputs=["v"])
async def nap(i: int):
    await asyncio.sleep(0.01)
    return {"v": i}


@graphify(name="naps", outputs=["v"])
def naps(n=6):
    return {"v": [nap(i=i).v for i in range(n)]}


def test_counts_bars_and_lanes_follow_the_log(qtbot, gui_loop):
    tracker = RunTracker(finished_run(qtbot, naps, max_concurrency=2))
    assert tracker.poll() and not tracker.poll()  # all read at once, then nothing new
    assert tracker.caught_up and tracker.finished
    assert tracker.counts[NodeState.SUCCEEDED] == 6
    assert len(tracker.bars) == 6 and tracker.lanes == 2  # lanes: the slots in use
    assert all(bar[3] is NodeState.SUCCEEDED and bar[2] >= bar[1] for bar in tracker.bars)
    assert tracker.take_changed() == {f"nap_{i}" for i in range(6)}
    assert tracker.take_changed() == set()


def test_the_controller_polls_until_every_run_is_caught_up(qtbot, gui_loop):
    from graphdeck import start

    controller = RunController()
    updates: list[RunTracker] = []
    controller.run_updated.connect(updates.append)
    tracker = controller.track(start(naps, {"n": 3}))
    qtbot.waitUntil(lambda: tracker.caught_up, timeout=5000)
    assert updates[0] is tracker and tracker.finished
    qtbot.waitUntil(lambda: not controller._timer.isActive(), timeout=2000)
    assert controller.live() == []
