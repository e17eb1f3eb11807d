"""`graphdeck draw`: a graph laid out as the monitor lays it out, written as PNG, SVG or
JSON, with no window.

The command line (checking the file, the graph, the inputs and OUT's extension) is
`graphdeck.cli`'s; it reaches this module through its one way into the monitor
(`graphdeck.gui.app`, docs/design.md §8.1). JSON and SVG are written without Qt; PNG is
painted by the canvas's own painter on an offscreen image.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from pathlib import Path

from graphdeck import Node

from .drawing import Drawing, elide
from .graph_model import Structure, ViewState, build_drawing
from .theme import CANVAS_COLOURS, NODE_COLOURS

#: what OUT's extension may be
FORMATS = (".png", ".svg", ".json")
MARGIN = 24.0
#: a PNG wider or taller than this is scaled down to fit
MAX_PNG_SIDE = 12000


def layout_nodes(nodes: Sequence[Node], expand_all: bool = False) -> Drawing:
    """The drawing of `nodes` as the monitor first shows it (every group collapsed), or
    with every node drawn (`expand_all`)."""
    return build_drawing(Structure(nodes), ViewState(expand_all=expand_all))


def draw(nodes: Sequence[Node], out: str | Path, expand_all: bool = False) -> Drawing:
    """Lay out `nodes` and write the drawing to `out` (format by extension). Raises
    ValueError for an unknown extension, OSError when `out` cannot be written."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{out}: the extension must be one of {', '.join(FORMATS)}")
    drawing = layout_nodes(nodes, expand_all)
    if suffix == ".json":
        out.write_text(json.dumps(drawing.to_json()) + "\n")
    elif suffix == ".svg":
        out.write_text(to_svg(drawing))
    else:
        _write_png(drawing, out)
    return drawing


def to_svg(drawing: Drawing) -> str:
    """The drawing as SVG: boxes coloured by state, labels, edges as polylines."""
    left, top, right, bottom = drawing.bounds()
    width, height = right - left + 2 * MARGIN, bottom - top + 2 * MARGIN
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="{left - MARGIN:.1f} {top - MARGIN:.1f} {width:.1f} {height:.1f}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect x="{left - MARGIN:.1f}" y="{top - MARGIN:.1f}" width="100%" height="100%" '
        f'fill="{CANVAS_COLOURS["background"]}"/>',
    ]
    for frame in drawing.frames:
        out.append(
            f'<rect x="{frame.x:.1f}" y="{frame.y:.1f}" width="{frame.w:.1f}" '
            f'height="{frame.h:.1f}" rx="8" fill="{CANVAS_COLOURS["frame-fill"]}" '
            f'stroke="{CANVAS_COLOURS["frame"]}" stroke-dasharray="4 3"/>'
            f'<text x="{frame.x + 8:.1f}" y="{frame.y + 15:.1f}" '
            f'fill="{CANVAS_COLOURS["hint"]}">{html.escape(frame.label)}</text>'
        )
    for edge in drawing.edges:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in edge.points)
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{CANVAS_COLOURS["edge"]}" '
            'stroke-width="1.2"/>'
        )
    for node in drawing.nodes:
        fill = NODE_COLOURS[node.members[0].state] if node.kind == "node" else "#f8fafc"
        out.append(
            f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{node.w:.0f}" height="{node.h:.0f}" '
            f'rx="6" fill="{fill}" stroke="{CANVAS_COLOURS["outline"]}"/>'
            f'<text x="{node.x + 8:.1f}" y="{node.y + min(node.h / 2 + 4, 18):.1f}" '
            f'fill="{CANVAS_COLOURS["text"]}">{html.escape(elide(node.label, 24))}</text>'
        )
    out.append("</svg>\n")
    return "\n".join(out)


def _write_png(drawing: Drawing, out: Path) -> None:
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter

    from .canvas import Marks, counts_of, edge_path, paint_boxes, paint_frames

    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication.instance() or QGuiApplication(["graphdeck-draw"])
    left, top, right, bottom = drawing.bounds()
    width, height = right - left + 2 * MARGIN, bottom - top + 2 * MARGIN
    scale = min(1.0, MAX_PNG_SIDE / max(width, height, 1.0))
    image = QImage(int(width * scale) + 1, int(height * scale) + 1, QImage.Format.Format_ARGB32)
    image.fill(QColor(CANVAS_COLOURS["background"]))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(scale, scale)
    painter.translate(MARGIN - left, MARGIN - top)
    paint_frames(painter, drawing, detail=True)
    painter.setPen(QColor(CANVAS_COLOURS["edge"]))
    painter.drawPath(edge_path(drawing))
    counts = {i: counts_of(n) for i, n in enumerate(drawing.nodes) if n.kind != "node"}
    paint_boxes(painter, drawing, range(len(drawing.nodes)), counts, Marks(), detail=True)
    painter.end()
    if not image.save(str(out)) or app is None:
        raise OSError(f"cannot write {out}")
