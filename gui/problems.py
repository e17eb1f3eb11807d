"""Why a graph cannot be built or started, as the one line the monitor shows."""

from __future__ import annotations

import re
from pathlib import Path

from graphdeck import GraphBuildError
from graphdeck.loader import line_in_file

#: "path/to/file.py:12: …": a message that already says where
_LOCATED = re.compile(r"^\S[^:\n]*:\d+: ")


def describe_problem(exc: BaseException, file: Path | None) -> str:
    """`file:line: what went wrong`, the same words as the CLI where it can.

    A `GraphBuildError` names the builder line that failed itself (whatever the builder
    raised); it is shown as it is, with the file in front only when it names no place.
    Anything else gets the deepest line of `file` in its traceback and its type.
    """
    if isinstance(exc, GraphBuildError):
        message = str(exc)
        if _LOCATED.match(message) or file is None:
            return message
        return f"{file}: {message}"
    line = line_in_file(exc, file) if file is not None else None
    where = f"{file}:{line}" if line else str(file)
    return f"{where}: {type(exc).__name__}: {exc}"
