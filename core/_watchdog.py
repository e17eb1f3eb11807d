"""Naming the code that blocks the event loop.

The most common asyncio mistake is blocking code in an `async def` (`time.sleep`,
`requests.get`): every other node, and the monitor on the same loop, stalls. A watchdog
thread notices when the loop has not turned for longer than a threshold, takes the loop
thread's Python stack at that moment (`sys._current_frames()`), and finds whose code it
is: a running node's (its worker's coroutine chain holds the frame), an agent body's, or
nobody's (the monitor itself, a callback). When the loop turns again, the block is
reported once, with its length, the innermost line of user code and the stack, as a
`RunWarning` of kind "loop_blocked" to every run it concerns (docs/design.md §3.9).

Cheap when nothing is wrong: the loop runs one timer callback (a "beat") every quarter of
the threshold, which re-arms an alarm (`_alarm`) to ring a threshold later; the thread
sleeps until it rings, so while the loop turns it never wakes (docs/design.md §3.9).
"""

from __future__ import annotations

import asyncio
import linecache
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from ._alarm import Alarm, new_alarm
from ._frames import is_monitor_file, is_user_file

#: a frame as reported: (file, line, function, source line)
StackEntry = tuple[str, int, str, str]
#: beats per threshold: a block is measured to within a quarter of the threshold
BEATS_PER_THRESHOLD = 4


@dataclass
class Block:
    """The loop stood still: who was running, where, for how long."""

    stack: list[StackEntry]  # outermost first
    owner: Any  # the node or agent run whose code was on the stack (None: nobody's)
    began: float  # time.monotonic() of the last beat before it
    seconds: float = 0.0

    @property
    def where(self) -> StackEntry | None:
        """The innermost frame of user code, else of the monitor, else the innermost."""
        for wanted in (is_user_file, is_monitor_file):
            for entry in reversed(self.stack):
                if wanted(entry[0]):
                    return entry
        return self.stack[-1] if self.stack else None


def entry_of(frame: FrameType) -> StackEntry:
    """One frame as reported: file, line, function and the source line."""
    code = frame.f_code
    line = frame.f_lineno
    return (code.co_filename, line, code.co_name, linecache.getline(code.co_filename, line).strip())


def frame_stack(frame: FrameType | None) -> list[StackEntry]:
    """The stack ending at `frame`, outermost first."""
    entries = []
    while frame is not None:
        entries.append(entry_of(frame))
        frame = frame.f_back
    entries.reverse()
    return entries


@dataclass
class Watched:
    """A run the watchdog reports to: its threshold, and how to find its code."""

    threshold: float
    frames_of: Callable[[], Iterable[tuple[Any, set[int]]]]  # (owner, frame ids) pairs
    report: Callable[[Block], None]


@dataclass
class LoopWatchdog:
    """Watches one event loop for the runs registered with it."""

    # Invariant: weak, so that a loop closed with runs never finished is not kept alive
    # by the registry of watchdogs (which holds this).
    loop: weakref.ref[asyncio.AbstractEventLoop]
    loop_thread: int
    watched: dict[int, Watched] = field(default_factory=dict)
    # Invariant: `last_beat` is the monotonic time the loop last ran `_beat`; the thread
    # reads it, only the loop writes it (a float assignment: atomic under the GIL).
    last_beat: float = field(default_factory=time.monotonic)
    _pending: Block | None = None  # a block seen by the thread, reported at the next beat
    _beat_handle: asyncio.TimerHandle | None = None
    # Invariant: made with its thread at the first watch, closed when the loop is garbage
    # (its thread then ends). Armed while `watched` is not empty, to ring a threshold after
    # the last beat unless the loop beats again first; disarmed otherwise (the thread
    # sleeps: a monitor's loop keeps one parked thread between runs, not one per run).
    _alarm: Alarm | None = None

    @property
    def threshold(self) -> float:
        return min((w.threshold for w in list(self.watched.values())), default=0.1)

    def watch(self, key: int, watched: Watched) -> None:
        self.watched[key] = watched
        if self._alarm is None:
            self._alarm = alarm = new_alarm()
            weakref.finalize(self.loop(), alarm.close)
            threading.Thread(
                target=self._watch, args=(alarm,), name="graphdeck-watchdog", daemon=True
            ).start()
        if self._beat_handle is None:
            self._beat()

    def unwatch(self, key: int) -> None:
        """Stop reporting to `key`'s run (on the loop: it turned, so a block the thread
        saw is over, and is reported first: the run that blocked may be the one ending)."""
        self._report_pending(time.monotonic())
        self.watched.pop(key, None)
        if not self.watched and self._beat_handle is not None:
            self._beat_handle.cancel()
            self._beat_handle = None
            if self._alarm is not None:
                self._alarm.disarm()

    def _interval(self) -> float:
        return self.threshold / BEATS_PER_THRESHOLD

    def _beat(self) -> None:
        """On the loop: it turned. Report a block the thread saw since the last beat,
        and push the alarm back."""
        now = time.monotonic()
        self._report_pending(now)
        self.last_beat = now
        if self._alarm is not None and self.watched:
            self._alarm.arm(self.threshold)
            self._beat_handle = self.loop().call_later(self._interval(), self._beat)

    def _report_pending(self, now: float) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        # The block began somewhere within the beat interval before it was seen.
        pending.seconds = max(now - pending.began - self._interval() / 2, 0.0)
        for watched in list(self.watched.values()):
            if pending.seconds >= watched.threshold:
                watched.report(pending)

    def _watch(self, alarm: Alarm) -> None:
        """On the watchdog thread: sample the loop thread when the alarm rings (the loop
        has not beaten for a threshold)."""
        while alarm.wait():
            loop = self.loop()
            if loop is None or loop.is_closed():
                alarm.close()  # (closed with runs unfinished: nothing left to watch)
                continue
            watched = list(self.watched.values())
            began = self.last_beat
            if not watched or self._pending is not None:
                continue
            if time.monotonic() - began < min(w.threshold for w in watched):
                continue  # it rang as the loop beat again
            frame = sys._current_frames().get(self.loop_thread)
            if frame is None or self.last_beat != began:
                continue  # it turned meanwhile
            if _idle(frame):
                continue  # waiting for I/O: the process was not scheduled, nothing blocked
            owner = _owner_of(frame, watched)
            self._pending = Block(frame_stack(frame), owner, began)


def _idle(innermost: FrameType) -> bool:
    """The loop thread is waiting in its selector (a machine too loaded to run us on time
    looks like a block, but the loop had nothing to do)."""
    code = innermost.f_code
    return code.co_name == "select" and code.co_filename.endswith("selectors.py")


def _owner_of(innermost: FrameType, watched: list[Watched]) -> Any:
    """The node or agent whose code is running on the stack, or None.

    Its frames (a worker's, an agent body's) must be on the stack with user code at or
    below them: a worker's frame is there too while the runtime settles its node (or
    makes 100k dependents ready), and a block there is not the tool's."""
    owners = {}
    for each in watched:
        for owner, owned in each.frames_of():
            owners.update(dict.fromkeys(owned, owner))
    user_below = False
    walk: FrameType | None = innermost
    while walk is not None:
        user_below = user_below or is_user_file(walk.f_code.co_filename)
        owner = owners.get(id(walk))
        if owner is not None:
            return owner if user_below else None
        walk = walk.f_back
    return None


def coroutine_frames(coroutine: Any) -> list[FrameType]:
    """The frames of a coroutine and of the coroutines it awaits, outermost first (a
    running coroutine's chain: what a worker or an agent body is executing or awaiting)."""
    frames = []
    while coroutine is not None:
        frame = getattr(coroutine, "cr_frame", None) or getattr(coroutine, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        coroutine = getattr(coroutine, "cr_await", None) or getattr(coroutine, "gi_yieldfrom", None)
    return frames


_watchdogs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWatchdog] = (
    weakref.WeakKeyDictionary()
)


def watchdog_for(loop: asyncio.AbstractEventLoop) -> LoopWatchdog:
    """The watchdog of `loop` (made on first use; called on the loop's thread)."""
    dog = _watchdogs.get(loop)
    if dog is None:
        dog = _watchdogs[loop] = LoopWatchdog(weakref.ref(loop), threading.get_ident())
    return dog
