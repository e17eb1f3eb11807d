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

KIND = "loop_blocked"
RED = "#b91c1c"
GREY = "#64748b"


def is_block(warning: RunWarning) -> bool:
    return warning.kind == KIND and warning.details is not None


def who(warning: RunWarning) -> str:
    """`rude_0`, `agent 'planner'`, or `code outside any node`."""
    details = warning.details or {}
    if details.get("node"):
        return str(details["node"])
    if details.get("agent"):
        return f"agent {details['agent']!r} (its own body, not a tool)"
    return "code outside any node"


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
        rows = "".join(
            f"<tr><td><tt>{html.escape(Path(str(file)).name)}:{line}</tt></td>"
            f"<td>{html.escape(str(function))}</td><td><tt>{html.escape(str(text))}</tt></td></tr>"
            for file, line, function, text in reversed(stack)
        )
        if rows:
            parts.append(
                f"<p style='color:{GREY}'>stack, innermost first:</p>"
                f"<table cellpadding=2>{rows}</table>"
            )
    return "".join(parts)


def intervals(warnings: Iterable[RunWarning], origin: float) -> list[tuple[float, float]]:
    """(start, end) of each block in seconds from `origin`: a block is reported when the
    loop turns again, so it ended at the warning's time and began `seconds` before."""
    spans = []
    for warning in warnings:
        seconds = float((warning.details or {}).get("seconds", 0.0))
        end = warning.time - origin
        spans.append((end - seconds, end))
    return spans
