"""Desktop notifications sent to org.freedesktop.Notifications directly (Linux, BSD).

Qt's own path, QSystemTrayIcon.showMessage, on a StatusNotifierItem host (KDE, GNOME's
AppIndicator, XFCE) sets the item to NeedsAttention for the message's duration, which
swaps the state icon for the message's icon (a generic dialog-warning, or a frozen copy
of the state icon that no longer follows the state); it also sends the notification with
no default action (a click does nothing) and at low urgency. Here the message goes out
as the Desktop Notifications spec has it: urgency from its level, a "default" action,
the desktop entry as a hint, the body escaped when the server reads markup; a click
(ActionInvoked "default") comes back as `clicked`. The tray icon is not touched.

D-Bus is spoken with jeepney: QtDBus cannot send a uint32 from Python, which Notify's
replaces_id is. jeepney's router reads on a thread of its own (blocked in recv, so no
wake-ups while idle); connecting and each Notify run on Workers, never on the GUI thread.
When there is no session bus or no notification server, `ready` stays False and the
tray uses Qt's message instead.
"""

from __future__ import annotations

import html
import logging
import queue
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app import APP_DISPLAY_NAME, APP_ID
from app.notices import Level, Notification
from ui.workers import Workers

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
CALL_TIMEOUT_S = 5.0
DEFAULT_ACTION = "default"  # the spec's key for "the notification itself was clicked"
URGENCY = {Level.INFO: 1, Level.WARNING: 1, Level.CRITICAL: 2}  # normal, normal, critical


class _Connection:
    """The jeepney router and what the server said it can do (made on a worker)."""

    def __init__(self, router: Any, markup: bool) -> None:
        self.router = router
        self.markup = markup


class _ToSignal(queue.Queue[Any]):
    """A jeepney filter queue that hands each message to a Qt signal instead."""

    def __init__(self, emit: Callable[[Any], None]) -> None:
        super().__init__()
        self._emit = emit

    def put_nowait(self, item: Any) -> None:
        self._emit(item)


def notify_message(note: Notification, *, markup: bool, expire_ms: int) -> Any:
    """The Notify method call for a notification (the spec's signature susssasa{sv}i)."""
    from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]

    body = html.escape(note.body, quote=False) if markup else note.body
    critical = URGENCY[note.level] == 2
    return new_method_call(
        DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE),
        "Notify",
        "susssasa{sv}i",
        (
            APP_DISPLAY_NAME,
            0,
            APP_ID,
            note.title,
            body,
            [DEFAULT_ACTION, "Open"],
            {"urgency": ("y", URGENCY[note.level]), "desktop-entry": ("s", APP_ID)},
            -1 if critical else expire_ms,  # critical: until dismissed (the server's rule)
        ),
    )


def _connect(bus_address: str | None) -> _Connection:
    """Blocking: run on a worker. Opens the session bus and asks the server's capabilities."""
    from jeepney import DBusAddress, MatchRule, new_method_call
    from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
    from jeepney.io.threading import DBusRouter, open_dbus_connection  # type: ignore[import-untyped]

    conn = open_dbus_connection(bus_address or "SESSION")
    router = DBusRouter(conn)
    try:
        address = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
        reply = router.send_and_get_reply(
            new_method_call(address, "GetCapabilities"), timeout=CALL_TIMEOUT_S
        )
        if reply.header.message_type.name == "error":
            raise OSError(f"no notification server: {reply.body[0] if reply.body else ''}")
        capabilities = set(reply.body[0])
        for member in ("ActionInvoked", "NotificationClosed"):
            rule = MatchRule(type="signal", interface=SERVICE, path=PATH, member=member)
            router.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_S)
    except BaseException:
        router.close()
        conn.close()
        raise
    return _Connection(router, "body-markup" in capabilities)


class DesktopNotifications(QObject):
    clicked = Signal(object)  # the Notification whose default action was invoked
    _received = Signal(object)  # a signal from the server, from jeepney's thread

    def __init__(
        self,
        workers: Workers,
        *,
        bus_address: str | None = None,
        expire_ms: int = 10_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._workers = workers
        self._bus_address = bus_address
        self._expire_ms = expire_ms
        self._connection: _Connection | None = None
        self._shown: dict[int, Notification] = {}  # server id -> what it shows
        self._received.connect(self._on_signal)

    @property
    def ready(self) -> bool:
        return self._connection is not None

    def start(self) -> None:
        self._workers.submit(
            lambda: _connect(self._bus_address), self._on_connected, self._on_unavailable,
            lane="desktop-notifications",
        )

    @Slot(object)
    def _on_connected(self, connection: _Connection) -> None:
        from jeepney import MatchRule

        self._connection = connection
        for member in ("ActionInvoked", "NotificationClosed"):
            rule = MatchRule(type="signal", interface=SERVICE, path=PATH, member=member)
            # Kept for the router's life: the handle only unregisters when closed.
            connection.router.filter(rule, queue=_ToSignal(self._received.emit))
        log.info("desktop notifications: %s (markup: %s)", SERVICE, connection.markup)

    def _on_unavailable(self, exc: BaseException) -> None:
        log.info("desktop notifications unavailable, using the tray's messages: %s", exc)

    def show(self, note: Notification, on_failed: Callable[[], None]) -> None:
        """Send `note`; `on_failed` (on the GUI thread) when the server did not take it."""
        connection = self._connection
        if connection is None:
            on_failed()
            return
        message = notify_message(note, markup=connection.markup, expire_ms=self._expire_ms)

        def send() -> int:
            reply = connection.router.send_and_get_reply(message, timeout=CALL_TIMEOUT_S)
            if reply.header.message_type.name == "error":
                raise OSError(f"Notify refused: {reply.body[0] if reply.body else ''}")
            return int(reply.body[0])

        def failed(exc: BaseException) -> None:
            log.warning("desktop notification not sent (%s); using the tray's message", exc)
            on_failed()

        self._workers.submit(
            send, lambda server_id: self._shown.__setitem__(server_id, note), failed,
            lane="desktop-notifications",
        )

    @Slot(object)
    def _on_signal(self, message: Any) -> None:
        from jeepney.low_level import HeaderFields  # type: ignore[import-untyped]

        member = message.header.fields.get(HeaderFields.member)
        body = message.body
        if member == "ActionInvoked" and len(body) == 2:
            note = self._shown.get(int(body[0]))
            if note is not None and body[1] == DEFAULT_ACTION:
                self.clicked.emit(note)
        elif member == "NotificationClosed" and body:
            self._shown.pop(int(body[0]), None)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.router.close()
            connection.router.conn.close()

