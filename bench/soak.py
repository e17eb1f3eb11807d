"""A long monitor session: many runs of one graph in one window, memory over time.

    python bench/soak.py                       # 1,000 runs of a 1,000-node fan-out
    python bench/soak.py --runs 300 --keep 50  # shorter; --keep is runs/keep-finished
    python bench/soak.py --keep 100000         # as before: nothing released (the baseline)

The window (offscreen) records every run in a temporary history, as the app does, and
keeps `--keep` finished runs in memory (the app's setting, default 50). Every `--every`
runs it prints: runs so far, the process's resident memory now (RSS, from /proc), Python
objects tracked by the garbage collector, runs the window holds, and the mean wall time of
the last runs. What matters: RSS and objects level off once the window holds `--keep`
runs, and the time per run stays flat; with nothing released both keep growing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fanout_10k.py"


def rss_mb() -> float:
    """Resident memory now (not the peak: it must be able to go down)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak(runs: int, nodes: int, keep: int, every: int, tmp: Path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from graphdeck.gui import housekeeping
    from graphdeck.gui.event_loop import GraphdeckEventLoop
    from graphdeck.gui.gui_thread_gc import collect_on_gui_thread
    from graphdeck.gui.main_window import MainWindow
    from graphdeck.store import RunStore

    app = QApplication.instance() or QApplication([])
    loop = GraphdeckEventLoop(app)
    asyncio.set_event_loop(loop)
    settings = QSettings(str(tmp / "soak.ini"), QSettings.Format.IniFormat)
    settings.setValue(housekeeping.SETTING, keep)
    window = MainWindow(settings, store=RunStore(tmp / "history.sqlite3"))
    window.resize(1400, 860)
    window.show()

    async def session() -> None:
        await window.open_file(EXAMPLE)
        window.controls.inputs_form.fields["n"].setText(str(nodes))
        await window.preview.wait()
        print(f"{runs:,} runs of a {nodes:,}-node fan-out, {keep} finished runs kept")
        print(f"{'runs':>6} {'RSS MB':>8} {'objects':>10} {'held':>5} {'s/run':>7}")
        shown = asyncio.Event()  # the window has read the run to its end
        window.session.controller.run_finished.connect(lambda _tracker: shown.set())
        began = time.perf_counter()
        for done in range(1, runs + 1):
            shown.clear()
            await window.preview.wait()  # the next run's graph, built off the GUI thread
            handle = window.start_run()
            assert handle is not None, window.controls.error_label.text()
            await shown.wait()
            del handle
            if done % every == 0 or done == runs:
                per_run = (time.perf_counter() - began) / every
                gc.collect()
                held = len(window.session.controller.trackers)
                print(
                    f"{done:>6} {rss_mb():>8.1f} {len(gc.get_objects()):>10,} {held:>5} "
                    f"{per_run:>7.3f}",
                    flush=True,
                )
                began = time.perf_counter()

    async def close() -> None:
        await window.shutdown()

    with loop, collect_on_gui_thread():
        loop.run_until_complete(session())
        loop.run_until_complete(close())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--keep", type=int, default=50, help="runs/keep-finished")
    parser.add_argument("--every", type=int, default=100, help="print every N runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        soak(args.runs, args.nodes, args.keep, args.every, Path(tmp))


if __name__ == "__main__":
    main()
