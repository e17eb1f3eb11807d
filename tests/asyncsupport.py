"""Helpers for async tests: run a coroutine on a fresh loop with leak checks, and wait for
a run's condition event by event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

ASYNC_TEST_TIMEOUT = 30.0


def run_on_fresh_loop(coro: Any, timeout: float = ASYNC_TEST_TIMEOUT) -> Any:
    """Run `coro` on a new loop; fail on leaked tasks or unhandled loop errors."""
    loop = asyncio.new_event_loop()
    loop_errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    try:
        result = loop.run_until_complete(asyncio.wait_for(coro, timeout))
        loop.run_until_complete(asyncio.sleep(0))  # let done-callbacks run
        leaked = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in leaked:
            task.cancel()
        if leaked:
            loop.run_until_complete(asyncio.wait(leaked, timeout=1.0))
        assert not leaked, f"test left {len(leaked)} task(s) running: {leaked[:3]}"
        assert not loop_errors, f"the event loop logged errors: {loop_errors[:3]}"
        return result
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def until(run: Any, condition: Callable[[], bool]) -> None:
    """Wait, event by event, until `condition()` holds for `run` (every state change is an
    event, so this never misses one and never sleeps on a guess)."""
    if condition():
        return
    async for _ in run.events():
        if condition():
            return
    raise AssertionError("the run finished before the condition held")
