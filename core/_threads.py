"""The threads plain-function (`def`) tools run in.

Why not `concurrent.futures.ThreadPoolExecutor`: its threads are joined when the
interpreter exits, so one tool body stuck in `time.sleep(3600)` (timed out or cancelled
long ago: Python cannot interrupt a thread) kept `graphdeck run` from exiting until the
body returned. Here threads are daemons: a finished process exits, and whatever a stuck
body was doing is abandoned with it, as its node already reported. Idle threads leave
after `IDLE_SECONDS`, so a long monitor session does not keep its peak forever.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

#: sized well above a typical cap: a thread whose node timed out or was cancelled keeps
#: running until its body returns, and must not starve the tools that follow
MAX_THREADS = 64
IDLE_SECONDS = 30.0


class ToolThreads:
    """A bounded set of daemon threads taking calls from one FIFO queue."""

    def __init__(self, max_threads: int = MAX_THREADS, idle_seconds: float = IDLE_SECONDS) -> None:
        self.max_threads = max_threads
        self.idle_seconds = idle_seconds
        self._cond = threading.Condition()
        self._queue: deque[tuple[Future[Any], Callable[[], Any], object]] = deque()
        # Invariant: `_waiting` counts threads blocked in `_cond.wait` with nothing to do;
        # `submit` starts a thread only when there are more queued calls than those.
        self._waiting = 0
        self._threads: set[threading.Thread] = set()
        self._serial = 0
        #: the thread running each call submitted with a key (a node), while it runs
        self._running: dict[object, int] = {}

    @property
    def size(self) -> int:
        """Threads alive now (busy or idle)."""
        with self._cond:
            return len(self._threads)

    def submit(self, call: Callable[[], Any], key: object = None) -> Future[Any]:
        """Run `call()` on a thread; its result or exception lands in the future. While it
        runs, `thread_of(key)` names its thread (to show where a node's body is)."""
        future: Future[Any] = Future()
        with self._cond:
            self._queue.append((future, call, key))
            if self._waiting < len(self._queue) and len(self._threads) < self.max_threads:
                self._serial += 1
                thread = threading.Thread(
                    target=self._work, name=f"graphdeck-tool-{self._serial}", daemon=True
                )
                self._threads.add(thread)
                thread.start()
            self._cond.notify()
        return future

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                deadline = time.monotonic() + self.idle_seconds
                while not self._queue:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self._threads.discard(me)
                        return
                    self._waiting += 1
                    try:
                        self._cond.wait(left)
                    finally:
                        self._waiting -= 1
                future, call, key = self._queue.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            if key is not None:
                self._running[key] = threading.get_ident()
            try:
                result = call()
            except BaseException as exc:  # SystemExit too: it fails the node, not the thread
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                if key is not None:
                    self._running.pop(key, None)
            del future, call, key  # drop the result before waiting for the next call

    def thread_of(self, key: object) -> int | None:
        """The ident of the thread running the call submitted with `key`, if it runs."""
        return self._running.get(key)


_threads: ToolThreads | None = None
_threads_lock = threading.Lock()


def tool_threads() -> ToolThreads:
    """The process's tool threads (made on first use)."""
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ToolThreads()
        return _threads
