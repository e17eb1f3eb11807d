"""Shaded vertical bands on a pyqtgraph plot: the stretches the event loop stood still.

One `LinearRegionItem` per band, kept and reused across redraws (plots redraw at the
refresh rate, blocks are few); bands beyond `MAX_BANDS` are merged into the last one so
that a run blocking all the time cannot fill the scene with items.
"""

from __future__ import annotations

import pyqtgraph as pg

BAND_BRUSH = (239, 68, 68, 60)  # translucent red: the curve or bars stay readable
MAX_BANDS = 200


class Bands:
    """The bands drawn on one plot."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        # Invariant: `items[:shown]` are on the plot and visible, the rest hidden.
        self.items: list[pg.LinearRegionItem] = []
        self.shown = 0

    def show(self, spans: list[tuple[float, float]]) -> None:
        if len(spans) > MAX_BANDS:
            rest = spans[MAX_BANDS - 1 :]
            spans = [*spans[: MAX_BANDS - 1], (rest[0][0], rest[-1][1])]
        while len(self.items) < len(spans):
            item = pg.LinearRegionItem(
                movable=False, brush=pg.mkBrush(*BAND_BRUSH), pen=pg.mkPen(None)
            )
            item.setZValue(-10)  # behind the data
            item.setToolTip("the event loop was blocked (see the Log and the inspector)")
            self.plot.addItem(item)
            self.items.append(item)
        for item, (start, end) in zip(self.items, spans, strict=False):
            item.setRegion((start, end))
            item.show()
        for item in self.items[len(spans) :]:
            item.hide()
        self.shown = len(spans)
