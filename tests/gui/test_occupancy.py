"""The occupancy plot keeps the peak when a long series is reduced to what it can show."""

from __future__ import annotations

import numpy as np

from graphdeck.gui.occupancy import peaks_per_bin


def test_reduction_keeps_each_bins_peak():
    times = np.arange(10_000, dtype=np.float64)
    values = np.zeros(10_000)
    values[7_777] = 64
    reduced_times, reduced_values = peaks_per_bin(times, values, 100)
    assert len(reduced_times) <= 100 and reduced_values.max() == 64
    assert reduced_times[0] == 0 and np.all(np.diff(reduced_times) > 0)


def test_a_short_series_is_left_alone():
    times, values = np.arange(5.0), np.arange(5.0)
    assert peaks_per_bin(times, values, 100) == (times, values)
