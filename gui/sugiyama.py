"""igraph's Sugiyama layout, run in a child process when the graph is big.

igraph holds the GIL for the whole of `layout_sugiyama` (measured: a layered DAG of 3,000
nodes and 6,000 edges took 0.12 s, and a thread that wanted to run every 5 ms waited
0.12 s). A layout job in a worker
thread would then freeze the window for as long as the layout takes, whatever thread it
runs in (docs/design.md §9.1). So a graph of more than `IN_PROCESS_MAX` vertices and edges,
laid out off the main thread, is handed to a short-lived child process
(`python -m graphdeck.gui.sugiyama`, JSON on stdin and stdout): the worker thread waits
for it without the GIL. A plain subprocess, not multiprocessing: nothing of the app's
`__main__` is imported again, and nothing (no pool, no thread) outlives the job.

Small graphs, and layouts asked for on the main thread (`graphdeck draw`, tests: nobody
is waiting for a window there), are laid out in-process: it costs less than starting a
process. If the child cannot run (it died, its interpreter is gone), the layout is done
in-process: slower to the eye, never missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Sequence

import igraph

#: vertices + edges laid out in-process even off the main thread (about 40 ms here)
IN_PROCESS_MAX = 1_500
#: igraph's crossing-reduction sweeps (its default is 100; more rarely helps)
SWEEPS = 100
#: a child that has not answered by then is killed and the layout done in-process
CHILD_TIMEOUT_S = 120.0

Coords = list[list[float]]
Routing = list[list[list[float]]]


def sugiyama(
    n: int, edges: Sequence[tuple[int, int]], layers: Sequence[int]
) -> tuple[Coords, Routing]:
    """Each vertex's grid position and each edge's route through its dummy slots."""
    if n + len(edges) <= IN_PROCESS_MAX or threading.current_thread() is threading.main_thread():
        return solve(n, edges, layers)
    request = json.dumps({"n": n, "edges": list(edges), "layers": list(layers)})
    try:
        child = subprocess.run(
            [sys.executable, "-m", __name__],
            input=request,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=True,
        )
        answer = json.loads(child.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return solve(n, edges, layers)
    return answer["coords"], answer["routing"]


def solve(
    n: int, edges: Sequence[tuple[int, int]], layers: Sequence[int]
) -> tuple[Coords, Routing]:
    """The layout itself, here and now.

    igraph 0.11 returns the graph it laid out, the original vertices first and then one
    dummy vertex per layer that a long edge crosses, each extended edge marked with the
    original edge it belongs to: a long edge's route is the chain of dummies from its
    source to its target."""
    graph = igraph.Graph(n=n, edges=list(edges), directed=True)
    layout, extended = graph.layout_sugiyama(
        layers=list(layers), maxiter=SWEEPS, return_extended_graph=True
    )
    coords = [list(xy) for xy in layout.coords]
    step = {
        (u, j): v
        for (u, v), j in zip(extended.get_edgelist(), extended.es["_original_eid"], strict=True)
    }
    routing: Routing = []
    for j, (source, _target) in enumerate(edges):
        route, at = [], step[source, j]
        while at >= n:  # a dummy
            route.append(coords[at])
            at = step[at, j]
        routing.append(route)
    return coords[:n], routing


def _serve() -> None:
    request = json.load(sys.stdin)
    coords, routing = solve(request["n"], request["edges"], request["layers"])
    json.dump({"coords": coords, "routing": routing}, sys.stdout)


if __name__ == "__main__":
    _serve()
