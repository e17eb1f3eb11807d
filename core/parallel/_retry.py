"""`retry`: call an async function again after failures, with exponential backoff.

Never retries (or swallows) `CancelledError`, `KeyboardInterrupt` or `SystemExit`: a
retry loop that catches the cancellation an outer timeout delivers turns a timeout into a
hang (tenacity issue 529). Only exceptions listed in `retry_on` are retried.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
_NEVER_RETRIED = (asyncio.CancelledError, KeyboardInterrupt, SystemExit, GeneratorExit)


@dataclass(frozen=True)
class RetryPolicy:
    """max_attempts: total tries (>= 1). backoff: seconds before the 2nd try, doubling
    after each failure, capped at max_backoff. jitter: each delay is scaled by a random
    factor in [1 - jitter, 1 + jitter]. retry_on: exception types worth retrying."""

    max_attempts: int = 3
    backoff: float = 0.1
    max_backoff: float = 10.0
    jitter: float = 0.1
    retry_on: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts!r}")
        if self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("backoff and max_backoff must be >= 0")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be within [0, 1], got {self.jitter!r}")

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure."""
        base = min(self.max_backoff, self.backoff * (2 ** (failures - 1)))
        if self.jitter:
            base *= random.uniform(1 - self.jitter, 1 + self.jitter)
        return max(0.0, base)


async def retry(fn: Callable[[], Awaitable[T]], policy: RetryPolicy | None = None) -> T:
    """Await `fn()` until it succeeds or `policy.max_attempts` are used up; the last
    error is raised (with the number of attempts in a note)."""
    policy = policy or RetryPolicy()
    failures = 0
    while True:
        try:
            return await fn()
        except _NEVER_RETRIED:
            raise
        except policy.retry_on as error:
            failures += 1
            if failures >= policy.max_attempts:
                error.add_note(f"graphdeck.parallel.retry: gave up after {failures} attempts")
                raise
        await asyncio.sleep(policy.delay(failures))
