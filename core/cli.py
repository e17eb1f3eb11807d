"""The `graphdeck` command.

    graphdeck run FILE.py [--graph NAME] [--inputs JSON|@file.json] [--max-concurrency N]
                          [--on-error stop|continue] [--timeout S] [--json]
                          [--executor local|dask|dask://ADDRESS] [-v]
                          [--store PATH | --no-history]
    graphdeck graphs FILE.py        list the graphs a file defines and their inputs
    graphdeck history [...]         list recorded runs (see graphdeck._cli_history)
    graphdeck export RUN_ID [--format json|trace] [-o FILE]
    graphdeck draw FILE.py [--graph NAME] [--inputs JSON] [--expand all] -o OUT.png|.svg|.json
    graphdeck [FILE.py] [--graph NAME] [--run] [--store PATH]   open the desktop monitor

Exit codes: 0 succeeded, 1 run failed, 2 usage or load error, 130 cancelled.
The first Ctrl-C cancels the run gracefully and reports what finished; a second one exits
at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ._cli_history import add_commands as add_history_commands
from ._graph_fn import GraphFn
from ._progress import ProgressBar, StateCounter
from ._run import Run
from .errors import GraphBuildError, GraphLoadError, RunCancelled, RunError, RunFailed
from .executors import Executor, ExecutorError, parse_executor, require_dask
from .loader import GraphDef, load_graph_file
from .runner import close_loop, start
from .store import KEEP_RUNS, Recorder, RunStore, StoreError
from .values import short_repr

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130

# `graphdeck [FILE.py]` is parsed by the monitor itself (graphdeck.gui.app), which only
# loads when it opens: its options are listed here for `graphdeck --help`.
MONITOR_HELP = """\
the desktop monitor:
  graphdeck [FILE.py] [--graph NAME] [--run] [--store PATH]
    FILE.py        a graph file to open
    --graph NAME   select this graph of the file
    --run          run it as soon as it is loaded
    --store PATH   run history database (default: $GRAPHDECK_STORE or the user data
                   directory)
"""


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = _store_after_command(list(sys.argv[1:] if argv is None else argv))
    if argv and argv[0] in ("run", "graphs", "history", "export", "compare", "draw"):
        parser = _parser()
        args = parser.parse_args(argv)
        try:
            return args.handler(args)
        except BrokenPipeError:  # `graphdeck history | head`: the reader has had enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_FAILED
        except (UsageError, GraphLoadError, GraphBuildError, StoreError, LookupError) as exc:
            message = exc.args[0] if isinstance(exc, LookupError) and exc.args else exc
            print(f"graphdeck: {message}", file=sys.stderr)
            return EXIT_USAGE
    if argv and argv[0] in ("-h", "--help"):
        _parser().print_help()
        return EXIT_OK
    return _open_monitor(argv)


def _store_after_command(argv: list[str]) -> list[str]:
    """`graphdeck --store PATH history` means `graphdeck history --store PATH`: the history
    option is accepted before the command too."""
    if argv and argv[0] == "--store" and len(argv) >= 2:
        return [*argv[2:3], *argv[:2], *argv[3:]]
    if argv and argv[0].startswith("--store="):
        return [*argv[1:2], argv[0], *argv[2:]]
    return argv


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphdeck",
        description="Run task graphs and agents; `graphdeck [FILE.py]` opens the monitor.",
        epilog=MONITOR_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="run a graph from a graph file")
    run_cmd.add_argument("file", help="a Python module defining @graph_fn / @graphify graphs")
    run_cmd.add_argument("--graph", help="which graph of the file to run (by name)")
    run_cmd.add_argument("--inputs", help="graph inputs as a JSON object, or @path to a JSON file")
    run_cmd.add_argument("--max-concurrency", type=_positive_int, default=None, metavar="N")
    run_cmd.add_argument("--on-error", choices=("stop", "continue"), default="stop")
    run_cmd.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
    run_cmd.add_argument(
        "--executor",
        default="local",
        metavar="local|dask|dask://ADDRESS",
        help="where tool bodies run (default: in this process)",
    )
    run_cmd.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="with --executor dask: show distributed's own log lines and warnings",
    )
    run_cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    history = run_cmd.add_mutually_exclusive_group()
    history.add_argument(
        "--store",
        metavar="PATH",
        help="record the run in this history database (default: "
        "$GRAPHDECK_STORE or the user data directory)",
    )
    history.add_argument("--no-history", action="store_true", help="do not record the run")
    run_cmd.set_defaults(handler=_cmd_run)
    graphs_cmd = commands.add_parser("graphs", help="list the graphs of a graph file")
    graphs_cmd.add_argument("file")
    graphs_cmd.set_defaults(handler=_cmd_graphs)
    draw_cmd = commands.add_parser(
        "draw", help="draw a graph as the monitor lays it out, without a window"
    )
    draw_cmd.add_argument("file", help="a graph file")
    draw_cmd.add_argument("--graph", help="which graph of the file to draw (by name)")
    draw_cmd.add_argument("--inputs", help="its inputs as a JSON object, or @path to a JSON file")
    draw_cmd.add_argument("--expand", choices=("all",), help="draw every node (no group boxes)")
    draw_cmd.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="OUT.png, OUT.svg or OUT.json"
    )
    draw_cmd.set_defaults(handler=_cmd_draw)
    add_history_commands(commands)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _parse_inputs(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    source = "--inputs"
    if text.startswith("@"):
        path = Path(text[1:])
        source = str(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise UsageError(f"cannot read inputs file {path}: {exc.strerror}") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(value, dict):
        raise UsageError(f"{source}: inputs must be a JSON object, got {type(value).__name__}")
    return value


def _describe(graph: GraphDef) -> str:
    kind = "graph_fn" if isinstance(graph, GraphFn) else "graphify"
    inputs = ", ".join(
        f"{name}={graph.defaults[name]!r}" if name in graph.defaults else name
        for name in graph.inputs
    )
    return f"{graph.name}  ({kind})  inputs: {inputs or '-'}"


def _cmd_graphs(args: argparse.Namespace) -> int:
    loaded = load_graph_file(args.file)
    for graph in loaded.graphs.values():
        print(_describe(graph))
    return EXIT_OK


def _pick(args: argparse.Namespace, listing: bool = True) -> GraphDef:
    """The graph `--graph` names; a usage error (listing the file's graphs) if none."""
    loaded = load_graph_file(args.file)
    try:
        return loaded.pick(args.graph)
    except LookupError as exc:
        lines = [str(exc.args[0])]
        if listing:
            lines += [f"  {_describe(g)}" for g in loaded.graphs.values()]
        raise UsageError("\n".join(lines)) from None


DRAW_FORMATS = (".png", ".svg", ".json")


def _cmd_draw(args: argparse.Namespace) -> int:
    """Build the graph (nothing runs) and hand its nodes to the monitor's layout."""
    out = Path(args.output)
    if out.suffix.lower() not in DRAW_FORMATS:
        raise UsageError(f"-o {out}: the extension picks the format: .png, .svg or .json")
    graph = _pick(args, listing=False)  # one line
    if isinstance(graph, GraphFn):
        raise UsageError(
            f"{graph.name} is an agent (graph_fn): its calls are known only once it runs; "
            "open it in the monitor"
        )
    inputs = _parse_inputs(args.inputs)
    try:
        built = graph.build(**inputs)
    except TypeError as exc:  # inputs the builder does not take
        raise UsageError(f"{graph.name}: {exc}") from None
    try:
        from .gui import app  # type: ignore[attr-defined]
    except ImportError as exc:
        raise UsageError(f"drawing needs the monitor's packages ({exc})") from None
    try:
        app.draw(list(built.nodes), out, expand_all=args.expand == "all")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    graph = _pick(args)
    inputs = _parse_inputs(args.inputs)
    options = {"max_concurrency": args.max_concurrency, "on_error": args.on_error}
    if args.timeout is not None:
        options["timeout"] = args.timeout
    executor = None if args.executor == "local" else _executor(args.executor, args.verbose)
    if executor is not None:
        options["executor"] = executor
    recorder = None if args.no_history else _open_recorder(args.store)
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(
            _run_and_report(graph, inputs, options, args.json, recorder, Path(args.file).resolve())
        )
    finally:
        if executor is not None:  # made here, so closed here (the run closes only its own)
            loop.run_until_complete(executor.close())
        close_loop(loop)
        if recorder is not None:
            recorder.close()


def _executor(spec: str, verbose: bool) -> Executor:
    """--executor dask|dask://ADDRESS; a wrong spec or a missing dask extra is a usage error
    (exit 2), found before anything runs."""
    if spec != "dask" and not spec.startswith("dask://"):
        raise UsageError(f"--executor: use local, dask or dask://ADDRESS, not {spec!r}")
    try:
        require_dask()
    except ExecutorError as exc:
        raise UsageError(f"--executor {spec}: {exc}") from None
    executor, _ = parse_executor(spec, quiet=not verbose)
    assert executor is not None
    return executor


def _open_recorder(path: str | None) -> Recorder | None:
    """The history writer; a history that cannot be used never stops the run itself."""
    try:
        store = RunStore(path)
        store.prune(max_runs=KEEP_RUNS)
        return store.recorder()
    except StoreError as exc:
        print(f"graphdeck: history not recorded: {exc}", file=sys.stderr)
        return None


async def _close_recorder(recorder: Recorder, handle: Run) -> None:
    """Write the history's last rows (off the loop) and say, in one line, whatever could
    not be recorded: a run that printed its result must not lose its history silently."""
    await asyncio.to_thread(recorder.close)
    if recorder.problem is not None:
        sys.stderr.write(f"graphdeck: {recorder.problem}\n")
    elif sys.stderr.isatty():
        sys.stderr.write(f"graphdeck: recorded as run {handle.id} (graphdeck export {handle.id})\n")


async def _run_and_report(
    graph: GraphDef,
    inputs: dict[str, Any],
    options: dict[str, Any],
    as_json: bool,
    recorder: Recorder | None = None,
    file: Path | None = None,
) -> int:
    handle = start(graph, inputs, **options)
    if recorder is not None:
        recorder.record(handle, file=file)
    loop = asyncio.get_running_loop()
    interrupts = 0

    def on_interrupt() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            sys.stderr.write("\ngraphdeck: interrupted again, exiting now\n")
            sys.stderr.flush()
            os._exit(EXIT_CANCELLED)
        sys.stderr.write("\ngraphdeck: cancelling (press Ctrl-C again to exit at once)\n")
        handle.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    progress = ProgressBar(handle, sys.stderr) if sys.stderr.isatty() else None
    follower = loop.create_task(progress.follow()) if progress else None
    try:
        outputs = await handle.result()
        error: RunError | None = None
    except RunError as exc:
        outputs, error = exc.partial_outputs, exc
    finally:
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            assert progress is not None
            progress.clear()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
    _report(handle, outputs, error, as_json, sys.stdout, sys.stderr)
    if recorder is not None:
        await _close_recorder(recorder, handle)
    if error is None:
        return EXIT_OK
    return EXIT_CANCELLED if isinstance(error, RunCancelled) else EXIT_FAILED


def _report(
    handle: Run,
    outputs: dict[str, Any],
    error: RunError | None,
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> None:
    counter = StateCounter()
    counter.update(handle)
    counts = {state.value: n for state, n in sorted(counter.counts.items()) if n}
    duration = (handle.finished_at or 0) - (handle.started_at or 0)
    errors = error.errors if error else {}
    if as_json:
        document = {
            "run_id": handle.id,
            "graph": handle.name,
            "state": handle.state.value,
            "outputs": outputs,
            "counts": counts,
            "duration_s": round(duration, 6),
            "errors": {k: f"{type(e).__name__}: {e}" for k, e in errors.items()},
            "warnings": [
                {"kind": w.kind, "node": w.node_id, "message": w.message, **(w.details or {})}
                for w in handle.warnings
            ],
        }
        json.dump(document, out, default=short_repr, indent=2)
        out.write("\n")
    else:
        for name, value in outputs.items():
            out.write(f"{name}: {_show(value)}\n")
    for warning in handle.warnings:
        err.write(f"warning: {warning.message}\n")
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    if isinstance(error, RunCancelled):
        err.write(f"graphdeck: run {handle.name} cancelled after {duration:.2f}s ({summary})\n")
    elif isinstance(error, RunFailed):
        err.write(f"graphdeck: run {handle.name} failed after {duration:.2f}s ({summary})\n")
        for node_id, exc in list(error.errors.items())[:10]:
            err.write(f"  {node_id}: {type(exc).__name__}: {exc}\n")
        if len(error.errors) > 10:
            err.write(f"  … and {len(error.errors) - 10} more\n")


def _show(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return short_repr(value)


def _open_monitor(argv: list[str]) -> int:
    try:
        from .gui import app  # type: ignore[attr-defined]
    except ImportError as exc:
        print(
            f"graphdeck: the desktop monitor is not available ({exc}); use `graphdeck run FILE.py`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return int(app.main(argv))
