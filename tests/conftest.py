"""Test set-up shared by the whole suite.

- Qt runs offscreen: set before any QApplication can exist.
- `async def` tests run on a fresh event loop each (no plugin needed), and fail if they
  leave tasks behind or if the loop logged an exception nobody handled.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import pytest

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


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    run_on_fresh_loop(pyfuncitem.obj(**kwargs))
    return True
