"""The app's event loop: qasync's, with asyncio's ready queue for `call_soon`.

qasync 0.28 implements `call_soon` as `call_later(0)`: every callback starts and kills a
Qt timer. A run whose tools suspend once per node schedules several callbacks per node, so
that cost made a 10,000-node run 1.5x slower under qasync than under asyncio's own loop
(bench/gui_load.py). Here callbacks queue up and one zero-delay Qt timer drains each burst,
the way asyncio runs its `_ready` queue once per iteration; Qt events still get their turn
between bursts. Timers with a real delay are left to qasync, except those longer than a
QTimer can hold (~24 days; Dask asks for infinite ones): like asyncio, they never fire.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextvars import Context
from typing import Any

import qasync

#: QTimer takes an int of milliseconds; anything longer is "never" here
_LONGEST_DELAY = (2**31 - 1) / 1000


class GraphdeckEventLoop(qasync.QEventLoop):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._soon: deque[asyncio.Handle] = deque()
        self._drain_scheduled = False

    def call_soon(
        self, callback: Callable[..., Any], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        if not callable(callback):
            raise TypeError(f"callback must be callable: {type(callback).__name__}")
        handle = asyncio.Handle(callback, args, self, context=context)
        self._soon.append(handle)
        if not self._drain_scheduled:
            self._drain_scheduled = True
            super().call_later(0, self._drain)
        return handle

    def call_later(
        self,
        delay: float,
        callback: Callable[..., Any],
        *args: Any,
        context: Context | None = None,
    ) -> asyncio.TimerHandle | asyncio.Handle:
        if delay > _LONGEST_DELAY:
            return asyncio.TimerHandle(self.time() + delay, callback, args, self, context=context)
        return super().call_later(delay, callback, *args, context=context)

    def _drain(self) -> None:
        """Run the callbacks queued before this turn; later ones wait for the next."""
        self._drain_scheduled = False
        soon = self._soon
        for _ in range(len(soon)):
            handle = soon.popleft()
            if not handle._cancelled:
                handle._run()
