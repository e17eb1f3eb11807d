"""Process-wide concurrency pools.

A run's `max_concurrency` caps that run only; nested agents and concurrent runs multiply
it. The seed documents tell users to hand-roll a global semaphore for this. A `Pool` is
that semaphore, done once: pass it to `run(..., pool=p)` (every tool node of the run and
of its child runs holds a slot while it runs) or to `@tool(pool=p)`.

    api = Pool("api", 8)

    @tool(pool=api)
    async def fetch(url): ...
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["BLOCK_THRESHOLD", "YIELD_AFTER", "Limiter", "Pool", "get_pool"]

#: seconds a worker (the scheduler's, or a parallel primitive's) may run items back to
#: back before it yields to the event loop: tools that never suspend would otherwise
#: starve it (the monitor, other runs). Read when a worker starts.
YIELD_AFTER = 0.005

#: seconds the event loop may stand still before a run reports whose code blocked it, for
#: runs started without `block_threshold=` (None: no watchdog). Read when a run starts.
BLOCK_THRESHOLD: float | None = 0.1

_registry: dict[str, Pool] = {}


class Limiter:
    """A FIFO-fair counting limit, usable from any event loop (it binds to none).

    Slots are handed directly to the longest waiter on release, so a burst of new callers
    cannot overtake it. `active`, `peak` and `waiting` are for monitoring.
    """

    def __init__(self, size: int, name: str = "limiter") -> None:
        if size < 1:
            raise ValueError(f"{name!r}: size must be >= 1, got {size!r}")
        self.name = name
        self.size = size
        self.active = 0
        self.peak = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for w in self._waiters if not w.done())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.active}/{self.size} peak={self.peak}>"

    async def acquire(self) -> None:
        if self.active < self.size and not self._waiters:
            self._take()
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            # Invariant: a slot handed to a waiter is counted in `active` already; if the
            # waiter was cancelled after the hand-over, give the slot on.
            if waiter.done() and not waiter.cancelled():
                self.release()
            elif waiter in self._waiters:  # `release` may have dropped it already
                self._waiters.remove(waiter)
            raise

    def _take(self) -> None:
        self.active += 1
        if self.active > self.peak:
            self.peak = self.active

    def release(self) -> None:
        if self.active <= 0:
            raise RuntimeError(f"pool {self.name!r} released more often than acquired")
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes over: `active` is unchanged
                return
        self.active -= 1

    async def __aenter__(self) -> Limiter:
        await self.acquire()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()


class Pool(Limiter):
    """A named, process-wide limit; `get_pool(name)` finds it again."""

    def __init__(self, name: str, size: int) -> None:
        super().__init__(size, name)
        _registry[name] = self


def get_pool(name: str) -> Pool:
    """The pool most recently created under `name` (KeyError if none)."""
    return _registry[name]
