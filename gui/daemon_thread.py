"""Running user code that may never return (importing a graph file, building a graph)
without ever blocking the GUI thread or the app's exit."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def in_daemon_thread(fn: Callable[..., T], *args: object, name: str) -> asyncio.Future[T]:
    """Run `fn(*args)` in a new daemon thread called `name`; await the result on the loop.
    (`start_daemon_thread` also gives the thread, to see where it is.)
    """
    return start_daemon_thread(fn, *args, name=name)[0]


def start_daemon_thread(
    fn: Callable[..., T], *args: object, name: str
) -> tuple[asyncio.Future[T], threading.Thread]:
    """Run `fn(*args)` in a new daemon thread called `name`: the future of its result on
    the running loop, and the thread.

    Why not `asyncio.to_thread`: its pool threads are joined at exit, so one builder stuck
    in `while True` would keep the app from exiting; a daemon thread is abandoned instead.
    Cancelling the future only stops waiting: Python cannot interrupt the thread, whose
    late result is then dropped.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(setter: Callable[[Any], None], value: Any) -> None:
        if not future.done():  # the awaiting task may have been cancelled meanwhile
            setter(value)

    def hand_over(setter: Callable[[Any], None], value: Any) -> None:
        # The loop may be closed by now (the app exited while the code ran): drop it.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, setter, value)

    def work() -> None:
        try:
            value = fn(*args)
        except BaseException as exc:  # handed to the awaiting coroutine
            hand_over(future.set_exception, exc)
        else:
            hand_over(future.set_result, value)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    return future, thread
