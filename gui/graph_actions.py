"""The graph's commands in the window: the View menu (find, next failed, zoom, the panels),
and the group inspector's requests carried out on the graph view and the run shown."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QToolBar


class GraphActions(QObject):
    """Builds the View menu of `window` and wires the graph view, the find bar and the
    group inspector together."""

    def __init__(self, window: Any, toolbar: QToolBar) -> None:
        """`window`: the `MainWindow` (not imported here: no import cycle)."""
        super().__init__(window)
        self.window = window
        self.view = window.graph_view
        self.groups = window.details.group_inspector
        self.find_action = QAction("&Find…", self, shortcut=QKeySequence.StandardKey.Find)
        self.next_failed_action = QAction("&Next failed", self, shortcut=QKeySequence("F8"))
        self.previous_failed_action = QAction(
            "&Previous failed", self, shortcut=QKeySequence("Shift+F8")
        )
        # F and Shift+F only while the canvas has the focus: elsewhere F is a letter.
        self.fit_action = QAction("Zoom to &fit", self, shortcut=QKeySequence("F"))
        self.zoom_selection_action = QAction(
            "Zoom to &selection", self, shortcut=QKeySequence("Shift+F")
        )
        for action in (self.fit_action, self.zoom_selection_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(action)
        menu = window.menuBar().addMenu("&View")
        menu.setObjectName("view-menu")
        menu.addActions([self.find_action, self.next_failed_action, self.previous_failed_action])
        menu.addSeparator()
        menu.addActions([self.fit_action, self.zoom_selection_action])
        menu.addSeparator()
        self.panels_menu = menu.addMenu("&Panels")
        for dock in window.findChildren(QDockWidget):
            self.panels_menu.addAction(dock.toggleViewAction())
        # Not a panel: its own item ("Toolbar", as desktop apps call it), where hiding it
        # by mistake while bringing back a panel is unlikely.
        self.toolbar_action = toolbar.toggleViewAction()
        self.toolbar_action.setText("&Toolbar")
        menu.addAction(self.toolbar_action)
        self.menu = menu
        self._connect_signals()

    def _connect_signals(self) -> None:
        view, find_bar = self.view, self.window.find_bar
        self.find_action.triggered.connect(find_bar.open)
        self.next_failed_action.triggered.connect(self._on_next_failed_action_triggered)
        self.previous_failed_action.triggered.connect(self._on_previous_failed_action_triggered)
        self.fit_action.triggered.connect(view.zoom_to_fit)
        self.zoom_selection_action.triggered.connect(view.zoom_to_selection)
        find_bar.closed.connect(view.setFocus)
        view.group_selected.connect(self._on_view_group_selected)
        view.node_selected.connect(self._on_view_node_selected)
        view.laid_out.connect(self._on_view_laid_out)
        self.groups.member_selected.connect(view.select_node)
        self.groups.page_requested.connect(self._on_groups_page_requested)
        self.groups.cancel_requested.connect(self._on_groups_cancel_requested)
        self.groups.rerun_requested.connect(self._on_groups_rerun_requested)

    def show_group(self, key: str) -> None:
        view = self.view
        members = view.group_members(key)
        keys = [view.key_of(node) for node in members] if view.is_agent else None
        self.groups.show_group(key, view.group_title(key), members, view.group_page(key), keys)

    @Slot()
    def _on_next_failed_action_triggered(self) -> None:
        if self.view.next_failed() is None:
            self.window.statusBar().showMessage("no failed node", 3000)

    @Slot()
    def _on_previous_failed_action_triggered(self) -> None:
        if self.view.next_failed(backwards=True) is None:
            self.window.statusBar().showMessage("no failed node", 3000)

    @Slot()
    def _on_view_laid_out(self) -> None:
        """Keep the group inspector in step (the group's page may have changed)."""
        if self.groups.key is not None:
            self.show_group(self.groups.key)

    @Slot(str)
    def _on_view_group_selected(self, key: str) -> None:
        self.show_group(key)
        self.window.details.setCurrentWidget(self.groups)

    @Slot(str)
    def _on_view_node_selected(self, key: str) -> None:
        """The Group tab follows the selection: the group of the node selected (clicked,
        found, stepped to), or nothing if it is in none."""
        group = self.view.group_of(key)
        if group is None:
            self.groups.show_group(None)
        elif group != self.groups.key or self.view.group_page(group) != self.groups.page:
            self.show_group(group)

    @Slot(str, str)
    def _on_groups_page_requested(self, key: str, what: str) -> None:
        if what == "toggle":
            self.view.toggle_group(key)
        elif what == "failed":
            self.view.page_to_failed(key)
        else:
            self.view.turn_page(key, 1 if what == "next" else -1)

    @Slot(list)
    def _on_groups_cancel_requested(self, node_ids: list[str]) -> None:
        window = self.window
        if window.current is None:
            return
        nodes = window.current.run.nodes
        for node_id in node_ids:
            if node_id in nodes:
                window.session.cancel_node(window.current, node_id)

    @Slot(list)
    def _on_groups_rerun_requested(self, node_ids: list[str]) -> None:
        window = self.window
        if window.current is not None and node_ids:
            window.reruns.ask(window.current, node_ids, "downstream")  # type: ignore[arg-type]
