"""Which frames of a traceback or stack are the user's code.

Errors and warnings point at the user's line (`pipeline.py:12`), not at graphdeck's or a
library's: a frame is the user's when its file is outside graphdeck, the standard library
and installed packages.
"""

from __future__ import annotations

import sysconfig
import traceback
from pathlib import Path
from types import TracebackType

_PACKAGE_DIR = str(Path(__file__).resolve().parent)
_LIBRARY_DIRS = tuple(
    sorted(
        {
            str(Path(sysconfig.get_paths()[key]).resolve())
            for key in ("stdlib", "platstdlib", "purelib", "platlib")
        }
    )
)


def is_user_file(filename: str) -> bool:
    """Whether `filename` holds user code (not graphdeck, the stdlib or a package)."""
    if filename.startswith("<"):  # <frozen …>, <string>
        return False
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        return False
    return not resolved.startswith((_PACKAGE_DIR, *_LIBRARY_DIRS))


def innermost_user_frame(tb: TracebackType | None) -> traceback.FrameSummary | None:
    """The deepest frame of `tb` in user code (None when there is none)."""
    found = None
    for frame in traceback.extract_tb(tb):
        if is_user_file(frame.filename):
            found = frame
    return found


def where(frame: traceback.FrameSummary | None) -> str:
    """`file:line` of a frame, or "" without one."""
    return f"{frame.filename}:{frame.lineno}" if frame is not None else ""
