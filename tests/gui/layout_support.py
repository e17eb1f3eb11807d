"""Graph files of real shapes for the layout tests, and what the tests measure on a
`graphdeck draw … -o x.json` drawing: crossings between edges, overlaps between boxes."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

SHUFFLED_TREE = '''
import random
from graphdeck import graphify, tool

@tool(outputs=["v"])
async def step(x):
    return {"v": x}

@tool(outputs=["v"])
async def merge(a, b=0):
    return {"v": a + b}

@graphify(name="tree", outputs=["v"])
def tree(pipes=64, length=4, seed=3):
    """Pipelines joined by a binary tree of merges (drawable with no crossing), made in
    a shuffled order."""
    plan = {}
    for i in range(pipes):
        for k in range(length):
            plan[f"p{i}_{k}"] = ("step", [f"p{i}_{k - 1}"] if k else [])
    level = [f"p{i}_{length - 1}" for i in range(pipes)]
    m = 0
    while len(level) > 1:
        joined = []
        for j in range(0, len(level), 2):
            plan[f"m{m}"] = ("merge", level[j:j + 2])
            joined.append(f"m{m}")
            m += 1
        level = joined
    order = list(plan)
    random.Random(seed).shuffle(order)
    made = {}

    def make(name):
        if name not in made:
            kind, deps = plan[name]
            for d in deps:
                make(d)
            if kind == "step":
                made[name] = step(x=made[deps[0]].v if deps else 1)
            else:
                made[name] = merge(a=made[deps[0]].v, b=made[deps[1]].v if len(deps) > 1 else 0)
        return made[name]

    for name in order:
        make(name)
    return {"v": make(level[0]).v}
'''


def write(path: Path, source: str) -> Path:
    path.write_text(textwrap.dedent(source))
    return path


def _orient(a, b, c) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def crossings(drawing: dict) -> int:
    """Pairs of edge segments (of different edges) that properly cross."""
    segments = [
        (i, tuple(a), tuple(b))
        for i, edge in enumerate(drawing["edges"])
        for a, b in itertools.pairwise(edge["points"])
    ]
    segments.sort(key=lambda s: min(s[1][0], s[2][0]))
    count = 0
    for n, (i, a, b) in enumerate(segments):
        right = max(a[0], b[0])
        for j, c, d in segments[n + 1 :]:
            if min(c[0], d[0]) > right:
                break
            if i == j:
                continue
            if _orient(c, d, a) * _orient(c, d, b) < 0 and _orient(a, b, c) * _orient(a, b, d) < 0:
                count += 1
    return count


def overlaps(drawing: dict) -> int:
    """Pairs of boxes that overlap."""
    boxes = sorted(drawing["nodes"], key=lambda n: n["x"])
    count = 0
    for n, a in enumerate(boxes):
        for b in boxes[n + 1 :]:
            if b["x"] >= a["x"] + a["w"]:
                break
            if a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]:
                count += 1
    return count
