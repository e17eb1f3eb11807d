"""Which code a run started again (or re-run) gets: its graph file as it is now, never an
older version without saying so.

After a reload that failed (a syntax error saved), the document holds no graphs and no
tools, and starting a run of that file again is refused with the load error: the user
fixes the file, or knowingly runs nothing. A run whose file is not the open one is
re-run in place with the code it was loaded with, and the question says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from graphdeck.loader import GraphDef

from .document import GraphDocument


class CodeProblem(Exception):
    """The file's current code cannot be had: one line, for the error label."""


def load_refusal(document: GraphDocument, file: Path | None) -> str | None:
    """Why a run of `file` must not start or re-run now (None: it may)."""
    if file is None or document.path != file:
        return None
    if document.busy:
        return f"{file.name} is loading: try again once it has loaded"
    if document.error is not None:
        return (
            f"{file.name} failed to load, so it has no current code to run: "
            f"{document.error} (fix it and save, or reload with Ctrl+R)"
        )
    return None


async def definition_from_file(
    document: GraphDocument,
    open_file: Callable[[Path], Awaitable[None]],
    file: Path,
    name: str,
) -> GraphDef:
    """Graph `name` as `file` defines it now (the file opened first if it is not the open
    one). Raises CodeProblem: the file is gone, failed to load, or lost the graph."""
    if not await asyncio.to_thread(file.is_file):
        raise CodeProblem(f"its graph file {file} is not there any more")
    if document.path != file:
        await open_file(file)
    refusal = load_refusal(document, file)
    if refusal is not None:
        raise CodeProblem(refusal)
    definition = document.graphs.get(name)
    if definition is None:
        raise CodeProblem(f"{file}: no graph named {name!r} any more")
    return definition


def code_note(document: GraphDocument, file: Path | None, loaded_at: float | None) -> str:
    """For a re-run in place: which code it runs, when that is not the file as loaded now
    ("" when it is, or when the graph comes from no file)."""
    if file is None or document.path == file:
        return ""
    when = time.strftime("%H:%M:%S", time.localtime(loaded_at)) if loaded_at else "its start"
    return (
        f"\n\n{file.name} is not the open file: this re-run uses its code as loaded at "
        f"{when}, not the file as it is now (open it first to run its current code)."
    )
