"""Tasks a widget starts and owns: they are cancelled when it goes away, since what they
would report to (labels, lists, questions) is deleted with it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class OwnedTasks:
    """The tasks still going that one owner started; `cancel_all` when it closes."""

    def __init__(self) -> None:
        # Invariant: exactly the owner's tasks not done yet (each removes itself when done).
        self._going: set[asyncio.Task[Any]] = set()

    def start(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `coro` on the running loop as a task kept until it is done."""
        task = asyncio.get_event_loop().create_task(coro)
        self._going.add(task)
        task.add_done_callback(self._going.discard)
        return task

    def cancel_all(self) -> None:
        for task in list(self._going):
            task.cancel()

    def __len__(self) -> int:
        return len(self._going)


def loop_running() -> bool:
    """An event loop runs in this thread (after the app's loop ended, none does: nothing
    can be waited for then)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
