"""A node's record as the inspector shows it (HTML): what it is, why it did not run or
is not running, for how long it has run, where its inputs come from, its outputs, error
and attempts. Only what is true of the node: one that never ran has no attempt number,
no times and no place it ran."""

from __future__ import annotations

import html
import time
import traceback
from typing import Any

from graphdeck import Node, NodeState, Ref, Run
from graphdeck.values import short_repr, show_value

from .cancel_reason import why_not_run
from .live_stack import StackSampler, running_html
from .loop_blocks import blocks_html
from .runtime_frames import in_runtime
from .theme import NODE_COLOURS
from .tracker import RunTracker

#: fan-in inputs list at most this many sources by name
SOURCES_SHOWN = 12
RED = "#b91c1c"
GREY = "#64748b"


def clock(stamp: float | None) -> str:
    if stamp is None:
        return "–"
    return time.strftime("%H:%M:%S", time.localtime(stamp)) + f".{int(stamp % 1 * 1000):03d}"


def node_html(
    node: Node,
    run: Run | None,
    tracker: RunTracker | None,
    stacks: StackSampler | None = None,
) -> str:
    """The whole record of `node` of `run` (None: a node of a preview, never run);
    `stacks` samples where a running node is (None: not said)."""
    parts = [f"<h3>{html.escape(node.id)}</h3>", _state_line(node)]
    if run is not None:
        parts += _why_lines(node, run, tracker)
    parts += _time_lines(node, run, stacks)
    blocks = [w for w in tracker.blocks if w.node_id == node.id] if tracker is not None else []
    if blocks:
        parts += ["<h4>Blocked the event loop</h4>", blocks_html(blocks)]
    edited = f" <i style='color:{GREY}'>(edited)</i>" if node.inputs_edited else ""
    parts += [f"<h4>Inputs{edited}</h4>", inputs_html(node)]
    if node.outputs is not None:
        parts += ["<h4>Outputs</h4>", f"<pre>{html.escape(show_value(node.outputs))}</pre>"]
    if node.error is not None:
        trace = getattr(node.error, "stored_traceback", None) or user_traceback(node.error)
        parts += ["<h4>Error</h4>", f"<pre style='color:{RED}'>{html.escape(trace)}</pre>"]
    parts += _attempts_lines(node)
    return "".join(parts)


def user_traceback(error: BaseException) -> str:
    """`error`'s traceback without the runtime's frames (the worker that awaited the tool,
    the scheduler), saying how many were left out."""
    shown = traceback.TracebackException.from_exception(error)
    hidden = 0
    each: traceback.TracebackException | None = shown
    seen: set[int] = set()
    while each is not None and id(each) not in seen:
        seen.add(id(each))
        kept = [f for f in each.stack if not in_runtime(f.filename)]
        hidden += len(each.stack) - len(kept)
        each.stack = traceback.StackSummary.from_list(kept)
        each = each.__cause__ or each.__context__
    note = f"({hidden} frame(s) of graphdeck's runtime not shown)\n" if hidden else ""
    return "".join(shown.format()) + note


def _state_line(node: Node) -> str:
    colour = NODE_COLOURS[node.state]
    if node.attempt:
        attempt = f" · attempt {node.attempt}"
    else:  # an end without an attempt (skipped, cancelled before it ran) is for good
        attempt = " · did not run" if node.state.is_terminal else " · not run yet"
    return (
        f"<p>tool <b>{html.escape(node.tool.name)}</b> · state "
        f"<b style='color:{colour}'>{node.state.value}</b>{attempt}</p>"
    )


def _why_lines(node: Node, run: Run, tracker: RunTracker | None) -> list[str]:
    reason = why_not_run(node, run, tracker)
    if reason:
        return [f"<p><b>{html.escape(reason)}</b></p>"]
    waiting = getattr(run, "waiting_for", None)
    if node.state in (NodeState.PENDING, NodeState.READY) and waiting is not None:
        said = waiting_words(waiting(node.id))
        return [f"<p style='color:{GREY}'>{html.escape(said)}</p>"] if said else []
    return []


def waiting_words(reasons: dict[str, Any]) -> str:
    """`Run.waiting_for` in words."""
    said = []
    if "upstream" in reasons:
        pending = ", ".join(f"{i} ({state})" for i, state in reasons["upstream"][:SOURCES_SHOWN])
        said.append(f"waiting for upstream {pending}")
    if "slot" in reasons:
        slot = reasons["slot"]
        busy = slot["busy"]
        names = ", ".join(busy[:SOURCES_SHOWN]) + (", …" if len(busy) > SOURCES_SHOWN else "")
        said.append(
            f"waiting for a slot: cap {slot['cap']}, {len(busy)} busy"
            + (f" ({names})" if names else "")
        )
    if "pool" in reasons:
        pool = reasons["pool"]
        said.append(
            f"waiting for pool {pool['name']!r}: {pool['active']}/{pool['size']} busy, "
            f"{pool['waiting']} waiting"
        )
    return "; ".join(said)


def _time_lines(node: Node, run: Run | None, stacks: StackSampler | None) -> list[str]:
    if not node.attempt or node.started_at is None:
        return []
    if node.state in (NodeState.RUNNING, NodeState.RETRYING) and node.finished_at is None:
        lines = [
            f"<p>started {clock(node.started_at)} · <b>running for "
            f"{time.time() - node.started_at:.1f} s</b></p>"
        ]
        if run is not None and stacks is not None and hasattr(run, "where"):
            lines.append(running_html(node, run, stacks))
    else:
        duration = (
            f" · {(node.finished_at - node.started_at) * 1000:.1f} ms" if node.finished_at else ""
        )
        lines = [
            f"<p>started {clock(node.started_at)} · finished {clock(node.finished_at)}"
            f"{duration}</p>"
        ]
    lines.append(f"<p>ran on {html.escape(node.where or 'this process')}</p>")
    return lines


def inputs_html(node: Node) -> str:
    """One row per input: where it comes from (`← step_0.done`) and its value once known."""
    declared = node.declared_inputs
    resolved = node.resolved_inputs
    ended = node.state.is_terminal  # unresolved then means never: it will not run now
    if not declared:
        return f"<p style='color:{GREY}'>none</p>"
    rows = []
    for name, value in declared.items():
        sources = _sources(value)
        if resolved is not None and name in resolved:
            shown = html.escape(short_repr(resolved[name], 2000))
        elif sources:
            pending = "never resolved (the node did not run)" if ended else "not known yet"
            shown = f"<span style='color:{GREY}'>{pending}</span>"
        else:
            shown = html.escape(short_repr(value, 2000))
        origin = html.escape(sources) if sources else ""
        rows.append(
            f"<tr><td><b>{html.escape(name)}</b></td><td style='color:{GREY}'>{origin}</td>"
            f"<td><tt>{shown}</tt></td></tr>"
        )
    return f"<table cellpadding=2>{''.join(rows)}</table>"


def _sources(value: Any) -> str:
    """`← step_0.done`, or `← work_0.out, work_1.out, … (150)` for a fan-in ("": none)."""
    refs: list[Ref] = []
    _collect_refs(value, refs)
    if not refs:
        return ""
    names = [f"{r.node_id}.{r.key}" if r.key else r.node_id for r in refs]
    if len(names) > SOURCES_SHOWN:
        return f"← {', '.join(names[:SOURCES_SHOWN])}, … ({len(names)})"
    return "← " + ", ".join(names)


def _collect_refs(value: Any, into: list[Ref]) -> None:
    if isinstance(value, Ref):
        into.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_refs(item, into)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_refs(item, into)


def _attempts_lines(node: Node) -> list[str]:
    attempts = node.attempts
    if not attempts:
        return []
    rows = "".join(
        f"<tr><td>{a.number}</td><td>{a.state.value}</td><td>{clock(a.started_at)}</td>"
        f"<td>{clock(a.finished_at)}</td>"
        f"<td>{html.escape(short_repr(a.error, 2000)) if a.error else ''}</td></tr>"
        for a in attempts
    )
    return [
        "<h4>Attempts</h4>",
        "<table cellpadding=3><tr><th>#</th><th>outcome</th><th>start</th>"
        f"<th>end</th><th>error</th></tr>{rows}</table>",
    ]
