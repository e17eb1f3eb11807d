"""The app's event loop: qasync's, with asyncio's ready queue for `call_soon`, asyncio's
timer heap behind one precise Qt timer, and a `stop()` only the app itself may call.

- `call_soon`: qasync 0.28 implements it as `call_later(0)`: every callback starts and
  kills a Qt timer. A run whose tools suspend once per node schedules several callbacks
  per node, so that cost made a 10,000-node run 1.5x slower under qasync than under
  asyncio's own loop (bench/gui_load.py). Here callbacks queue up and one zero-delay Qt
  timer drains each burst, the way asyncio runs its `_ready` queue once per iteration;
  Qt events still get their turn between bursts.
- Timers (docs/design.md §6.2): qasync starts one Qt timer per `call_later`, of Qt's
  default *coarse* type (up to 5 % early or late: `asyncio.sleep(3)` woke after 2.855 to
  3.151 s) with the delay truncated to whole milliseconds (`sleep(0.15)` woke up to 0.9 ms
  early). asyncio never wakes early, and timeouts, backoffs and rate limits in tools count
  on it. Here timer handles wait in a heap, as in asyncio, and one *precise* Qt timer is
  armed for the earliest deadline, rounded up to the next millisecond; a wake-up that
  still comes before a deadline re-arms instead of running anything. So a timer never
  fires early and is late by about a millisecond on an idle machine. Timers longer than a
  QTimer can hold (~24 days; Dask asks for infinite ones) never fire, as in asyncio.
- `stop()` on qasync quits the QApplication: a tool calling `loop.stop()` (or
  `asyncio.get_event_loop().stop()`) closed the monitor with every live run. The loop
  stops only when `run_until_complete`'s future is done or the app asks through
  `stop_for_app()`; any other call raises `LoopStopRefused`, which fails the tool's node
  (or the agent's run) with a message saying why.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import Context
from typing import Any, TypeVar

import qasync
from PySide6.QtCore import Qt, QTimer

T = TypeVar("T")

#: QTimer takes an int of milliseconds; anything longer is "never" here
_LONGEST_DELAY = (2**31 - 1) / 1000
#: cancelled handles left in the heap before it is rebuilt without them (as in asyncio)
_CANCELLED_BEFORE_CLEANUP = 100


class LoopStopRefused(RuntimeError):
    """User code (a tool, an agent, a callback it scheduled) tried to stop the monitor's
    event loop, which every run and the window live on."""


REFUSED = (
    "loop.stop() refused: the graphdeck monitor's event loop runs the window and every "
    "live run, so a tool or agent cannot stop it; raise an exception to fail the node, "
    "or cancel the run"
)


class GraphdeckEventLoop(qasync.QEventLoop):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._soon: deque[asyncio.Handle] = deque()
        self._drain_scheduled = False
        # Invariant: `_timers` is a heap of the scheduled TimerHandles (cancelled ones
        # included until popped or cleaned up); `_wakeup` is armed for the earliest
        # deadline in it (`_armed_for`), or stopped (None) when it is empty.
        self._timers: list[asyncio.TimerHandle] = []
        self._cancelled_timers = 0
        self._armed_for: float | None = None
        self._wakeup = QTimer()
        self._wakeup.setSingleShot(True)
        self._wakeup.setTimerType(Qt.TimerType.PreciseTimer)
        self._wakeup.timeout.connect(self._on_wakeup_timeout)
        self._thread = threading.get_ident()
        # Invariant: the future `run_until_complete` runs until (None outside it); its
        # completion is the one stop() asyncio itself makes.
        self._until: asyncio.Future[Any] | None = None
        self._stop_for_app = False

    # -- callbacks ----------------------------------------------------------------------

    def call_soon(
        self, callback: Callable[..., Any], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        if not callable(callback):
            raise TypeError(f"callback must be callable: {type(callback).__name__}")
        handle = asyncio.Handle(callback, args, self, context=context)
        self._soon.append(handle)
        self._schedule_drain()
        return handle

    def _schedule_drain(self) -> None:
        if not self._drain_scheduled:
            self._drain_scheduled = True
            super().call_later(0, self._drain)

    def _drain(self) -> None:
        """Run the callbacks queued before this turn, and the timers due by now (as
        asyncio's own loop does on each turn); later ones wait for the next."""
        self._drain_scheduled = False
        timers = self._timers
        if timers and timers[0].when() <= self.time():
            self._queue_due_timers()
        soon = self._soon
        for _ in range(len(soon)):
            handle = soon.popleft()
            if not handle._cancelled:
                self._run_handle(handle)

    def _run_handle(self, handle: asyncio.Handle) -> None:
        """Run one callback. A SystemExit or KeyboardInterrupt out of it (a Task whose
        user code raised one re-raises it after storing it) is reported, never let
        through: raised into Qt's event loop it aborted the whole app."""
        try:
            handle._run()
        except (SystemExit, KeyboardInterrupt) as exc:
            self.call_exception_handler(
                {
                    "message": f"{type(exc).__name__} raised by a callback; the monitor "
                    "does not exit at user code's request",
                    "exception": exc,
                    "handle": handle,
                }
            )

    # -- timers -------------------------------------------------------------------------

    def call_later(
        self,
        delay: float,
        callback: Callable[..., Any],
        *args: Any,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def call_at(
        self,
        when: float,
        callback: Callable[..., Any],
        *args: Any,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        if not callable(callback):
            raise TypeError(f"callback must be callable: {type(callback).__name__}")
        handle = asyncio.TimerHandle(when, callback, args, self, context=context)
        if when - self.time() > _LONGEST_DELAY:
            return handle  # never fires, as asyncio's loop would not in a human lifetime
        heapq.heappush(self._timers, handle)
        handle._scheduled = True
        if self._armed_for is None or when < self._armed_for:
            self._arm(when)
        return handle

    def _arm(self, when: float) -> None:
        """Wake at `when` or just after: rounded up to the next whole millisecond."""
        self._armed_for = when
        self._wakeup.start(max(0, math.ceil((when - self.time()) * 1000)))

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        if not handle._scheduled:
            return
        self._cancelled_timers += 1
        timers = self._timers
        if self._cancelled_timers > _CANCELLED_BEFORE_CLEANUP and (
            self._cancelled_timers * 2 > len(timers)
        ):
            # Drop them now: a long timeout cancelled keeps its callback alive otherwise.
            kept = [h for h in timers if not h._cancelled]
            for dropped in timers:
                if dropped._cancelled:
                    dropped._scheduled = False
            heapq.heapify(kept)
            self._timers, self._cancelled_timers = kept, 0

    def _on_wakeup_timeout(self) -> None:
        """Queue every timer that is due (never one whose deadline is still ahead),
        run the queue, and re-arm for the next deadline."""
        self._armed_for = None
        self._queue_due_timers()
        if self._timers:
            self._arm(self._timers[0].when())
        if self._soon:
            self._drain()

    def _queue_due_timers(self) -> None:
        """Move every timer that is due (never one whose deadline is still ahead) to the
        queue of callbacks.

        The queue's drains do this too: while callbacks keep coming (a run's workers),
        Qt let each drain's zero-delay timer go before the precise one, and a 5 ms sleep
        woke 45 ms late next to tools doing 0.4 ms of work between awaits, 230 ms late
        next to 2 ms (asyncio's own loop: 5 ms). An armed wake-up that finds nothing due
        re-arms for the next deadline."""
        timers, now = self._timers, self.time()
        while timers and (timers[0]._cancelled or timers[0].when() <= now):
            handle = heapq.heappop(timers)
            handle._scheduled = False
            if handle._cancelled:
                self._cancelled_timers = max(0, self._cancelled_timers - 1)
            else:
                self._soon.append(handle)

    # -- stopping -----------------------------------------------------------------------

    def run_until_complete(self, future: Awaitable[T]) -> T:
        self._until = asyncio.ensure_future(future, loop=self)
        try:
            return super().run_until_complete(self._until)
        finally:
            self._until = None

    def stop_for_app(self) -> None:
        """Stop the loop: the app itself asks (not a tool, an agent or their callbacks)."""
        self._stop_for_app = True
        try:
            self.stop()
        finally:
            self._stop_for_app = False

    def stop(self) -> None:
        """Stop only when `run_until_complete`'s future is done or the app asks; raise
        `LoopStopRefused` for anyone else (on another thread, always)."""
        own = self._stop_for_app or (self._until is not None and self._until.done())
        if threading.get_ident() != self._thread or not own:
            raise LoopStopRefused(REFUSED)
        super().stop()

    def __exit__(self, *args: object) -> None:
        """`with loop:` is the app's (or a bench's) own code: its stop is the app's."""
        self.stop_for_app()
        self.close()

    def close(self) -> None:
        self._wakeup.stop()
        for handle in self._timers:
            handle._scheduled = False
        self._timers.clear()
        super().close()
