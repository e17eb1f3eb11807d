"""Occupancy: active slots over time (a step curve), the cap as a line, the peak marked,
and active / peak / cap as numbers. pyqtgraph, redrawn from arrays at the refresh rate."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .labels import ElidedLabel, wrapping
from .loop_blocks import intervals
from .plot_bands import Bands
from .tracker import RunTracker

#: more samples than a plot is wide in pixels only cost time (and pyqtgraph cannot
#: downsample step curves itself): longer series are reduced to their peak per bin
MAX_POINTS = 2000


def peaks_per_bin(
    times: np.ndarray, values: np.ndarray, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """At most `bins` steps: each bin keeps its first time and its highest value, so the
    peak and the busy stretches survive the reduction."""
    if len(times) <= bins:
        return times, values
    edges = np.linspace(times[0], times[-1], bins + 1)
    starts = np.unique(np.searchsorted(times, edges[:-1], side="left"))
    starts = starts[starts < len(times)]
    return times[starts], np.maximum.reduceat(values, starts)


def _step_up(seconds: float) -> float:
    """The next of 1, 2, 5, 10, 20, 50, … seconds at or above `seconds`."""
    scale = 1.0
    while True:
        for step in (1.0, 2.0, 5.0):
            if seconds <= step * scale:
                return step * scale
        scale *= 10


class OccupancyPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.numbers = ElidedLabel("active 0 · peak 0 · cap –")
        self.numbers.setObjectName("occupancy-numbers")
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("left", "active slots")
        # counts of slots: never "(x0.001)" scaled by an SI prefix
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setLabel("bottom", "time", units="s")  # ("(ms)" for a short run)
        self.plot.showGrid(x=False, y=True, alpha=0.2)
        self.plot.setClipToView(True)
        self.plot.disableAutoRange()
        self.curve = self.plot.plot([], [], stepMode="right", pen=pg.mkPen("#3b82f6", width=2))
        self.cap_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen("#ef4444", style=Qt.PenStyle.DashLine)
        )
        self.plot.addItem(self.cap_line)
        self.peak_marker = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#f59e0b"))
        self.plot.addItem(self.peak_marker)
        self.bands = Bands(self.plot)  # where the event loop stood still
        self.groups = wrapping(QLabel(""))
        self.groups.setObjectName("group-occupancy")
        self._axes_for: tuple[int, bool] | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.numbers)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.groups)

    def show_tracker(self, tracker: RunTracker | None) -> None:
        if tracker is None:
            self.curve.setData([], [])
            self.peak_marker.setData([], [])
            self.numbers.setText("active 0 · peak 0 · cap –")
            self.groups.setText("")
            self.bands.show([])
            return
        active, peak, cap = tracker.run.occupancy
        self.numbers.setText(f"active {active} · peak {peak} · cap {cap}")
        self.cap_line.setValue(cap)
        times = np.asarray(tracker.occupancy_times, dtype=np.float64)
        values = np.asarray(tracker.occupancy_active, dtype=np.float64)
        self.bands.show(intervals(tracker.blocks, tracker.started_wall))
        if len(times):
            # Hold the last value until now (or the end of the run).
            end = tracker.elapsed() + (tracker.run.started_at or 0) - tracker.started_wall
            times = np.concatenate(([0.0], times, [max(end, times[-1])]))
            values = np.concatenate(([0.0], values, [values[-1]]))
            times, values = peaks_per_bin(times, values, MAX_POINTS)
            self.curve.setData(times, values, stepMode="right")
            # While live, grow the x range in steps: an axis whose range changes every
            # frame is re-rendered every frame. Once finished, it ends where the run ended.
            last = times[-1] if tracker.run.done else _step_up(times[-1])
            self.plot.setXRange(0, max(last, 1e-3), padding=0)
            top = int(values.argmax())
            self.peak_marker.setData([times[top]], [values[top]])
        else:
            self.curve.setData([], [])
            self.peak_marker.setData([], [])
        if (cap, len(times) > 0) != self._axes_for:
            # A few labelled ticks and no minor grid: each tick line is painted every
            # frame, and a cap of 64 would otherwise draw 65 of them.
            self._axes_for = (cap, len(times) > 0)
            major = max(1, _step_up(cap / 5))
            self.plot.getAxis("left").setTickSpacing(major, major)
            self.plot.setYRange(0, cap + 1, padding=0)
        self.groups.setText(
            "  ".join(
                f"{group}: active {a} · peak {p} · limit {limit if limit else '∞'}"
                for group, (a, p, limit) in tracker.group_occupancy.items()
            )
        )
