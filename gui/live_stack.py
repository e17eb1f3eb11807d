"""Where a running node is now, as the inspector says it: "awaiting asyncio.sleep at
fetch.py:31 for 42 s", then the chain down from there; and a "stuck?" hint when it has
run far longer than its finished siblings (nodes of the same tool) usually take.

`Run.where` walks a coroutine chain or samples a thread's stack: cheap, but the inspector
redraws a running node four times a second, so a `StackSampler` asks at most every
`SAMPLE_S` and remembers since when the node has been at the same place.
"""

from __future__ import annotations

import html
import os
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import graphdeck
from graphdeck import Node, NodeState

StackEntry = tuple[str, int, str, str]
SAMPLE_S = 1.0
#: the chain lists at most this many frames under the first line
CHAIN_SHOWN = 12
#: "stuck?" once a node has run this many times its siblings' p95, and a second longer
STUCK_FACTOR, STUCK_MIN_S = 3.0, 1.0
#: a p95 needs this many finished siblings to mean anything
MIN_SIBLINGS = 3
GREY = "#64748b"
AMBER = "#b45309"

#: directories of code that is not the user's: the standard library, installed packages
#: and graphdeck itself (its worker frames sit at the top of every node's stack)
_LIBRARY_DIRS = tuple(
    {
        os.path.join(os.path.realpath(d), "")
        for d in (
            *(sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib")),
            os.path.dirname(graphdeck.__file__),
            os.path.dirname(__file__),
        )
        if d
    }
)


def is_library(file: str) -> bool:
    return file.startswith("<") or os.path.realpath(file).startswith(_LIBRARY_DIRS)


def _short(entry: StackEntry) -> str:
    return f"{Path(entry[0]).name}:{entry[1]}"


def _callee(entry: StackEntry) -> str:
    """`asyncio.sleep`: a library function by its package (the directory it is in)."""
    folder = Path(entry[0]).parent.name
    return f"{folder}.{entry[2]}" if folder and folder != "site-packages" else entry[2]


@dataclass
class Sample:
    """One look at where a node is."""

    node: Node
    stack: list[StackEntry]  # outermost first (`Run.where`)
    taken: float  # time.monotonic()
    since: float  # time.time() it was first seen at its innermost place
    exact: bool  # False: it may have been there before the first look
    stuck: str  # `stuck_words` when taken ("" if not stuck)


class StackSampler:
    """The last sample of the node inspected; a new one once it is `SAMPLE_S` old."""

    def __init__(self) -> None:
        self.last: Sample | None = None

    def sample(self, node: Node, run: Any) -> Sample:
        last, now = self.last, time.monotonic()
        if last is not None and last.node is node and now - last.taken < SAMPLE_S:
            return last
        stack = list(run.where(node.id))
        wall = time.time()
        if last is not None and last.node is node:
            same = bool(stack) and bool(last.stack) and last.stack[-1][:2] == stack[-1][:2]
            since, exact = (last.since, last.exact) if same else (wall, True)
        else:  # first look: it has been there since it started at most
            started = node.started_at or wall
            since, exact = wall, wall - started < SAMPLE_S
        stuck = stuck_words(node, run, wall)  # (scans the run's nodes: once per sample)
        self.last = Sample(node, stack, now, min(since, wall), exact, stuck)
        return self.last


def place_words(node: Node, sample: Sample) -> str:
    """`awaiting asyncio.sleep at fetch.py:31 for 42 s`: what the innermost line of user
    code is in (a library call it awaits, or itself); a plain `def` tool says it is in a
    worker thread."""
    stack = sample.stack
    users = [i for i, entry in enumerate(stack) if not is_library(entry[0])]
    ours = users[-1] if users else len(stack) - 1
    entry, inner = stack[ours], stack[-1]
    is_async = getattr(node.tool, "is_async", True)
    if ours < len(stack) - 1:
        said = f"{'awaiting' if is_async else 'in'} {_callee(inner)} at {_short(entry)}"
    else:
        said = f"at {_short(entry)} in {entry[2]}: {entry[3].strip()}"
    seconds = time.time() - sample.since
    said += f" for {'' if sample.exact else 'at least '}{seconds:.0f} s"
    return said if is_async else said + " (in a worker thread)"


def stack_html(node: Node, sample: Sample) -> str:
    """The place in words, then the chain, innermost first."""
    if not sample.stack:
        return ""
    rows = "".join(
        f"<tr><td><tt>{html.escape(_short(e))}</tt></td><td>{html.escape(e[2])}</td>"
        f"<td><tt>{html.escape(e[3].strip())}</tt></td></tr>"
        for e in list(reversed(sample.stack))[:CHAIN_SHOWN]
    )
    more = len(sample.stack) - CHAIN_SHOWN
    tail = f"<p style='color:{GREY}'>… {more} outer frame(s)</p>" if more > 0 else ""
    return (
        f"<p><b>{html.escape(place_words(node, sample))}</b></p>"
        f"<table cellpadding=2 style='color:{GREY}'>{rows}</table>{tail}"
    )


def stuck_words(node: Node, run: Any, now: float | None = None) -> str:
    """`stuck? running 42 s, 14× the p95 (3.0 s) of 20 finished fetch nodes` ("" if not)."""
    if node.state is not NodeState.RUNNING or node.started_at is None:
        return ""
    now = time.time() if now is None else now
    tool = node.tool.name
    took = [
        n.finished_at - n.started_at
        for n in run.nodes.values()
        if n is not node
        and n.state is NodeState.SUCCEEDED
        and n.tool.name == tool
        and n.started_at is not None
        and n.finished_at is not None
    ]
    if len(took) < MIN_SIBLINGS:
        return ""
    p95 = float(np.percentile(took, 95))
    running = now - node.started_at
    if running < STUCK_FACTOR * p95 or running - p95 < STUCK_MIN_S:
        return ""
    times = f"{running / p95:.0f}× " if p95 > 0 else ""
    return (
        f"stuck? running {running:.0f} s, {times}the p95 ({p95:.2f} s) of its "
        f"{len(took)} finished siblings ({tool} nodes)"
    )


def running_html(node: Node, run: Any, sampler: StackSampler) -> str:
    """The inspector's live lines for a running node: where it is, and the hint."""
    if node.state is not NodeState.RUNNING:
        return ""
    sample = sampler.sample(node, run)
    stuck = sample.stuck
    hint = f"<p style='color:{AMBER}'><b>{html.escape(stuck)}</b></p>" if stuck else ""
    return hint + stack_html(node, sample)
