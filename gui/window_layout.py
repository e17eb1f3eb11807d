"""The main window's size, position and dock layout, kept from one start to the next."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

#: the first start's window size, and the docks' widths (the graph gets most of the width)
FIRST_SIZE = (1500, 900)
FIRST_DOCK_WIDTHS = {"dock-controls": 300, "dock-details": 460}
#: below these the panels cannot show what they hold: at 640 x 420 the runs list was
#: drawn over the status bar, and a details panel squeezed to 200 px (its tabs behind
#: scroll arrows) stayed that narrow, and was remembered so, once the window grew again
MIN_SIZE = (1000, 560)
MIN_DOCK_WIDTHS = {"dock-controls": 240, "dock-details": 380}


def save_layout(window: QMainWindow, settings: QSettings) -> None:
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("window-state", window.saveState())
    settings.sync()


def restore_layout(window: QMainWindow, settings: QSettings) -> None:
    window.setMinimumSize(*MIN_SIZE)
    for name, width in MIN_DOCK_WIDTHS.items():
        dock = window.findChild(QDockWidget, name)
        if dock is not None:
            dock.setMinimumWidth(width)
    geometry = settings.value("geometry")
    state = settings.value("window-state")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    else:
        window.resize(*FIRST_SIZE)
    if isinstance(state, QByteArray):
        window.restoreState(state)
    else:
        docks = [window.findChild(QDockWidget, name) for name in FIRST_DOCK_WIDTHS]
        window.resizeDocks(docks, list(FIRST_DOCK_WIDTHS.values()), Qt.Orientation.Horizontal)
