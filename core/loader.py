"""Loading graph files: plain `.py` modules that define graph_fn and graphify objects.

Every way a file can be unusable (missing, a syntax error, an exception while importing,
no graphs in it) becomes one `GraphLoadError` carrying the file, the line and the reason,
so the CLI and the monitor can show a message instead of a traceback.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from ._context import exit_requested
from ._graph_fn import GraphFn
from ._graphify import Graphify
from .errors import GraphLoadError

__all__ = ["GraphFile", "line_in_file", "load_graph_file"]

GraphDef = GraphFn | Graphify
_serial = itertools.count()


@dataclass
class GraphFile:
    """A loaded graph file: its module and the graphs it defines, by name."""

    path: Path
    module: ModuleType
    graphs: dict[str, GraphDef] = field(default_factory=dict)

    def pick(self, name: str | None = None) -> GraphDef:
        """The graph called `name` (by its graph name or module attribute); with no name,
        the only graph of the file. Errors list what there is to choose from."""
        if name is None:
            if len(self.graphs) == 1:
                return next(iter(self.graphs.values()))
            raise LookupError(
                f"{self.path} defines {len(self.graphs)} graphs; choose one with --graph: "
                + ", ".join(self.graphs)
            )
        if name in self.graphs:
            return self.graphs[name]
        attribute = getattr(self.module, name, None)
        if isinstance(attribute, GraphFn | Graphify):
            return attribute
        raise LookupError(
            f"{self.path} has no graph named {name!r}; it defines: {', '.join(self.graphs)}"
        )


def load_graph_file(path: str | Path) -> GraphFile:
    """Import `path` as a fresh module and collect its graphs. Raises `GraphLoadError`."""
    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise GraphLoadError(shown, None, "no such file")
    if path.suffix != ".py":
        raise GraphLoadError(shown, None, "a graph file must be a Python module (*.py)")
    module_name = f"graphdeck_user_{path.stem}_{next(_serial)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise GraphLoadError(shown, None, "cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered while it executes so dataclasses, pickling and relative lookups work.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise GraphLoadError(shown, exc.lineno, f"syntax error: {exc.msg}") from exc
    except BaseException as exc:
        sys.modules.pop(module_name, None)
        if isinstance(exc, KeyboardInterrupt) and exit_requested():
            raise
        # SystemExit too: argparse at module level exits when it dislikes sys.argv, and a
        # file that calls sys.exit while imported must not end the monitor that opened it.
        line = line_in_file(exc, path)
        described = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise GraphLoadError(shown, line, f"error while importing: {described}") from exc
    graphs: dict[str, GraphDef] = {}
    for value in vars(module).values():
        if isinstance(value, GraphFn | Graphify) and value not in graphs.values():
            graphs.setdefault(value.name, value)
    if not graphs:
        raise GraphLoadError(
            shown, None, "no graphs found (define a @graph_fn or a @graphify at module level)"
        )
    return GraphFile(path, module, graphs)


def line_in_file(exc: BaseException, path: Path) -> int | None:
    """The deepest line of the traceback that is in the graph file itself."""
    target = path.resolve()
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        try:
            if Path(frame.filename).resolve() == target:
                line = frame.lineno
        except OSError:
            continue
    return line
