"""The timeline: a Gantt chart of node executions, one bar per attempt (retries are
separate bars), one lane per slot in use (whole-numbered), coloured by outcome, live; an
agent's child runs' calls too, named after the child (`research#1/fetch_2`).

Drawn batched (docs/design.md §6.4): one BarGraphItem per state colour, fed numpy arrays, so
20,000 bars stay smooth. Blocks of the event loop are shaded bands behind the bars; the
critical path, when shown, outlines its nodes' bars. Hovering a bar names its node
(tooltip); a click selects that node everywhere and says where it ran (the Dask worker,
or this process).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from graphdeck import NodeState

from .labels import ElidedLabel
from .loop_blocks import intervals
from .plot_bands import Bands
from .theme import CANVAS_COLOURS, NODE_COLOURS
from .tracker import RunTracker

BAR_HEIGHT = 0.8
#: at most about this many labelled lanes on the slot axis
LANE_LABELS = 10
CLICK_A_BAR = "Click a bar to select its node."
NO_RUN = "No run selected: select one in the runs list or the history."


class TimelinePanel(QWidget):
    """Signals: `node_selected(node_id)`."""

    node_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot: pg.PlotWidget | None = None
        self.items: dict[NodeState, pg.BarGraphItem] = {}
        self.selection = ElidedLabel(NO_RUN)
        self.selection.setObjectName("timeline-selection")
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.selection)
        self.tracker: RunTracker | None = None
        self.bands: Bands | None = None
        self.critical: set[str] = set()  # nodes of the critical path to outline
        self.critical_item: pg.BarGraphItem | None = None

    def _build_plot(self) -> None:
        """Made on first use, not with the window: most sessions never open this tab, and
        building pyqtgraph items with every window was a source of stalls in tests."""
        self.plot = pg.PlotWidget(background="w")
        # units: pyqtgraph then says "(ms)" for a short run, not "(x0.001)" after "seconds"
        self.plot.setLabel("bottom", "time since the run started", units="s")
        self.plot.setLabel("left", "slot")
        # counts of slots: never "(x0.001)" scaled by an SI prefix
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=False, alpha=0.2)
        self.plot.invertY(True)
        for state, colour in NODE_COLOURS.items():
            item = pg.BarGraphItem(
                x0=[0], y0=[0], width=[0], height=[0], brush=colour, pen=pg.mkPen("w", width=1)
            )  # one pen per item (not per bar): back-to-back attempts stay apart
            self.items[state] = item
            self.plot.addItem(item)
        self.bands = Bands(self.plot)
        self.critical_item = pg.BarGraphItem(
            x0=[0],
            y0=[0],
            width=[0],
            height=[0],  # (not empty: pyqtgraph's bounds of no bars break the y range)
            brush=None,
            pen=pg.mkPen(CANVAS_COLOURS["critical"], width=3),
        )
        self.plot.addItem(self.critical_item)
        self._layout.insertWidget(0, self.plot, 1)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.plot.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

    def origin(self) -> float:
        tracker = self.tracker
        if tracker is None or not tracker.bars:
            return 0.0
        return tracker.run.started_at or tracker.bars[0][1]

    def show_tracker(self, tracker: RunTracker | None) -> None:
        if tracker is not self.tracker:  # what was said of the last run's bar is gone
            self.selection.setText(NO_RUN if tracker is None else CLICK_A_BAR)
        self.tracker = tracker
        if self.plot is None:
            self._build_plot()
        bars = tracker.bars if tracker is not None else []
        # Slots are whole numbers: ticks on them only, a few labels however many lanes.
        step = max(1, math.ceil((tracker.lanes if tracker is not None else 1) / LANE_LABELS))
        assert self.plot is not None
        self.plot.setVisible(tracker is not None)  # no run: no axes of the last one either
        self.plot.getAxis("left").setTickSpacing(step, step)
        # With child runs the lanes are the family's calls in flight, not this run's slots.
        family = tracker is not None and bool(getattr(tracker.run, "children", ()))
        self.plot.setLabel("left", "call in flight (child runs' too)" if family else "slot")
        origin = self.origin()
        now = time.time()
        assert self.bands is not None and self.critical_item is not None
        if tracker is not None:  # (bars may be none yet: a block before any node ran)
            began = tracker.run.started_at or tracker.started_wall
            self.bands.show(intervals(tracker.blocks, began))
        else:
            self.bands.show([])
        grouped: dict[NodeState, list[list]] = {}
        for bar in bars:
            grouped.setdefault(bar[3], []).append(bar)
        critical = [bar for bar in bars if bar[0] in self.critical]
        for item, rows in [
            *((item, grouped.get(state, [])) for state, item in self.items.items()),
            (self.critical_item, critical),
        ]:
            if not rows:
                item.setOpts(x0=[], y0=[], width=[], height=[])
                continue
            starts = np.fromiter((b[1] for b in rows), dtype=np.float64, count=len(rows))
            ends = np.fromiter(
                (b[2] if b[2] is not None else now for b in rows), dtype=np.float64, count=len(rows)
            )
            lanes = np.fromiter((b[4] for b in rows), dtype=np.float64, count=len(rows))
            item.setOpts(
                x0=starts - origin,
                width=np.maximum(ends - starts, 1e-4),
                y0=lanes - BAR_HEIGHT / 2,
                height=np.full(len(rows), BAR_HEIGHT),
            )

    def bar_at(self, seconds: float, lane: float) -> list | None:
        """The attempt drawn at this point of the chart, if any."""
        if self.tracker is None:
            return None
        origin, now = self.origin(), time.time()
        for bar in reversed(self.tracker.bars):
            end = bar[2] if bar[2] is not None else now
            if abs(bar[4] - lane) <= BAR_HEIGHT / 2 and bar[1] - origin <= seconds <= end - origin:
                return bar
        return None

    def describe(self, bar: list) -> str:
        """`step_3: succeeded, 12.5 ms, ran on this process`"""
        node_id = bar[0]
        worker = (self.tracker.workers.get(node_id) if self.tracker else None) or "this process"
        duration = ((bar[2] or time.time()) - bar[1]) * 1000
        return f"{node_id}: {bar[3].value}, {duration:.1f} ms, ran on {worker}"

    def select_at(self, seconds: float, lane: float) -> str | None:
        bar = self.bar_at(seconds, lane)
        if bar is None or self.tracker is None:
            return None
        self.selection.setText(self.describe(bar))
        self.node_selected.emit(bar[0])
        return bar[0]

    def hover_at(self, seconds: float, lane: float) -> str:
        """Name the bar under the pointer in the chart's tooltip ("" off the bars)."""
        bar = self.bar_at(seconds, lane)
        said = self.describe(bar) if bar is not None else ""
        if self.plot is not None:
            self.plot.setToolTip(said)
        return said

    def _on_scene_clicked(self, event) -> None:
        assert self.plot is not None
        point = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        self.select_at(point.x(), point.y())

    def _on_scene_mouse_moved(self, position) -> None:
        assert self.plot is not None
        point = self.plot.getPlotItem().vb.mapSceneToView(position)
        self.hover_at(point.x(), point.y())
