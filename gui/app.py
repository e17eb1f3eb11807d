"""`graphdeck [FILE.py]`: the desktop monitor on a qasync event loop.

The scheduler runs on the same loop as Qt, so runs and views share one thread and no
locks. Ctrl-C in the terminal closes the window like the Quit action, without asking:
runs are cancelled gracefully first, and the exit code is 0.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from graphdeck.runner import close_loop
from graphdeck.store import KEEP_RUNS, RunStore, StoreError

from .draw import draw  # `graphdeck draw`, reached through cli's one way into the monitor
from .event_loop import GraphdeckEventLoop
from .gui_thread_gc import collect_on_gui_thread
from .main_window import MainWindow
from .theme import stylesheet

# Python only sees a Ctrl-C when it runs bytecode; Qt's loop sleeps in C. A no-op timer
# lets the interpreter look at pending signals this often (ms).
SIGNAL_POLL_MS = 200

__all__ = ["draw", "main", "open_store"]


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="graphdeck", description="the graphdeck monitor")
    parser.add_argument("file", nargs="?", help="a graph file to open")
    parser.add_argument("--graph", help="select this graph of the file")
    parser.add_argument("--run", action="store_true", help="run it as soon as it is loaded")
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="run history database (default: $GRAPHDECK_STORE or the user data directory)",
    )
    return parser.parse_args(list(argv))


def open_store(path: str | None) -> tuple[RunStore | None, str | None]:
    """The run history, or why there is none: a damaged or locked file must not keep the
    monitor from starting (runs then go unrecorded, and the history pane says why)."""
    try:
        store = RunStore(path)
        store.prune(max_runs=KEEP_RUNS)
    except StoreError as exc:
        print(f"graphdeck: history unavailable: {exc}", file=sys.stderr)
        return None, f"History unavailable: {exc}"
    return store, None


def main(argv: Sequence[str] = ()) -> int:
    args = _parse(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("graphdeck")
    app.setOrganizationName("graphdeck")
    app.setStyleSheet(stylesheet())
    loop = GraphdeckEventLoop(app)
    # qasync's default executor is made of QThreads: Qt aborts the process ("QThread:
    # Destroyed while thread is still running") if one is busy when the app ends. Plain
    # threads never take the app down that way.
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="graphdeck-io"))
    asyncio.set_event_loop(loop)
    store, problem = open_store(args.store)
    window = MainWindow(QSettings(), store=store, store_problem=problem)
    window.show()
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    app.aboutToQuit.connect(closed.set)
    poll = QTimer()
    poll.start(SIGNAL_POLL_MS)
    poll.timeout.connect(lambda: None)

    def on_interrupt(*_: object) -> None:
        live = len(window.session.controller.live())
        print(f"graphdeck: closing, cancelling {live} run(s)", file=sys.stderr, flush=True)
        QTimer.singleShot(0, window.shutdown)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        if args.file:
            loop.call_soon(window.open_file, args.file, args.graph, args.run)
        with collect_on_gui_thread():  # worker threads never finalize Qt objects
            loop.run_until_complete(closed.wait())
    finally:
        signal.signal(signal.SIGINT, previous)
        poll.stop()
        close_loop(loop)
    return 0
