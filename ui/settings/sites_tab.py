"""The Sites tab: the [[site]] list, with Add, Edit, Remove and Import from Pantheon.

With many sites (an agency's hundreds): a click on a column header sorts by it (Group
included), the filter keeps the rows whose name, URL or group contains the text, and the
group list keeps one group's sites. Rows carry their site's name, so Edit and Remove act
on the site shown whatever the order.

Changes stay in this tab (`sites`) until the dialog saves; `changed` tells it there is
something to save, `message` what to say about it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.config import Config, SiteConfig, with_site, without_site
from app.printable import plain_tooltip
from ui.accessible import StatusLabel, name_button
from ui.settings.site_editor import SiteEditor


class SitesTab(QWidget):
    changed = Signal()
    message = Signal(str, bool)  # text, is an error
    import_requested = Signal()

    def __init__(self, sites: tuple[SiteConfig, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Sites")
        self.sites = sites
        self.editor: SiteEditor | None = None

        self.filter = QLineEdit(self)
        self.filter.setObjectName("sites_filter")
        self.filter.setPlaceholderText("name, URL or group")
        self.filter.setAccessibleName("Filter sites by name, URL or group")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(lambda _text: self._apply_filter())
        self.group_filter = QComboBox(self)
        self.group_filter.setObjectName("sites_group_filter")
        self.group_filter.setAccessibleName("Show the sites of one group")
        self.group_filter.currentIndexChanged.connect(lambda _index: self._apply_filter())
        filter_label = QLabel("&Filter:", self)
        filter_label.setBuddy(self.filter)
        filters = QHBoxLayout()
        filters.addWidget(filter_label)
        filters.addWidget(self.filter, 1)
        filters.addWidget(self.group_filter)

        self.table = QTableWidget(0, 5, self)
        self.table.setObjectName("sites_table")
        self.table.setAccessibleName("Sites")
        self.table.setHorizontalHeaderLabels(
            ["Name", "URL", "Environment", "Backend URL", "Group"]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table, as in a form
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents,
                                       QHeaderView.ResizeMode.Stretch,
                                       QHeaderView.ResizeMode.ResizeToContents,
                                       QHeaderView.ResizeMode.Stretch,
                                       QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(column, mode)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the file's order first
        header.setSortIndicatorShown(True)
        self.table.doubleClicked.connect(lambda _index: self.edit_site())
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.installEventFilter(self)

        self.add_button = self._button("&Add…", "Add a site", self.add_site)
        self.edit_button = self._button("E&dit…", "Edit the selected site", self.edit_site)
        self.remove_button = self._button("&Remove", "Remove the selected site", self.remove_site)
        self.import_button = self._button(
            "&Import my Pantheon sites…", "Import the live sites of your Pantheon account",
            self.import_requested.emit,
        )
        self.import_button.setObjectName("import_pantheon")

        self.hint = StatusLabel("No sites yet: add one to start watching it.", self)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        self.show_sites(sites)

    def _button(self, text: str, name: str, slot: object) -> QPushButton:
        button = QPushButton(text, self)
        name_button(button)  # the visible label, which speech input users say
        button.setAccessibleDescription(name)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    def show_sites(self, sites: tuple[SiteConfig, ...], select: str | None = None) -> None:
        self.sites = sites
        self.table.setSortingEnabled(False)  # rows filled in place, then sorted once
        self.table.setRowCount(len(sites))
        for row, site in enumerate(sites):
            for col, text in enumerate(
                (site.name, site.url, site.environment, site.backend_url or "(same as URL)",
                 site.group)
            ):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tooltip(text))
                item.setData(Qt.ItemDataRole.UserRole, site.name)
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)
        self._show_groups(sites)
        self._apply_filter()
        for row in range(self.table.rowCount()):
            if self._name_at(row) == select:
                self.table.selectRow(row)
        self.hint.setVisible(not sites)
        if sites and self.selected_site() is None:
            # A row is always selected, so Return (edit) and Delete act from the start.
            first = next((r for r in range(self.table.rowCount())
                          if not self.table.isRowHidden(r)), None)
            if first is not None:
                self.table.selectRow(first)
        self._update_buttons()

    def _name_at(self, row: int) -> str | None:
        item = self.table.item(row, 0)
        name = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return name if isinstance(name, str) else None

    def _show_groups(self, sites: tuple[SiteConfig, ...]) -> None:
        chosen = self.group_filter.currentData()
        groups = sorted({s.group for s in sites if s.group}, key=str.casefold)
        self.group_filter.blockSignals(True)
        self.group_filter.clear()
        self.group_filter.addItem("All groups", None)
        for group in groups:
            self.group_filter.addItem(group, group)
        index = self.group_filter.findData(chosen) if chosen in groups else 0
        self.group_filter.setCurrentIndex(max(0, index))
        self.group_filter.blockSignals(False)
        self.group_filter.setVisible(bool(groups))

    def _apply_filter(self) -> None:
        words = self.filter.text().casefold().split()
        group = self.group_filter.currentData()
        by_name = {s.name: s for s in self.sites}
        for row in range(self.table.rowCount()):
            site = by_name.get(self._name_at(row) or "")
            shown = site is not None and (group is None or site.group == group) and all(
                word in f"{site.name} {site.url} {site.group}".casefold() for word in words
            )
            self.table.setRowHidden(row, not shown)
        if hasattr(self, "edit_button"):  # not while the tab is being built
            self._update_buttons()

    def selected_site(self) -> SiteConfig | None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if len(rows) != 1:
            return None
        row = rows.pop()
        if self.table.isRowHidden(row):
            return None
        name = self._name_at(row)
        return next((s for s in self.sites if s.name == name), None)

    def _update_buttons(self) -> None:
        selected = self.selected_site() is not None
        self.edit_button.setEnabled(selected)
        self.remove_button.setEnabled(selected)

    def add_site(self) -> None:
        self._open_editor(None)

    def edit_site(self) -> None:
        site = self.selected_site()
        if site is not None:
            self._open_editor(site)

    def remove_site(self) -> None:
        site = self.selected_site()
        if site is None:
            return
        row = self.sites.index(site)
        remaining = without_site(Config(sites=self.sites), site.name).sites
        after = remaining[min(row, len(remaining) - 1)].name if remaining else None
        self.show_sites(remaining, select=after)
        self.changed.emit()
        self.message.emit(f"Removed {site.name!r}; it stays in the file until you save.", False)

    def add_imported(self, sites: tuple[SiteConfig, ...]) -> None:
        draft = Config(sites=self.sites)
        for site in sites:
            draft = with_site(draft, site)  # names are already unique (sites_import)
        self.show_sites(draft.sites, select=sites[0].name if sites else None)
        self.changed.emit()
        count = len(sites)
        self.message.emit(
            f"Imported {count} site{'s' if count != 1 else ''} from Pantheon; "
            "they are watched once you save.", False,
        )

    def _open_editor(self, site: SiteConfig | None) -> None:
        taken = [s.name for s in self.sites if site is None or s.name != site.name]
        groups = {s.group for s in self.sites if s.group}
        editor = SiteEditor(site, taken_names=taken, groups=groups, parent=self)
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.accepted.connect(lambda: self._edited(editor))
        self.editor = editor
        editor.open()  # window-modal and non-blocking: no nested event loop

    def _edited(self, editor: SiteEditor) -> None:
        site = editor.result_site()
        if site is None:
            return
        try:
            draft = with_site(Config(sites=self.sites), site, replacing=editor.original_name)
        except ValueError as exc:  # the editor checks too; this is the loader's word
            self.message.emit(str(exc), True)
            return
        self.show_sites(draft.sites, select=site.name)
        self.changed.emit()
        self.table.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # In the table, Enter edits the site (not Save) and Delete removes it.
        if watched is self.table and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.edit_site()
                return True
            if event.key() == Qt.Key.Key_Delete:
                self.remove_site()
                return True
        return super().eventFilter(watched, event)
