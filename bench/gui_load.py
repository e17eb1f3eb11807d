"""The monitor under load: a 10,000-node fan-out at cap 64, shown live, versus headless.

    python bench/gui_load.py            # offscreen; best of --repeat runs
    python bench/gui_load.py --nodes 100000 --repeat 1   # the 100k-node case
    python bench/gui_load.py --history  # the same with the run history recording (as the
                                        # app does by default), into a temporary file
    python bench/gui_load.py --tab Occupancy  # with that detail tab on screen (default:
                                              # Inspector, the one the app opens with)

Reports, measured in this one process run:
- the run's wall time with the window showing it, and the same run headless (ratio);
- event-loop lag while it runs (a 5 ms heartbeat's overshoot: p50, p99, max);
- how often the views refreshed for that run (Hz, and the longest gap), and how long
  after the run's end the window had read all of its events (a 100k-node run's half a
  million rows are read in short slices, some of them after the run);
- the longest the window froze from opening the file to the run's end (preview built and
  laid out, the run started and shown: a 5 ms heartbeat's longest overshoot);
- the app's memory (RSS) before loading and with the run loaded;
- startup: a fresh process until its window is first shown.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fanout_10k.py"
N, CAP = 10_000, 64

STARTUP_PROBE = """
import time; began = time.perf_counter()
import os; os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
import qasync
from graphdeck.gui.main_window import MainWindow
app = QApplication([])
from graphdeck.gui.event_loop import GraphdeckEventLoop; loop = GraphdeckEventLoop(app)
window = MainWindow(QSettings())
window.show()
app.processEvents()
print(time.perf_counter() - began)
"""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def headless_seconds(repeat: int, n: int) -> float:
    from graphdeck import run_async
    from graphdeck.loader import load_graph_file

    graph = load_graph_file(EXAMPLE).pick()
    best = float("inf")
    for _ in range(repeat):

        async def once() -> float:
            began = time.perf_counter()
            await run_async(graph, {"n": n}, max_concurrency=CAP)
            return time.perf_counter() - began

        best = min(best, asyncio.run(once()))
    return best


def startup_seconds() -> tuple[float, float]:
    began = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE], capture_output=True, text=True, check=True
    ).stdout
    return time.perf_counter() - began, float(out.strip().splitlines()[-1])


async def heartbeat(lags: list[float]) -> None:
    """Until cancelled: how late each 5 ms sleep woke (the loop's freezes)."""
    while True:
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append(time.perf_counter() - before - 0.005)


def gui_runs(repeat: int, history: Path | None, tab: str, n: int) -> dict[str, float]:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from graphdeck.gui.event_loop import GraphdeckEventLoop
    from graphdeck.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    loop = GraphdeckEventLoop(app)
    asyncio.set_event_loop(loop)
    settings = QSettings(str(ROOT / "bench" / ".gui_load.ini"), QSettings.Format.IniFormat)
    from graphdeck.store import RunStore

    window = MainWindow(settings, store=RunStore(history) if history else None)
    window.resize(1400, 860)
    titles = [window.details.tabText(i) for i in range(window.details.count())]
    if tab not in titles:
        raise SystemExit(f"--tab must be one of {', '.join(titles)}")
    window.details.setCurrentIndex(titles.index(tab))
    window.show()
    figures: dict[str, float] = {"rss_before_mb": rss_mb()}

    async def measure() -> dict[str, float]:
        freezes: list[float] = []
        beat = asyncio.get_running_loop().create_task(heartbeat(freezes))
        await window.open_file(EXAMPLE)
        window.controls.inputs_form.fields["n"].setText(str(n))
        window.controls.cap_spin.setValue(CAP)
        await window.preview.wait()  # built in a thread: not while the run is measured
        await window.graph_view.layouts.wait()  # laid out in a thread too
        best: dict[str, float] = {}
        for _ in range(repeat):
            refreshes: list[float] = []

            def on_refresh(_tracker: object, stamp=refreshes.append) -> None:
                stamp(time.perf_counter())

            window.session.controller.run_updated.connect(on_refresh)
            lags: list[float] = []
            await window.preview.wait()  # Run is enabled once the next graph is built
            await window.graph_view.layouts.wait()
            handle = window.start_run()
            assert handle is not None
            while not handle.done:
                before = time.perf_counter()
                await asyncio.sleep(0.005)
                lags.append(time.perf_counter() - before - 0.005)
            ended = time.perf_counter()
            tracker = window.current
            assert tracker is not None
            if not tracker.caught_up:  # a big run's rows are read for a while after
                read = asyncio.Event()

                def on_runs_changed(event=read, tracker=tracker) -> None:
                    if tracker.caught_up:  # (the list is told when polling stops)
                        event.set()

                window.session.controller.runs_changed.connect(on_runs_changed)
                await read.wait()
                window.session.controller.runs_changed.disconnect(on_runs_changed)
            behind = time.perf_counter() - ended
            await asyncio.sleep(0.2)  # let the last refresh land
            window.session.controller.run_updated.disconnect(on_refresh)
            wall = handle.finished_at - handle.started_at
            during = [t for t in refreshes if t <= refreshes[0] + wall] or refreshes
            gaps = [b - a for a, b in itertools.pairwise(during)] or [wall]
            lags.sort()
            sample = {
                "gui_run_s": wall,
                "lag_p50_ms": statistics.median(lags) * 1e3,
                "lag_p99_ms": lags[int(len(lags) * 0.99) - 1] * 1e3 if lags else 0.0,
                "lag_max_ms": lags[-1] * 1e3 if lags else 0.0,
                "refresh_hz": len(during) / wall,
                "refresh_max_gap_ms": max(gaps) * 1e3,
                "behind_s": behind,
                "peak": handle.occupancy.peak,
            }
            if not best or sample["gui_run_s"] < best["gui_run_s"]:
                best = sample
        beat.cancel()
        best["freeze_max_ms"] = max(freezes) * 1e3
        return best

    from graphdeck.gui.gui_thread_gc import collect_on_gui_thread

    with loop, collect_on_gui_thread():  # as the app runs
        figures.update(loop.run_until_complete(measure()))
    figures["rss_with_run_mb"] = rss_mb()
    # The timeline with 20,000 bars (the last run's 10,001 attempts, twice over).
    tracker = window.current
    assert tracker is not None
    tracker.bars = [list(bar) for bar in tracker.bars] * 2
    window.details.setCurrentWidget(window.details.timeline)
    began = time.perf_counter()
    for _ in range(10):
        window.details.timeline.show_tracker(tracker)
        app.processEvents()
    figures["timeline_bars"] = len(tracker.bars)
    figures["timeline_ms"] = (time.perf_counter() - began) / 10 * 1e3
    window.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--history", action="store_true", help="record the runs (SQLite)")
    parser.add_argument("--tab", default="Inspector", help="detail tab on screen")
    parser.add_argument("--nodes", type=int, default=N, help="fan-out width (default 10,000)")
    args = parser.parse_args()
    headless = headless_seconds(args.repeat, args.nodes)
    with tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "history.sqlite3" if args.history else None
        gui = gui_runs(args.repeat, history, args.tab, args.nodes)
    total, in_python = startup_seconds()
    recording = ", recorded in the run history" if args.history else ""
    print(
        f"{args.nodes:,}-node fan-out at cap {CAP} "
        f"(best of {args.repeat}{recording}, {args.tab} tab):"
    )
    print(f"  headless run            {headless:8.3f} s")
    ratio = gui["gui_run_s"] / headless
    print(f"  run with window shown   {gui['gui_run_s']:8.3f} s   ratio {ratio:.2f}")
    print(f"  peak occupancy          {int(gui['peak']):8d}   (cap {CAP})")
    print(
        f"  event-loop lag          p50 {gui['lag_p50_ms']:.1f} ms   p99 {gui['lag_p99_ms']:.1f} ms"
        f"   max {gui['lag_max_ms']:.1f} ms"
    )
    print(
        f"  view refresh            {gui['refresh_hz']:.1f} Hz   longest gap "
        f"{gui['refresh_max_gap_ms']:.0f} ms"
    )
    print(f"  views caught up         {gui['behind_s']:8.3f} s after the run ended")
    print(
        f"  longest freeze          {gui['freeze_max_ms']:.0f} ms   (open, preview, layout, "
        "start, run)"
    )
    print(
        f"  memory (max RSS)        {gui['rss_before_mb']:.0f} MB before loading, "
        f"{gui['rss_with_run_mb']:.0f} MB with the run loaded"
    )
    print(f"  startup to first window {total:8.3f} s   ({in_python:.3f} s after interpreter start)")
    print(
        f"  timeline redraw         {gui['timeline_ms']:.1f} ms for "
        f"{int(gui['timeline_bars']):,} bars (data + paint)"
    )


if __name__ == "__main__":
    main()
