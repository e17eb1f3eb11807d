"""Which frames of a traceback or stack are graphdeck's own (the worker that awaited a
tool, the scheduler, the monitor's event loop): they say nothing about the user's code,
so the inspector leaves them out and says how many."""

from __future__ import annotations

from pathlib import Path

import graphdeck

#: graphdeck's installed files (the monitor's too when it is installed inside the package)
RUNTIME_DIR = str(Path(graphdeck.__file__).resolve().parent)
#: the monitor's own files (beside the core in an editable install)
MONITOR_DIR = str(Path(__file__).resolve().parent)


def in_runtime(filename: str) -> bool:
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        return False
    return resolved.startswith((RUNTIME_DIR, MONITOR_DIR))
