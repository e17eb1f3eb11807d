"""`graphdeck history` and `graphdeck export`: the run history from the command line.

    graphdeck history [--graph NAME] [--state STATE] [--since DATE] [--limit N] [--json]
                      [--keep N] [--max-age-days D] [--store PATH]
    graphdeck export RUN_ID [--format json|trace] [-o FILE [--force]] [--store PATH]

RUN_ID may be any unambiguous prefix of a run id, as `history` prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from .store import FORMATS, RunStore, export_run, export_text

STATES = ("pending", "running", "succeeded", "failed", "cancelled", "interrupted")


def add_commands(commands: Any) -> None:
    history = commands.add_parser("history", help="list the recorded runs, newest first")
    _store_option(history)
    history.add_argument("--graph", help="only runs of graphs whose name contains this")
    history.add_argument("--state", choices=STATES)
    history.add_argument("--since", type=_date, metavar="YYYY-MM-DD[THH:MM]")
    history.add_argument("--limit", type=int, default=50, metavar="N")
    history.add_argument("--json", action="store_true", help="print the list as JSON")
    history.add_argument("--keep", type=int, metavar="N", help="first delete all but the newest N")
    history.add_argument(
        "--max-age-days", type=float, metavar="D", help="first delete runs older than D days"
    )
    history.set_defaults(handler=cmd_history)
    export = commands.add_parser("export", help="write a recorded run as JSON or a Chrome trace")
    _store_option(export)
    export.add_argument("run_id", metavar="RUN_ID")
    export.add_argument("--format", choices=FORMATS, default="json")
    export.add_argument("-o", "--output", metavar="FILE", help="default: standard output")
    export.add_argument(
        "--force",
        action="store_true",
        help="replace FILE if it exists (never writes through a link)",
    )
    export.set_defaults(handler=cmd_export)


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="history database (default: $GRAPHDECK_STORE or the user data directory)",
    )


def _date(text: str) -> float:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def _when(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def cmd_history(args: argparse.Namespace) -> int:
    store = RunStore(args.store)
    if args.keep is not None or args.max_age_days is not None:
        deleted = store.prune(max_runs=args.keep, max_age_days=args.max_age_days)
        print(f"graphdeck: deleted {deleted} run(s) from {store.path}", file=sys.stderr)
    runs = store.runs(graph=args.graph, state=args.state, since=args.since, limit=args.limit)
    if args.json:
        json.dump([vars(r) for r in runs], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not runs:
        print(f"no runs recorded in {store.path}", file=sys.stderr)
        return 0
    print(f"{'RUN':<12}  {'STARTED':<19}  {'TIME':>8}  {'STATE':<11}  {'NODES':>11}  GRAPH")
    for r in runs:
        took = f"{r.duration:.2f}s" if r.duration is not None else "-"
        nodes = f"{r.nodes}" + (f" ({r.unsuccessful}✗)" if r.unsuccessful else "")
        where = f"  [{r.file}]" if r.file else ""
        print(
            f"{r.id:<12}  {_when(r.started_at):<19}  {took:>8}  {r.state:<11}  {nodes:>11}  "
            f"{r.graph}{where}"
        )
    return 0


def _cannot_write(why: str) -> int:
    print(f"graphdeck: export not written: {why}", file=sys.stderr)
    return 2


def _reason(exc: OSError) -> str:
    """One line: our own messages as they are, the system's as "path: reason"."""
    return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)


def cmd_export(args: argparse.Namespace) -> int:
    store = RunStore(args.store)
    run_id = store.resolve(args.run_id)
    if args.output:
        try:
            export_run(store, run_id, args.format, Path(args.output), overwrite=args.force)
        except FileExistsError as exc:
            return _cannot_write(f"{_reason(exc)}; pass --force to replace it")
        except OSError as exc:  # a folder, a missing folder, no permission, a full disk
            return _cannot_write(_reason(exc))
        print(f"graphdeck: wrote run {run_id} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(export_text(store, run_id, args.format))
    return 0
