"""A small window standing in for the tray when no system tray shows up.

Some desktops have no tray at all (GNOME without an extension), others start theirs
late; after retrying for a while the app shows this instead of crashing or running
invisibly. It shows the same state as the tray and offers the same main actions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import APP_DISPLAY_NAME
from app.events import MonitorSnapshot
from app.notices import Notification
from app.presentation import (
    local_time,
    overall_line,
    plain,
    platform_line,
    site_sort_key,
    site_title,
    uptime_text,
)
from ui.bridge import Bridge
from ui.icons import IconSet


class StatusWindow(QWidget):
    def __init__(
        self,
        bridge: Bridge,
        icons: IconSet,
        *,
        open_settings: Callable[[], None],
        on_quit: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._icons = icons
        self.setWindowTitle(APP_DISPLAY_NAME)
        self.setAccessibleName(f"{APP_DISPLAY_NAME} status")

        self.note = QLabel(
            "No system tray was found, so Lifeline shows its state here. "
            "Closing this window keeps monitoring; Quit stops it."
        )
        self.note.setWordWrap(True)
        self.overall = QLabel()
        self.badge = QLabel()  # the tray icon's image, since there is no tray to show it
        self.badge.setAccessibleName("Overall state")
        self.latest = QLabel()  # the last notification, since there are no balloons
        self.latest.setWordWrap(True)
        self.platform = QLabel()
        self.last = QLabel()
        for label in (self.note, self.overall, self.platform, self.last, self.latest):
            label.setTextFormat(Qt.TextFormat.PlainText)
        self.sites = QListWidget()
        self.sites.setAccessibleName("Sites")

        check = QPushButton("&Check all now")
        check.clicked.connect(lambda: bridge.check_now(None))
        settings = QPushButton("&Settings\u2026")
        settings.clicked.connect(lambda: open_settings())
        quit_button = QPushButton("&Quit")
        quit_button.clicked.connect(lambda: on_quit())
        buttons = QHBoxLayout()
        for button in (check, settings, quit_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        head = QHBoxLayout()
        head.addWidget(self.badge)
        head.addWidget(self.overall, 1)
        layout.addLayout(head)
        layout.addWidget(self.platform)
        layout.addWidget(self.sites)
        layout.addWidget(self.last)
        layout.addWidget(self.latest)
        layout.addLayout(buttons)
        self.resize(460, 360)

        bridge.snapshotChanged.connect(self.show_snapshot)
        self.show_snapshot(bridge.snapshot)

    @Slot(object)
    def show_snapshot(self, snapshot: MonitorSnapshot) -> None:
        now = datetime.now().astimezone()
        icon = self._icons.overall(snapshot.overall, snapshot.pending)
        self.setWindowIcon(icon)
        self.badge.setPixmap(icon.pixmap(24, 24))
        self.badge.setToolTip(snapshot.overall.label)
        self.overall.setText(plain(overall_line(snapshot), 120))
        provider = self._bridge.config.provider.name
        self.platform.setText(plain(platform_line(snapshot.platform, provider), 120))
        self.last.setText(f"Last check: {local_time(snapshot.last_check, now)}")
        self.sites.clear()
        for site in sorted(snapshot.sites, key=site_sort_key):
            text = plain(site_title(site), 100)
            item = QListWidgetItem(self._icons.site(site.state, site.pending), text)
            item.setToolTip(
                plain(
                    f"Last checked {local_time(site.last_checked, now)}, "
                    f"uptime 24 h {uptime_text(site.uptime_24h)}",
                    120,
                )
            )
            self.sites.addItem(item)

    def show_notification(self, note: Notification) -> None:
        self.latest.setText(f"{note.title}\n{note.body}")
        QApplication.alert(self)  # the taskbar entry asks for attention
