"""Occupancy: active slots over time (a step curve), the cap as a line, the peak marked,
and active / peak / cap as numbers. pyqtgraph, redrawn from arrays at the refresh rate."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .tracker import RunTracker


class OccupancyPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.numbers = QLabel("active 0 · peak 0 · cap –")
        self.numbers.setObjectName("occupancy-numbers")
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("left", "active slots")
        self.plot.setLabel("bottom", "seconds")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.curve = self.plot.plot([], [], stepMode="right", pen=pg.mkPen("#3b82f6", width=2))
        self.cap_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen("#ef4444", style=Qt.PenStyle.DashLine)
        )
        self.plot.addItem(self.cap_line)
        self.peak_marker = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#f59e0b"))
        self.plot.addItem(self.peak_marker)
        self.groups = QLabel("")
        self.groups.setObjectName("group-occupancy")
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
            return
        active, peak, cap = tracker.run.occupancy
        self.numbers.setText(f"active {active} · peak {peak} · cap {cap}")
        self.cap_line.setValue(cap)
        times = np.asarray(tracker.occupancy_times, dtype=np.float64)
        values = np.asarray(tracker.occupancy_active, dtype=np.float64)
        if len(times):
            # Hold the last value until now (or the end of the run).
            end = tracker.elapsed() + (tracker.run.started_at or 0) - tracker.started_wall
            times = np.concatenate(([0.0], times, [max(end, times[-1])]))
            values = np.concatenate(([0.0], values, [values[-1]]))
            self.curve.setData(times, values, stepMode="right")
            top = int(values.argmax())
            self.peak_marker.setData([times[top]], [values[top]])
        else:
            self.curve.setData([], [])
            self.peak_marker.setData([], [])
        self.plot.setYRange(0, cap + 1, padding=0)
        self.groups.setText(
            "  ".join(
                f"{group}: active {a} · peak {p} · limit {limit if limit else '∞'}"
                for group, (a, p, limit) in tracker.group_occupancy.items()
            )
        )
