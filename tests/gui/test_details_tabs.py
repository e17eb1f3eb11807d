"""The detail tabs: while a run is live only the tab on screen refreshes, and at most
once per `DETAILS_REFRESH_MS` however many updates arrive; the run's end is shown at once."""

from __future__ import annotations

import time

from graphdeck import graph_fn
from graphdeck.gui.details_tabs import DETAILS_REFRESH_MS, DetailsTabs, log_line
from graphdeck.gui.tracker import RunTracker
from guisupport import finished_run


@graph_fn(name="talks")
async def talks(*, context):
    await context.channel("log").send_text("hello")
    return {}


def test_updates_in_a_burst_refresh_the_shown_tab_at_its_start_and_end(qtbot, gui_loop):
    tracker = RunTracker(finished_run(qtbot, talks))
    tabs = DetailsTabs()
    qtbot.addWidget(tabs)
    tabs.show_tracker(tracker)
    refreshes: list[float] = []
    tabs._refresh_shown = lambda: refreshes.append(time.monotonic())  # count, don't paint
    for _ in range(50):  # 50 event batches while the run is live
        tabs.refresh_from(tracker)
    assert len(refreshes) == 1  # at once (leading edge)
    qtbot.wait(3 * DETAILS_REFRESH_MS)
    assert len(refreshes) == 2  # and once more for the last of them (trailing edge)
    assert refreshes[1] - refreshes[0] >= DETAILS_REFRESH_MS / 1000 * 0.9


def test_the_finished_run_brings_every_tab_up_to_date_at_once(qtbot, gui_loop):
    tracker = RunTracker(finished_run(qtbot, talks))
    tabs = DetailsTabs()
    qtbot.addWidget(tabs)
    tabs.show_tracker(tracker)
    tracker.poll()
    assert tracker.finished
    tabs.refresh_from(tracker)
    assert "talks: succeeded" in tabs.results.summary.text()
    assert "[log]  hello" in tabs.log.toPlainText()
    assert tabs.log.toPlainText().count("hello") == 1  # each message once
    tabs.refresh_from(tracker)
    assert tabs.log.toPlainText().count("hello") == 1


def test_updates_of_another_run_are_ignored(qtbot, gui_loop):
    shown, other = (RunTracker(finished_run(qtbot, talks)) for _ in range(2))
    tabs = DetailsTabs()
    qtbot.addWidget(tabs)
    tabs.show_tracker(shown)
    other.poll()
    tabs.refresh_from(other)
    assert tabs.log.toPlainText() == ""


def test_log_lines_read_clock_source_text():
    stamp = time.mktime((2024, 1, 2, 12, 0, 1, 0, 0, -1)) + 0.25
    assert log_line(stamp, "log", "hi") == "12:00:01.250  [log]  hi"
