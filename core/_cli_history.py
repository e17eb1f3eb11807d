"""`graphdeck history` and `graphdeck export`: the run history from the command line.

    graphdeck history [--graph NAME] [--state STATE] [--since DATE] [--limit N] [--json]
                      [--keep N] [--max-age-days D] [--store PATH]
    graphdeck export RUN_ID [--format json|trace] [-o FILE [--force]] [--store PATH]
    graphdeck compare RUN_A RUN_B [--json] [--store PATH]

A run id may be any unambiguous prefix of one, as `history` prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from .store import FORMATS, RunStore, compare, export_run, export_text

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
    diff = commands.add_parser("compare", help="two recorded runs side by side, node by node")
    _store_option(diff)
    diff.add_argument("run_a", metavar="RUN_A")
    diff.add_argument("run_b", metavar="RUN_B")
    diff.add_argument("--json", action="store_true", help="print the comparison as JSON")
    diff.set_defaults(handler=cmd_compare)


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


def cmd_compare(args: argparse.Namespace) -> int:
    store = RunStore(args.store)
    a, b = (store.load(store.resolve(i)) for i in (args.run_a, args.run_b))
    report = compare(a, b)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    summary = report["summary"]
    print(f"run A {a.id} ({a.summary.graph})  vs  run B {b.id} ({b.summary.graph})")
    changed = {i for ids in summary.values() for i in ids}
    rows = [n for n in report["nodes"] if n["id"] in changed]
    if rows:
        print(f"{'NODE':<28}{'A':>11}{'B':>11}{'A s':>9}{'B s':>9}{'B/A':>7}  OUTPUTS")
    for n in rows:
        print(
            f"{n['id']:<28}{n['a_state'] or '-':>11}{n['b_state'] or '-':>11}"
            f"{_num(n['a_seconds']):>9}{_num(n['b_seconds']):>9}{_num(n['change']):>7}  "
            f"{ {True: 'same', False: 'changed', None: '-'}[n['outputs_equal']] }"
        )
    for label, key in (
        ("only in A", "only_a"),
        ("only in B", "only_b"),
        ("state changed", "state_changed"),
        ("slower by > 20 %", "slower"),
        ("faster by > 20 %", "faster"),
        ("outputs changed", "outputs_changed"),
    ):
        print(
            f"{label}: {len(summary[key])}"
            + (f" ({', '.join(summary[key][:8])})" if summary[key] else "")
        )
    return 0


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
