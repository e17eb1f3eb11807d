"""A stored run as a JSON document, or as a Chrome trace (Trace Event Format) that
Perfetto and chrome://tracing open.

Trace layout: one process per run (child runs are processes of their own), one thread per
slot lane (an attempt takes the lowest lane free when it starts, so lanes are the slots in
use), an "X" complete event per attempt, a counter track for occupancy and instant events
for channel messages and warnings. Times are microseconds from the run's start.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import stat
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..values import short_repr
from ._store import RunStore, StoredRun, load_with_children

FORMATS = ("json", "trace")


def run_document(run: StoredRun, children: list[StoredRun] = ()) -> dict[str, Any]:
    """Everything the history holds about a run (and its child runs), JSON-ready."""
    return {
        "format": "graphdeck-run",
        "version": 1,
        "run": {
            **asdict(run.summary),
            "inputs": run.inputs,
            "inputs_restorable": run.inputs_restorable,
            "max_concurrency": run.max_concurrency,
            "on_error": run.on_error,
            "outputs": run.outputs,
            "rounds": run.rounds,
        },
        "nodes": [asdict(node) for node in run.nodes],
        "messages": [
            {
                "time": t,
                "kind": kind,
                "source": source,
                "node_id": node,
                "text": text,
                "details": None if details is None else json.loads(details),
            }
            for t, kind, source, node, text, details in run.messages
        ],
        "occupancy": [
            {"time": t, "group": group, "active": active, "peak": peak, "cap": cap}
            for t, group, active, peak, cap in run.occupancy
        ],
        "children": [run_document(child) for child in children],
    }


def chrome_trace(run: StoredRun, children: list[StoredRun] = ()) -> dict[str, Any]:
    """The run (and its child runs) in the Trace Event Format's JSON object form."""
    origin = run.summary.started_at or 0.0
    events: list[dict[str, Any]] = []
    for pid, each in enumerate([run, *children], start=1):
        _trace_run(each, pid, origin, events)
    return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": {"run_id": run.id}}


def _us(t: float, origin: float) -> float:
    return round((t - origin) * 1e6, 3)


def _trace_run(run: StoredRun, pid: int, origin: float, out: list[dict[str, Any]]) -> None:
    name = f"{run.summary.graph} ({run.id}, {run.summary.state})"
    out.append(
        {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "ts": 0, "args": {"name": name}}
    )
    attempts = sorted(
        (attempt.started_at, attempt.finished_at or attempt.started_at, node, attempt)
        for node in run.nodes
        if node.kind != "map"
        for attempt in node.attempts
        if attempt.started_at is not None
    )
    free: list[int] = []
    busy: list[tuple[float, int]] = []  # (end, lane) of attempts still holding a lane
    lanes = 0
    for start, end, node, attempt in attempts:
        while busy and busy[0][0] <= start:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            lane = heapq.heappop(free)
        else:
            lanes += 1
            lane = lanes
        heapq.heappush(busy, (end, lane))
        out.append(
            {
                "ph": "X",
                "name": node.id,
                "cat": attempt.state,
                "pid": pid,
                "tid": lane,
                "ts": _us(start, origin),
                "dur": max(0.0, _us(end, origin) - _us(start, origin)),
                "args": {
                    "tool": node.tool,
                    "attempt": attempt.number,
                    "state": attempt.state,
                    "error": attempt.error,
                    "worker": attempt.worker,
                },
            }
        )
    for lane in range(1, lanes + 1):
        out.append(
            {
                "ph": "M",
                "name": "thread_name",
                "pid": pid,
                "tid": lane,
                "ts": 0,
                "args": {"name": f"slot {lane}"},
            }
        )
    for t, group, active, _peak, _cap in run.occupancy:
        out.append(
            {
                "ph": "C",
                "name": f"occupancy {group}" if group else "occupancy",
                "pid": pid,
                "tid": 0,
                "ts": _us(t, origin),
                "args": {"active": active},
            }
        )
    for t, kind, source, node_id, text, _ in run.messages:
        out.append(
            {
                "ph": "i",
                "s": "p",
                "name": f"{source or kind}: {text[:80]}",
                "pid": pid,
                "tid": 0,
                "ts": _us(t, origin),
                "args": {"text": text, "node": node_id},
            }
        )


def export_text(store: RunStore, run_id: str, fmt: str) -> str:
    """A stored run (and its child runs) as JSON text in format `fmt` ("json"/"trace")."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    run, children = load_with_children(store, run_id)
    if fmt == "trace":
        return json.dumps(chrome_trace(run, children), default=short_repr) + "\n"
    return json.dumps(run_document(run, children), indent=2, default=short_repr) + "\n"


def export_run(
    store: RunStore, run_id: str, fmt: str, path: Path, *, overwrite: bool = False
) -> None:
    """Write `export_text` to `path` (the monitor calls it from a worker thread).

    A file already at `path` is replaced only if `overwrite`; raises FileExistsError
    otherwise, IsADirectoryError for a folder and FileNotFoundError for a missing folder,
    each with a one-line message."""
    write_private(path, export_text(store, run_id, fmt), overwrite=overwrite)


def write_private(path: Path, text: str, *, overwrite: bool) -> None:
    """Write `text` to a new file at `path`, created 0600 like the history it copies.

    Never through a symbolic link: a link at `path` counts as an existing file, and
    overwriting replaces the link, not its target. An overwrite is a temporary file renamed
    into place, so a failed export leaves the old file whole."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise IsADirectoryError(f"{path} is a folder")
    if found is not None and not overwrite:
        link = " (a symbolic link)" if stat.S_ISLNK(found.st_mode) else ""
        raise FileExistsError(f"{path} exists{link}")
    folder = path.parent
    if not folder.is_dir():
        missing = not folder.exists()
        raise FileNotFoundError(
            f"folder {folder} does not exist" if missing else f"{folder} is not a folder"
        )
    if overwrite:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
        target = Path(temporary)
    else:  # O_EXCL: fails if anything (a link too) appeared at `path` meanwhile
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        target = path
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        if overwrite:
            os.replace(target, path)
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise
