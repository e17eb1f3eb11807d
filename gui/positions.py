"""Where a thread is now, in words a user reads: `slow.py:8`, the line of their file it is
at (or inside a call from), for "importing slow.py: 12 s, now at slow.py:8".

No Qt here: the loading child process (`load_child`) uses it too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType


def position_of(thread_id: int | None, file: Path) -> str:
    """The position of thread `thread_id` in `file` ("" if the thread is gone)."""
    if thread_id is None:
        return ""
    frame = sys._current_frames().get(thread_id)
    return position_in(frame, file) if frame is not None else ""


def position_in(frame: FrameType, file: Path) -> str:
    """`file.py:8`: the innermost line of `file` on the stack ending at `frame`; then, if
    that is not the innermost frame, where the stack really is (`… in socket.py:705`).
    With no frame of `file` on the stack: the innermost frame."""
    target = str(file)
    innermost = frame
    ours: FrameType | None = None
    walking: FrameType | None = frame
    while walking is not None:
        if walking.f_code.co_filename == target:
            ours = walking
            break
        walking = walking.f_back
    if ours is None:
        return _short(innermost)
    if ours is innermost:
        return _short(ours)
    return f"{_short(ours)} (in {_short(innermost)})"


def _short(frame: FrameType) -> str:
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}"
