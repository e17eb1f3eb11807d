"""Colours and names shared by every view, so the legend always matches the drawing."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QColor

from graphdeck import NodeState, RunState

NODE_COLOURS: dict[NodeState, str] = {
    NodeState.PENDING: "#aab4c0",
    NodeState.READY: "#b9a8f0",
    NodeState.RUNNING: "#3b82f6",
    NodeState.RETRYING: "#f59e0b",
    NodeState.SUCCEEDED: "#22c55e",
    NodeState.FAILED: "#ef4444",
    NodeState.TIMED_OUT: "#c2410c",
    NodeState.CANCELLED: "#6b7280",
    # not run because something upstream failed: pale, but visible on white and on the
    # canvas's background (it was #e2e8f0, nearly invisible)
    NodeState.SKIPPED: "#f9a8d4",
}

RUN_COLOURS: dict[RunState, str] = {
    RunState.PENDING: "#aab4c0",
    RunState.RUNNING: "#3b82f6",
    RunState.SUCCEEDED: "#22c55e",
    RunState.FAILED: "#ef4444",
    RunState.CANCELLED: "#6b7280",
}


#: the graph canvas (docs/design.md §9)
CANVAS_COLOURS: dict[str, str] = {
    "background": "#ffffff",
    "edge": "#94a3b8",
    "order": "#cbd5e1",  # an agent's next step (not data)
    "outline": "#334155",
    "text": "#0f172a",
    "selected": "#0f172a",
    "path": "#2563eb",  # the selected node's upstream and downstream
    "match": "#f59e0b",  # found by Find
    "rerun": "#d946ef",  # nodes about to re-run
    "critical": "#ea580c",  # the critical path (or the longest chain so far)
    "blocked": "#be123c",  # the badge of a node that blocked the event loop
    "held": "#dc2626",  # held at a breakpoint (drawn as a thick dotted outline)
    "group": "#f8fafc",
    "agent": "#ddd6fe",  # an agent run's own box
    "frame": "#93c5fd",
    "frame-fill": "#eff6ff",
    "run-frame": "#a78bfa",
    "run-frame-fill": "#f5f3ff",
    "hint": "#64748b",
}


#: a stored run whose process died before it finished
INTERRUPTED_COLOUR = "#a855f7"


def run_colour(state: str) -> str:
    """Colour of a run state, including a stored run's "interrupted"."""
    return RUN_COLOURS.get(state, INTERRUPTED_COLOUR)  # type: ignore[call-overload]


def node_colour(state: NodeState) -> QColor:
    return QColor(NODE_COLOURS[state])


def stylesheet() -> str:
    """The app's stylesheet, shipped in graphdeck.resources (found from any install)."""
    return resources.files("graphdeck.resources").joinpath("style.qss").read_text("utf-8")


def icon_path() -> str:
    return str(resources.files("graphdeck.resources").joinpath("graphdeck.svg"))
