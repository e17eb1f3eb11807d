"""Which frames of a traceback or stack are the user's code.

Errors and warnings point at the user's line (`pipeline.py:12`), not at graphdeck's or a
library's: a frame is the user's when its file is outside graphdeck, the standard library,
installed packages and the environment's scripts (the `graphdeck` launcher's
`sys.exit(main())` is at the bottom of every stack in the monitor: a block that showed
nothing else was blamed on "graphdeck:6").
"""

from __future__ import annotations

import functools
import importlib.util
import sysconfig
import traceback
from pathlib import Path
from types import TracebackType

_PACKAGE_DIR = str(Path(__file__).resolve().parent)
_LIBRARY_DIRS = tuple(
    sorted(
        {
            str(Path(sysconfig.get_paths()[key]).resolve())
            for key in ("stdlib", "platstdlib", "purelib", "platlib", "scripts")
        }
    )
)


@functools.cache
def monitor_dir() -> str | None:
    """Where the monitor (`graphdeck.gui`) lives, found without importing it (beside the
    core in an editable install, inside it otherwise): its frames are neither the user's
    nor the runtime's, and a block there is the monitor's own."""
    try:
        spec = importlib.util.find_spec("graphdeck.gui")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))).resolve())


@functools.cache
def _resolved(filename: str) -> str | None:
    if filename.startswith("<"):  # <frozen …>, <string>
        return None
    try:
        return str(Path(filename).resolve())
    except OSError:
        return None


def is_monitor_file(filename: str) -> bool:
    resolved, monitor = _resolved(filename), monitor_dir()
    return resolved is not None and monitor is not None and resolved.startswith(monitor)


def is_user_file(filename: str) -> bool:
    """Whether `filename` holds user code (not graphdeck, its monitor, the stdlib or a
    package)."""
    resolved = _resolved(filename)
    if resolved is None:
        return False
    return not resolved.startswith((_PACKAGE_DIR, *_LIBRARY_DIRS)) and not is_monitor_file(filename)


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
