"""The tray icon: state-driven icon and tooltip, the menu, notifications.

Driven by the bridge's signals. The icon is swapped only when (overall state, pending)
changes. The menu follows every snapshot, opened or not: a StatusNotifierItem host
(KDE, GNOME's AppIndicator, XFCE) reads it over D-Bus (dbusmenu GetLayout) whenever it
likes, may never call AboutToShow, and draws the menu itself, so `menu.isVisible()` is
always False there. It is updated in place on each snapshot (same QActions, so the same
dbusmenu ids; each entry keeps its site, so nothing moves under the pointer of an open
menu) and rebuilt only when its shape changes (an entry more or less); it is sorted
again (worst first) when it is about to show. Re-sorting on every snapshot would rebuild
it whenever a site changed state: 2-6 ms of GUI thread per check with 200 sites.
Everything it acts on comes in through the constructor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QPoint, QRect, Qt, QUrl, Slot
from PySide6.QtGui import QCursor, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMenu, QMessageBox, QSystemTrayIcon

from app import APP_DISPLAY_NAME, __version__
from app.config import Config
from app.events import Event, MonitorSnapshot
from app.models import OverallState
from app.notices import Level, Notification
from app.planned import PlannedNotices
from app.presentation import tooltip_lines
from ui.bridge import Bridge
from ui.desktop_notifications import DesktopNotifications
from ui.icons import IconSet
from ui.menu import MenuHandlers, MenuLayout, MenuState, populate, refresh, site_order
from ui.notifications import Notifier

if TYPE_CHECKING:
    from ui.site_details import SiteDetails

log = logging.getLogger(__name__)


class Autostart(Protocol):
    """Start at login (app.autostart satisfies it)."""

    def is_enabled(self) -> bool: ...
    def set_enabled(self, enabled: bool) -> None: ...


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
        desktop_notifications: DesktopNotifications | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._icons = icons
        self._open_settings = open_settings
        self.open_ticket_form = open_ticket_form  # settable: the ticket form may come later
        self.notification_fallback: Callable[[Notification], None] | None = None
        self.open_newrelic: Callable[[str], None] | None = None  # settable, like the form
        self.snooze_site: Callable[[str, str], None] | None = None  # settable, like the form
        self.open_window: Callable[[], None] | None = None  # settable: the Lifeline window
        self._autostart = autostart
        self._open_url = open_url
        self._show_about = show_about or self._about
        self._on_quit = on_quit
        self._show_error = show_error
        self._clock = clock or (lambda: datetime.now().astimezone())
        self._log_file = log_file
        # Sent to the notification server directly where there is one: Qt's message
        # would put a generic icon in the tray in place of the state (issue 18).
        self._desktop = desktop_notifications
        if desktop_notifications is not None:
            desktop_notifications.clicked.connect(self._open_for)

        self.tray = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.menu.setToolTipsVisible(True)
        self.tray.setContextMenu(self.menu)
        self.menu.aboutToShow.connect(self._on_about_to_show)
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
        self._layout_key: tuple[object, ...] | None = None  # what the menu's shape follows
        self._autostart_cached: bool | None = None
        self._about_box: QMessageBox | None = None  # kept: a parentless box dies at once
        self._details: SiteDetails | None = None  # kept, like the About box
        self.menu_rebuilds = 0  # how often the menu was rebuilt (ids renumbered)
        self.icon_changes = 0  # how often the icon was really swapped (a figure we report)

        bridge.snapshotChanged.connect(self._on_snapshot)
        bridge.monitorEvents.connect(self._on_events)
        bridge.error.connect(self.show_error)
        bridge.configChanged.connect(self._on_config)
        self._autostart_cached = self._autostart_state()
        self._on_snapshot(bridge.snapshot)

    # -- showing ---------------------------------------------------------------------

    def show(self) -> None:
        self.tray.show()

    def hide(self) -> None:
        self.tray.hide()

    def open_menu(self) -> None:
        """Pop the menu up near the icon (second launch, a notification click)."""
        self._sync_menu(keep_order=False)
        self.menu.popup(self._menu_anchor())
        self.menu.activateWindow()

    def _menu_anchor(self) -> QPoint:
        geometry = self.tray.geometry()
        if geometry.isValid():
            return geometry.bottomLeft()
        # A StatusNotifierItem host knows where the icon is, but never tells (the
        # geometry is invalid there): the panel's corner is the best guess, not the
        # mouse pointer, which may be anywhere after a launch from a terminal.
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return QCursor.pos()
        return panel_corner(screen.geometry(), screen.availableGeometry(),
                            self.menu.sizeHint().width())

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
            # Only when what it says changes: an SNI host re-reads the whole ToolTip
            # property (the icon's pixmaps with it) on every NewToolTip.
            self._tooltip = tip
            self.tray.setToolTip(tip)
        if self._details is not None:  # an open details window follows the checks too
            shown = snapshot.site(self._details.site_name)
            if shown is not None:
                self._details.show_site(shown, self._clock())
        # An open menu must not go on saying "confirming down" once the icon is red,
        # and a host that never calls AboutToShow must still read today's menu.
        self._sync_menu(keep_order=True)

    def tooltip(self, snapshot: MonitorSnapshot) -> str:
        """Plain text (an SNI tooltip's title is plain; `plain()` has already turned
        angle brackets into look-alikes, so Qt never guesses rich text either), without
        the last check's time, which would change it on every check."""
        lines = tooltip_lines(snapshot, self._bridge.config.provider.name, self._clock())
        return "\n".join(line for line in lines if not line.startswith(LAST_CHECK))

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
    def _on_about_to_show(self) -> None:
        self._autostart_cached = self._autostart_state()  # the file may have changed
        self._sync_menu(keep_order=False)

    @Slot()
    def rebuild_menu(self) -> None:
        bridge = self._bridge
        state = self._menu_state()
        self._layout = populate(
            self.menu, bridge.snapshot, bridge.config, self._handlers(), self._icons, state,
        )
        self._layout_key = self._shape_key(state)
        self.menu_rebuilds += 1

    def refresh_menu(self) -> None:
        """Show the current snapshot in the menu as built (in place, keeping its order)."""
        self._sync_menu(keep_order=True)

    def _sync_menu(self, *, keep_order: bool) -> None:
        """In place when the shape (and, unless `keep_order`, the order) is unchanged:
        the entries keep their QActions and so their dbusmenu ids; else rebuilt."""
        bridge = self._bridge
        state = self._menu_state()
        if (
            self._layout is None
            or self._layout_key != self._shape_key(state)
            or (not keep_order and self._order_changed(self._layout, bridge.snapshot))
            or not refresh(
                self._layout, bridge.snapshot, bridge.config, self._handlers(), self._icons,
                state,
            )
        ):
            self.rebuild_menu()

    def _shape_key(self, state: MenuState) -> tuple[object, ...]:
        """What the menu's fixed entries are built from, besides the snapshot."""
        return (
            id(self._bridge.config), self.open_ticket_form is not None,
            self.open_newrelic is not None, state.paused_until, state.autostart,
            state.resume_hour,
        )

    def _order_changed(self, layout: MenuLayout, snapshot: MonitorSnapshot) -> bool:
        return layout.order() != site_order(snapshot, self._bridge.config)

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
            snooze=self.snooze_site,
            open_window=self.open_window,
            show_details=self.show_details,
            set_autostart=self._set_autostart if self._autostart is not None else None,
        )

    def _menu_state(self) -> MenuState:
        return MenuState(
            now=self._clock(),
            paused_until=self.notifier.paused_until,
            autostart=self._autostart_cached,
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
            self._autostart_cached = enabled
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
        if self._desktop is not None and self._desktop.ready:
            self._desktop.show(note, lambda: self._show_message(note.title, note.body))
            return
        self._show_message(note.title, note.body)

    def _show_message(self, title: str, body: str) -> None:
        # The QIcon overload, with the state icon: with a MessageIcon Qt puts a generic
        # dialog-warning/-error icon in the tray (SNI NeedsAttention) for MESSAGE_MS.
        self.tray.showMessage(title, body, self.tray.icon(), MESSAGE_MS)
        _balloon_for_screen_readers(title, body)

    @Slot(str)
    def show_error(self, message: str) -> None:
        if self._show_error is not None:
            self._show_error(message)
            return
        title = f"{APP_DISPLAY_NAME}: something went wrong"
        if self._desktop is not None and self._desktop.ready:
            note = Notification(title, message, Level.CRITICAL)
            self._desktop.show(note, lambda: self._show_message(title, message))
            return
        self._show_message(title, message)

    @Slot()
    def _on_message_clicked(self) -> None:
        if self.menu.isVisible():
            # A right-click on the icon while a balloon shows: Qt's XEmbed tray opens
            # the menu, then reports the click as a click on the balloon. Opening the
            # ticket form (or the menu again) here closed that menu: a second right-click
            # was needed, just when a site-down alert is up.
            return
        self._open_for(self.notifier.last)

    @Slot(object)
    def _open_for(self, note: Notification | None) -> None:
        """A notification was clicked: the ticket form for a site down, else the menu."""
        if note is not None and note.down_sites and self.open_ticket_form is not None:
            self.open_ticket_form(note.ticket_site)
        else:
            self.open_menu()

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason is QSystemTrayIcon.ActivationReason.Trigger and self.open_window is not None:
            # A left click where the platform has no left-click menu (Linux panels,
            # Windows; macOS shows the menu itself and sends no Trigger): the window.
            self.open_window()
        elif reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.MiddleClick,
        ):
            # Without the window, a left click opens the same menu (what users try).
            self._sync_menu(keep_order=False)
            self.menu.popup(QCursor.pos())

    def _about(self) -> None:
        if self._about_box is not None:
            self._about_box.show()
            self._about_box.raise_()
            self._about_box.activateWindow()
            return
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
        # Held here until closed: a parentless local box is collected at once (issue 18).
        self._about_box = box
        box.finished.connect(self._forget_about_box)
        box.open()  # not exec(): the GUI keeps running while it is shown

    @Slot()
    def _forget_about_box(self) -> None:
        self._about_box = None

    @property
    def about_box(self) -> QMessageBox | None:
        return self._about_box

    def show_details(self, site_name: str) -> None:
        """A site's details in full (its submenu's info lines open it)."""
        from ui.site_details import SiteDetails

        site = self._bridge.snapshot.site(site_name)
        if site is None:
            return
        if self._details is None:
            self._details = SiteDetails(site, self._clock())
            self._details.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self._details.finished.connect(self._forget_details)
        else:
            self._details.show_site(site, self._clock())
        self._details.setWindowTitle(f"{site.name}: details")
        self._details.show()
        self._details.raise_()
        self._details.activateWindow()

    @Slot()
    def _forget_details(self) -> None:
        self._details = None

    @property
    def details_window(self) -> SiteDetails | None:
        return self._details


LAST_CHECK = "Last check:"


def _balloon_for_screen_readers(title: str, body: str) -> None:
    """Qt's own balloon (XEmbed trays, no notification daemon) has no alert role and an
    unnamed close button: name its parts and announce the message, as an alert would."""
    from PySide6.QtGui import QAccessible, QAccessibleEvent
    from PySide6.QtWidgets import QApplication, QPushButton

    from ui.accessible import announce

    for widget in QApplication.topLevelWidgets():
        if widget.metaObject().className() != "QBalloonTip" or not widget.isVisible():
            continue
        widget.setAccessibleName(title)
        widget.setAccessibleDescription(body)
        for button in widget.findChildren(QPushButton):
            if not button.text():
                button.setAccessibleName("Close")
        if QAccessible.isActive():
            QAccessible.updateAccessibility(QAccessibleEvent(widget, QAccessible.Event.Alert))
        announce(widget, f"{title}. {body}", urgent=True)


def panel_corner(screen: QRect, available: QRect, menu_width: int) -> QPoint:
    """Where a menu for an icon whose place is unknown goes: the corner of the screen on
    the panel's edge (the edge the work area is shrunk from; top when that is unknown),
    at the right end, where trays usually sit."""
    right = available.right() - menu_width
    if available.bottom() < screen.bottom():
        return QPoint(right, available.bottom())
    if available.left() > screen.left():
        return QPoint(available.left(), available.top())
    return QPoint(right, available.top())
