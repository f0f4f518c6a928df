"""The Sites tab: the [[site]] list, with Add, Edit, Remove and Import from Pantheon.

Changes stay in this tab (`sites`) until the dialog saves; `changed` tells it there is
something to save, `message` what to say about it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
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

        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("sites_table")
        self.table.setAccessibleName("Sites")
        self.table.setHorizontalHeaderLabels(["Name", "URL", "Environment", "Backend URL"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table, as in a form
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents,
                                       QHeaderView.ResizeMode.Stretch,
                                       QHeaderView.ResizeMode.ResizeToContents,
                                       QHeaderView.ResizeMode.Stretch)):
            header.setSectionResizeMode(column, mode)
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
        self.table.setRowCount(len(sites))
        for row, site in enumerate(sites):
            for col, text in enumerate(
                (site.name, site.url, site.environment, site.backend_url or "(same as URL)")
            ):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tooltip(text))
                self.table.setItem(row, col, item)
            if site.name == select:
                self.table.selectRow(row)
        self.hint.setVisible(not sites)
        if sites and self.selected_site() is None:
            # A row is always selected, so Return (edit) and Delete act from the start.
            self.table.selectRow(0)
        self._update_buttons()

    def selected_site(self) -> SiteConfig | None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if len(rows) != 1:
            return None
        row = rows.pop()
        return self.sites[row] if 0 <= row < len(self.sites) else None

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
        editor = SiteEditor(site, taken_names=taken, parent=self)
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
