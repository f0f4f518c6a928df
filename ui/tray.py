"""The tray icon: state-driven icon and tooltip, the menu, notifications.

Driven by the bridge's signals. The icon is swapped only when (overall state, pending)
changes; the menu is rebuilt when it is about to show, from the snapshot in memory, and
updated in place when a snapshot arrives while it is open.
Everything it acts on comes in through the constructor.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QCursor, QDesktopServices
from PySide6.QtWidgets import QMenu, QMessageBox, QSystemTrayIcon

from app import APP_DISPLAY_NAME, __version__
from app.config import Config
from app.events import Event, MonitorSnapshot
from app.models import OverallState
from app.notices import Level, Notification
from app.planned import PlannedNotices
from app.presentation import tooltip_lines
from ui.bridge import Bridge
from ui.icons import IconSet
from ui.menu import MenuHandlers, MenuLayout, MenuState, populate, refresh
from ui.notifications import Notifier

log = logging.getLogger(__name__)


class Autostart(Protocol):
    """Start at login (app.autostart satisfies it)."""

    def is_enabled(self) -> bool: ...
    def set_enabled(self, enabled: bool) -> None: ...


_MESSAGE_ICON = {
    Level.INFO: QSystemTrayIcon.MessageIcon.Information,
    Level.WARNING: QSystemTrayIcon.MessageIcon.Warning,
    Level.CRITICAL: QSystemTrayIcon.MessageIcon.Critical,
}
MESSAGE_MS = 10_000


def open_in_browser(url: str) -> None:
    QDesktopServices.openUrl(QUrl(url))


class TrayIcon(QObject):
    def __init__(
        self,
        bridge: Bridge,
        icons: IconSet,
        *,
        open_settings: Callable[[], None],
        open_ticket_form: Callable[[str | None], None] | None = None,
        autostart: Autostart | None = None,
        open_url: Callable[[str], None] = open_in_browser,
        show_about: Callable[[], None] | None = None,
        on_quit: Callable[[], None],
        show_error: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] | None = None,
        planned_notices: PlannedNotices | None = None,
        log_file: str = "",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._icons = icons
        self._open_settings = open_settings
        self.open_ticket_form = open_ticket_form  # settable: the ticket form may come later
        self.notification_fallback: Callable[[Notification], None] | None = None
        self.open_newrelic: Callable[[str], None] | None = None  # settable, like the form
        self._autostart = autostart
        self._open_url = open_url
        self._show_about = show_about or self._about
        self._on_quit = on_quit
        self._show_error = show_error
        self._clock = clock or (lambda: datetime.now().astimezone())
        self._log_file = log_file

        self.tray = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.menu.setToolTipsVisible(True)
        self.tray.setContextMenu(self.menu)
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.tray.activated.connect(self._on_activated)
        self.tray.messageClicked.connect(self._on_message_clicked)

        self.notifier = Notifier(
            self._show_notification,
            provider_name=bridge.config.provider.name,
            clock=self._clock,
            planned_notices=planned_notices,
            parent=self,
        )
        self._icon_key: tuple[OverallState, bool] | None = None
        self._tooltip = ""
        self._layout: MenuLayout | None = None
        self.icon_changes = 0  # how often the icon was really swapped (a figure we report)

        bridge.snapshotChanged.connect(self._on_snapshot)
        bridge.monitorEvents.connect(self._on_events)
        bridge.error.connect(self.show_error)
        bridge.configChanged.connect(self._on_config)
        self._on_snapshot(bridge.snapshot)
        self.rebuild_menu()

    # -- showing ---------------------------------------------------------------------

    def show(self) -> None:
        self.tray.show()

    def hide(self) -> None:
        self.tray.hide()

    def open_menu(self) -> None:
        """Pop the menu up near the icon (second launch, a notification click)."""
        geometry = self.tray.geometry()
        where = geometry.bottomLeft() if geometry.isValid() else QCursor.pos()
        self.menu.popup(QPoint(where))
        self.menu.activateWindow()

    # -- state ------------------------------------------------------------------------

    @Slot(object)
    def _on_snapshot(self, snapshot: MonitorSnapshot) -> None:
        key = (snapshot.overall, snapshot.pending)
        if key != self._icon_key:
            self._icon_key = key
            self.tray.setIcon(self._icons.overall(*key))
            self.icon_changes += 1
            log.info("tray icon: %s%s", key[0].value, " (pending)" if key[1] else "")
        tip = self.tooltip(snapshot)
        if tip != self._tooltip:
            self._tooltip = tip
            self.tray.setToolTip(tip)
        if self.menu.isVisible():
            # An open menu must not go on saying "confirming down" once the icon is red.
            self.refresh_menu()

    def tooltip(self, snapshot: MonitorSnapshot) -> str:
        lines = tooltip_lines(snapshot, self._bridge.config.provider.name, self._clock())
        # Escaped rich text: Qt would otherwise guess, and status-page text is untrusted.
        return "<p style='white-space:pre'>" + "<br>".join(html.escape(x) for x in lines) + "</p>"

    @Slot(object)
    def _on_events(self, events: list[Event]) -> None:
        for event in events:
            self.notifier.handle(event)

    @Slot(object)
    def _on_config(self, config: Config) -> None:
        self.notifier.provider_name = config.provider.name

    @property
    def icon_key(self) -> tuple[OverallState, bool] | None:
        return self._icon_key

    # -- menu --------------------------------------------------------------------------

    @Slot()
    def rebuild_menu(self) -> None:
        bridge = self._bridge
        self._layout = populate(
            self.menu, bridge.snapshot, bridge.config, self._handlers(), self._icons,
            self._menu_state(),
        )

    def refresh_menu(self) -> None:
        """Show the current snapshot in the menu as built (in place, while it is open)."""
        bridge = self._bridge
        if self._layout is None or not refresh(
            self._layout, bridge.snapshot, bridge.config, self._handlers(), self._icons,
            self._menu_state(),
        ):
            self.rebuild_menu()

    def _handlers(self) -> MenuHandlers:
        return MenuHandlers(
            open_url=self._open_url,
            check_now=self._bridge.check_now,
            open_settings=self._open_settings,
            pause=self.notifier.pause,
            about=self._show_about,
            quit=self._on_quit,
            open_ticket_form=self.open_ticket_form,
            open_newrelic=self.open_newrelic,
            set_autostart=self._set_autostart if self._autostart is not None else None,
        )

    def _menu_state(self) -> MenuState:
        return MenuState(
            now=self._clock(),
            paused_until=self.notifier.paused_until,
            autostart=self._autostart_state(),
            resume_hour=self.notifier.resume_hour,
        )

    def _autostart_state(self) -> bool | None:
        if self._autostart is None:
            return None
        try:
            return self._autostart.is_enabled()
        except Exception as exc:  # unsupported platform or unreadable entry: hide it
            log.info("start at login unavailable: %s", exc)
            return None

    def _set_autostart(self, enabled: bool) -> None:
        assert self._autostart is not None
        try:
            self._autostart.set_enabled(enabled)
        except Exception as exc:  # AutostartError/Unsupported carry a message to show
            log.warning("start at login: %s", exc)
            self.show_error(f"Start at login could not be changed: {exc}")

    # -- notifications ----------------------------------------------------------------------

    def _show_notification(self, note: Notification) -> None:
        log.info("notification: %s | %s", note.title, note.body.replace("\n", " | "))
        if not self.tray.isVisible() and self.notification_fallback is not None:
            # No tray to show a balloon from (the status window stands in for it).
            self.notification_fallback(note)
            return
        self.tray.showMessage(note.title, note.body, _MESSAGE_ICON[note.level], MESSAGE_MS)

    @Slot(str)
    def show_error(self, message: str) -> None:
        if self._show_error is not None:
            self._show_error(message)
            return
        self.tray.showMessage(
            f"{APP_DISPLAY_NAME}: something went wrong",
            message,
            QSystemTrayIcon.MessageIcon.Critical,
            MESSAGE_MS,
        )

    @Slot()
    def _on_message_clicked(self) -> None:
        note = self.notifier.last
        if note is not None and note.down_sites and self.open_ticket_form is not None:
            self.open_ticket_form(note.ticket_site)
        else:
            self.open_menu()

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.MiddleClick,
        ):
            # Left click opens the same menu: on many Linux panels that is what users try.
            self.menu.popup(QCursor.pos())

    def _about(self) -> None:
        text = (
            f"{APP_DISPLAY_NAME} {__version__}\n\n"
            "Watches your sites and your host's status page, tells you who is at fault, "
            "and files an emergency ticket in one click.\n\n"
            f"Log file: {self._log_file or 'not configured'}"
        )
        box = QMessageBox(
            QMessageBox.Icon.Information, f"About {APP_DISPLAY_NAME}", text,
            QMessageBox.StandardButton.Close,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not exec(): the GUI keeps running while it is shown
