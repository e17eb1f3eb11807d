"""Blocks of the event loop as the monitor says them: the status line, the inspector's
section with the stack, and the intervals the occupancy plot and the timeline band.

The core reports each block once, after the loop turned again, as a `RunWarning` of kind
"loop_blocked" (docs/design.md §3.9); the monitor runs on that loop, so it is frozen
during the block and can only say it just after.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path

from graphdeck.events import RunWarning

from .runtime_frames import in_runtime

KIND = "loop_blocked"
RED = "#b91c1c"
GREY = "#64748b"
#: frames shown of a block in graphdeck's own code (no user code on the stack)
RUNTIME_FRAMES_SHOWN = 6


def is_block(warning: RunWarning) -> bool:
    return warning.kind == KIND and warning.details is not None


def who(warning: RunWarning) -> str:
    """`rude_0`, `agent 'planner'`, or whom the core named: `code outside any node`,
    `the monitor itself`."""
    details = warning.details or {}
    if details.get("node"):
        return str(details["node"])
    if details.get("agent"):
        return f"agent {details['agent']!r} (its own body, not a tool)"
    said, found, _ = warning.message.partition(" blocked the event loop")
    return said if found else "code outside any node"


def short_where(warning: RunWarning) -> str:
    """`blocker.py:17` (the file's name only: the full path is in the stack)."""
    where = (warning.details or {}).get("where") or "an unknown place"
    file, _, line = where.rpartition(":")
    return f"{Path(file).name}:{line}" if file and line.isdigit() else where


def block_line(warning: RunWarning) -> str:
    """`rude_0 blocked the event loop for 4.7 s at blocker.py:17`"""
    seconds = (warning.details or {}).get("seconds", 0.0)
    return f"{who(warning)} blocked the event loop for {seconds:.1f} s at {short_where(warning)}"


def blocks_html(warnings: Iterable[RunWarning]) -> str:
    """The inspector's section: each block with its length, place, code line and stack
    (innermost first: the line that blocked is the one to read first)."""
    parts = []
    for warning in warnings:
        details = warning.details or {}
        code = details.get("code") or ""
        parts.append(
            f"<p style='color:{RED}'><b>blocked the event loop for "
            f"{details.get('seconds', 0.0):.2f} s</b> at {html.escape(short_where(warning))}"
            + (f": <tt>{html.escape(code)}</tt>" if code else "")
            + "</p>"
        )
        stack = details.get("stack") or []
        shown = _own_frames(stack)
        rows = "".join(
            f"<tr><td><tt>{html.escape(Path(str(file)).name)}:{line}</tt></td>"
            f"<td>{html.escape(str(function))}</td><td><tt>{html.escape(str(text))}</tt></td></tr>"
            for file, line, function, text in shown
        )
        if rows:
            left = len(stack) - len(shown)
            more = f" ({left} frames of graphdeck and the event loop below)" if left else ""
            parts.append(
                f"<p style='color:{GREY}'>stack, innermost first{more}:</p>"
                f"<table cellpadding=2>{rows}</table>"
            )
    return "".join(parts)


def _own_frames(stack: list) -> list:
    """Innermost first, down to the first of graphdeck's frames (the worker that awaited
    the tool, then the event loop and the app: the same in every block); all of them, up
    to `RUNTIME_FRAMES_SHOWN`, when the block was in graphdeck itself."""
    innermost_first = list(reversed(stack))
    own = []
    for entry in innermost_first:
        if in_runtime(str(entry[0])):
            break
        own.append(entry)
    return own or innermost_first[:RUNTIME_FRAMES_SHOWN]


def intervals(warnings: Iterable[RunWarning], origin: float) -> list[tuple[float, float]]:
    """(start, end) of each block in seconds from `origin`: a block is reported when the
    loop turns again, so it ended at the warning's time and began `seconds` before."""
    spans = []
    for warning in warnings:
        seconds = float((warning.details or {}).get("seconds", 0.0))
        end = warning.time - origin
        spans.append((end - seconds, end))
    return spans
