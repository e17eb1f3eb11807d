"""Where boxes go: a layered (Sugiyama) layout of a directed graph, computed by igraph.

Qt-free on purpose: it runs in a worker thread (the window never waits for it) and in
`graphdeck draw`, and it is unit tested on plain lists (docs/design.md §9.1).

igraph's `layout_sugiyama` (a C core, run by `sugiyama`: in a child process for big
graphs, as igraph holds the GIL) assigns the layers we give it, reduces crossings
with the barycenter heuristic, and puts a dummy vertex wherever an edge spans more than
one layer. Those dummies are what keep long edges out from behind boxes: each one reserves
a slot in its layer, and the edge is drawn through it. This module only turns igraph's
unit grid into scene coordinates for boxes of real sizes, left to right:

- layer `k` is the column at `x = k * COLUMN_PITCH` (a fixed pitch, so a box never moves
  because another column got wider, and a column that is empty today keeps its place),
  unless a box wider than a column sits in a layer (an opened group's page, laid out as
  a grid: `grid_shape`): that layer is as wide as its widest box, and the layers after
  it move right by as much;
- within a column, boxes and dummy slots keep igraph's order and are pushed apart just
  enough not to overlap (order, hence crossings, unchanged);
- every edge is a polyline: out of its source's right side, straight through each dummy
  slot, into its target's left side, joined by cubic curves sampled into points (exactly
  what the canvas draws and what `graphdeck draw` exports).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .sugiyama import sugiyama

#: widest box (a group node) and the gap after it: one column per layer
COLUMN_W = 190.0
LAYER_GAP = 90.0
COLUMN_PITCH = COLUMN_W + LAYER_GAP
#: the unit of igraph's within-layer coordinate, and the least gap between boxes
ROW_UNIT = 26.0
ROW_GAP = 14.0
#: the room a long edge takes where it passes through a column
DUMMY_H = 6.0
#: points per curve between two fixed points of an edge: one per this much height, at most
CURVE_SAMPLES, CURVE_STEP = 8, 12.0

Point = tuple[float, float]


@dataclass
class Placement:
    """Where each box and edge went. `xs[i], ys[i]` is box i's top-left corner;
    `edge_points[j]` the drawn path of edge j (a polyline, curves sampled)."""

    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    edge_points: list[list[Point]] = field(default_factory=list)


def longest_path_layers(
    n: int, edges: Sequence[tuple[int, int]], least: Sequence[int] = ()
) -> list[int]:
    """Each vertex's layer: one more than its deepest predecessor (0 for roots), and at
    least `least[v]` where given. Edges must form a DAG (a graph's edges always do)."""
    preds: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    succs: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
        indegree[b] += 1
    layers = list(least) if least else [0] * n
    ready = [v for v in range(n) if indegree[v] == 0]
    while ready:
        v = ready.pop()
        for w in succs[v]:
            if layers[v] + 1 > layers[w]:
                layers[w] = layers[v] + 1
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(w)
    return layers


def layered_layout(
    sizes: Sequence[tuple[float, float]],
    edges: Sequence[tuple[int, int]],
    layers: Sequence[int] | None = None,
) -> Placement:
    """Lay out boxes of `sizes` (w, h) joined by `edges` (source, target indices), in
    `layers` (default: longest path from the roots). Edges go from lower to higher layers."""
    n = len(sizes)
    if n == 0:
        return Placement()
    layers = list(layers) if layers is not None else longest_path_layers(n, edges)
    coords, routing = sugiyama(n, edges, layers)
    ys, through = _spread_columns(sizes, layers, coords, routing)
    columns = _columns(sizes, layers)
    xs = [
        columns[layer][0] + (columns[layer][1] - w) / 2
        for layer, (w, _h) in zip(layers, sizes, strict=True)
    ]
    placement = Placement(xs, ys)
    for j, (a, b) in enumerate(edges):
        start = (xs[a] + sizes[a][0], ys[a] + sizes[a][1] / 2)
        end = (xs[b], ys[b] + sizes[b][1] / 2)
        crossed = [columns[layers[a] + 1 + k] for k in range(len(through[j]))]
        placement.edge_points.append(_route(start, end, through[j], crossed))
    return placement


def _columns(
    sizes: Sequence[tuple[float, float]], layers: Sequence[int]
) -> list[tuple[float, float]]:
    """(left, width) of each layer's column: `COLUMN_W` wide at `COLUMN_PITCH` apart, a
    column holding a wider box (a page laid out as a grid) as wide as it."""
    widths = [COLUMN_W] * (max(layers, default=0) + 2)
    for layer, (w, _h) in zip(layers, sizes, strict=True):
        widths[layer] = max(widths[layer], w)
    columns, left = [], 0.0
    for width in widths:
        columns.append((left, width))
        left += width + LAYER_GAP
    return columns


def grid_shape(count: int, cell_w: float, cell_h: float, aspect: float) -> tuple[int, int]:
    """(columns, rows) of a grid of `count` cells of (`cell_w`, `cell_h`) whose width over
    height is about `aspect`, with no row emptier than it must be."""
    if count <= 0:
        return 0, 0
    columns = round(math.sqrt(count * aspect * cell_h / cell_w))
    columns = max(1, min(count, columns))
    rows = math.ceil(count / columns)
    return math.ceil(count / rows), rows


def _spread_columns(
    sizes: Sequence[tuple[float, float]],
    layers: Sequence[int],
    coords: list[list[float]],
    routing: list[list[list[float]]],
) -> tuple[list[float], list[list[float]]]:
    """Scene y of each box (its top) and of each edge's dummy slots (their centres, one
    per layer crossed): igraph's order and spacing in each layer, pushed apart where
    boxes would overlap."""
    columns: dict[int, list[tuple[float, int, int]]] = {}  # layer -> (x, box or -1-edge, k)
    for v, (x_unit, _layer) in enumerate(coords):
        columns.setdefault(layers[v], []).append((x_unit, v, 0))
    for j, slots in enumerate(routing):
        for k, (x_unit, layer_y) in enumerate(slots):
            columns.setdefault(round(layer_y), []).append((x_unit, -1 - j, k))
    ys = [0.0] * len(sizes)
    through: list[list[float]] = [[0.0] * len(slots) for slots in routing]
    for column in columns.values():
        column.sort()
        bottom = -math.inf
        for x_unit, who, k in column:
            box = who >= 0
            h = sizes[who][1] if box else DUMMY_H
            top = max(x_unit * ROW_UNIT - h / 2, bottom + (ROW_GAP if box else DUMMY_H))
            bottom = top + h
            if box:
                ys[who] = top
            else:
                through[-1 - who][k] = top + h / 2
    return ys, through


def _route(
    start: Point, end: Point, through: list[float], columns: list[tuple[float, float]]
) -> list[Point]:
    """The edge's polyline: fixed points (each dummy slot crossed straight, column-wide;
    `columns`: (left, width) of each column crossed) joined by horizontal-tangent cubics."""
    fixed = [start]
    for y, (left, width) in zip(through, columns, strict=True):
        fixed += [(left, y), (left + width, y)]
    fixed.append(end)
    points = [start]
    for i in range(0, len(fixed) - 1, 2):
        points += curve(fixed[i], fixed[i + 1])[1:]
        if i + 2 < len(fixed):
            points.append(fixed[i + 2])
    return points


def _bezier_weights(samples: int) -> list[tuple[float, float, float, float]]:
    """For each sample t of a cubic whose inner control points share x (the middle) and
    whose y's are its ends': (weight of x0, of the middle x, of x1, of y0's share)."""
    weights = []
    for i in range(samples + 1):
        t = i / samples
        u = 1 - t
        weights.append((u**3, 3 * u * t, t**3, u**3 + 3 * u * u * t))
    return weights


_WEIGHTS = [_bezier_weights(max(1, n)) for n in range(CURVE_SAMPLES + 1)]


def curve(a: Point, b: Point) -> list[Point]:
    """A cubic from `a` to `b` leaving and arriving horizontally, sampled (ends included):
    a point per `CURVE_STEP` of height, `CURVE_SAMPLES` at most."""
    (x0, y0), (x1, y1) = a, b
    if y0 == y1:
        return [a, b]
    mx = (x0 + x1) / 2
    samples = min(CURVE_SAMPLES, 2 + int(abs(y1 - y0) / CURVE_STEP))
    return [
        (w0 * x0 + wm * mx + w1 * x1, y1 + wy * (y0 - y1)) for w0, wm, w1, wy in _WEIGHTS[samples]
    ]
