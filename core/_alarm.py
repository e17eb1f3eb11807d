"""A one-shot alarm that one thread re-arms and another waits on.

The loop watchdog (`_watchdog`) needs a thread that wakes only when the event loop has
not turned for a while. A thread that wakes on a timer to look costs the loop: each wake
takes the interpreter lock from it, and on the 2-core machines measured here (virtual
CPUs) a few such hand-offs per 100 ms made a CPU-bound run 4-7 % slower. So the loop
re-arms an alarm on each turn and the thread sleeps, without the interpreter lock, until
the alarm rings: while the loop is healthy it never rings and the thread never wakes.

On Linux the alarm is a kernel timer (`timerfd`): arming is one system call, and the
thread blocks reading it. Elsewhere the thread has to look: it sleeps until the deadline
and checks whether it moved (about one wake per deadline, not one per beat).
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import threading
import time
from typing import Protocol


class Alarm(Protocol):
    """Armed by one thread, waited on by another."""

    def arm(self, seconds: float) -> None:
        """Ring `seconds` from now, unless armed again before (replaces the deadline)."""

    def disarm(self) -> None:
        """Do not ring until armed again."""

    def wait(self) -> bool:
        """Block until the alarm rings (True) or is closed (False)."""

    def close(self) -> None:
        """Wake the waiter for good; it releases what the alarm holds."""


class TimerfdAlarm:
    """A Linux `timerfd`: the waiter blocks in `read` until the kernel timer expires."""

    def __init__(self) -> None:
        self._fd = _timerfd.create()
        # Invariant: set before the last ring; a waiter woken after it exits and closes.
        self._closed = False

    def arm(self, seconds: float) -> None:
        _timerfd.settime(self._fd, max(seconds, 1e-9))  # (0 would disarm it)

    def disarm(self) -> None:
        _timerfd.settime(self._fd, 0.0)

    def wait(self) -> bool:
        os.read(self._fd, 8)  # (the number of expiries: always 1 for a one-shot timer)
        if self._closed:
            os.close(self._fd)  # (only the waiter closes: no read on a closed fd)
            return False
        return True

    def close(self) -> None:
        if self._closed:
            return  # (closed by its thread, then by the loop's finalizer: the fd is gone)
        self._closed = True
        self.arm(0.0)  # (rings at once)


class PollingAlarm:
    """Portable: the waiter sleeps until the deadline, and again if it moved meanwhile."""

    def __init__(self) -> None:
        # Invariant: written by the arming thread (and set to inf by the waiter when it
        # rings); the waiter reads it after each wake.
        self._deadline = math.inf
        self._wake = threading.Event()  # set when armed from disarmed, or closed
        self._closed = False

    def arm(self, seconds: float) -> None:
        was, self._deadline = self._deadline, time.monotonic() + seconds
        if was == math.inf:
            self._wake.set()  # (the waiter may sleep with no deadline)

    def disarm(self) -> None:
        self._deadline = math.inf

    def wait(self) -> bool:
        while not self._closed:
            left = self._deadline - time.monotonic()
            if left <= 0:
                self._deadline = math.inf  # one-shot, as the timerfd
                return True
            self._wake.wait(None if left == math.inf else left)
            self._wake.clear()
        return False

    def close(self) -> None:
        self._closed = True
        self._wake.set()


class _LibcTimerfd:
    """`timerfd_create` and `timerfd_settime` through ctypes (Python < 3.13 has no
    `os.timerfd_create`)."""

    class _Itimerspec(ctypes.Structure):  # two `struct timespec`s: (tv_sec, tv_nsec)
        _fields_ = [("it_interval", ctypes.c_long * 2), ("it_value", ctypes.c_long * 2)]

    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self._create = libc.timerfd_create
        self._settime = libc.timerfd_settime

    def create(self) -> int:
        fd = self._create(time.CLOCK_MONOTONIC, os.O_CLOEXEC)  # (TFD_CLOEXEC is O_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        return fd

    def settime(self, fd: int, seconds: float) -> None:
        spec = self._Itimerspec()
        spec.it_value[0] = int(seconds)
        spec.it_value[1] = round((seconds - int(seconds)) * 1e9)  # (all zero: disarmed)
        if self._settime(fd, 0, ctypes.byref(spec), None) < 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")


class _OsTimerfd:
    """`os.timerfd_*` (Python 3.13+ on Linux)."""

    def create(self) -> int:
        return os.timerfd_create(time.CLOCK_MONOTONIC, flags=os.TFD_CLOEXEC)

    def settime(self, fd: int, seconds: float) -> None:
        os.timerfd_settime(fd, initial=seconds)  # (0: disarmed)


def _find_timerfd() -> _OsTimerfd | _LibcTimerfd | None:
    if not sys.platform.startswith("linux"):
        return None
    if hasattr(os, "timerfd_create"):
        return _OsTimerfd()
    try:
        timerfd = _LibcTimerfd()
        os.close(timerfd.create())
    except (OSError, AttributeError):  # (no such symbol, or a kernel without timerfd)
        return None
    return timerfd


_timerfd = _find_timerfd()


def new_alarm() -> Alarm:
    """The cheapest alarm this platform has."""
    return TimerfdAlarm() if _timerfd is not None else PollingAlarm()
