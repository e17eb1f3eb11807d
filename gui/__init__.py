"""graphdeck.gui: the desktop run monitor (PySide6 on a qasync event loop).

Only this package imports Qt; `graphdeck` itself never does.
"""
