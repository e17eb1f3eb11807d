"""graphdeck: an asyncio runtime for task graphs and agents.

    from graphdeck import tool, graph_fn, graphify, run, run_async, start

- `@tool` functions become nodes when called in a graph;
- `@graph_fn` agents are async Python whose tool calls are capped implicit nodes;
- `@graphify` builders make static DAGs (`TaskGraph`) from concrete inputs;
- `run` / `run_async` / `start` execute them under a per-run `max_concurrency` cap,
  emitting a complete, ordered event stream (`graphdeck.events`).

The package never imports Qt; the desktop monitor lives in `graphdeck.gui`.
"""

from ._graph import TaskGraph
from ._graph_fn import Context, GraphFn, graph_fn
from ._graphify import Graphify, NodeHandle, graphify
from ._node import Attempt, Node, NodeKind, Ref
from ._run import Occupancy, Run
from ._states import IllegalTransition, NodeState, RunState
from ._tool import Tool, tool
from .errors import (
    CancellationIgnored,
    GraphBuildError,
    GraphdeckError,
    GraphLoadError,
    NodeCancelled,
    RunCancelled,
    RunError,
    RunFailed,
    RunTimedOut,
    ToolOutputError,
)
from .limits import Pool
from .runner import run, run_async, start
from .values import Secret

__version__ = "0.1.0"

__all__ = [
    "Attempt",
    "CancellationIgnored",
    "Context",
    "GraphBuildError",
    "GraphFn",
    "GraphLoadError",
    "GraphdeckError",
    "Graphify",
    "IllegalTransition",
    "Node",
    "NodeCancelled",
    "NodeHandle",
    "NodeKind",
    "NodeState",
    "Occupancy",
    "Pool",
    "Ref",
    "Run",
    "RunCancelled",
    "RunError",
    "RunFailed",
    "RunState",
    "RunTimedOut",
    "Secret",
    "TaskGraph",
    "Tool",
    "ToolOutputError",
    "__version__",
    "graph_fn",
    "graphify",
    "run",
    "run_async",
    "start",
    "tool",
]
