"""One of Lifeline's windows, shown for the AT-SPI test (tests/test_atspi.py).

    python -m tests.atspi_subject settings|ticket|fallback|balloon

Run by the test under Xvfb with QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1 and a private session
bus; the environment (HOME, XDG dirs) is the test's tmp_path, the keyring in memory, no
network. Once the window is up and focused it prints one JSON line: the window title and
what the screen must offer as text (every visible label's text). Then it runs until the
test ends it.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import keyring

from tests.memory_keyring import MemoryKeyring

NOW = datetime(2026, 11, 27, 8, 3, 40, tzinfo=UTC)


def settings_window() -> Any:
    from app.config import Config, SiteConfig
    from app.credentials import CredentialStore
    from app.paths import default_paths
    from ui.settings import SettingsDialog

    config = Config(sites=(SiteConfig(name="shop", url="https://live-shop.pantheonsite.io/"),))
    dialog = SettingsDialog(config, paths=default_paths(), store=CredentialStore(),
                            on_saved=lambda _config: None)
    dialog.show()
    # A status the user meets after a refused Save: it must be reachable as text.
    dialog._show_message("Some settings need fixing: see the marked fields.", True)
    return dialog


def ticket_window(*, fallback: bool) -> Any:
    from PySide6.QtGui import QGuiApplication

    from app.config import Config, ContactConfig, ProviderConfig, SiteConfig
    from app.credentials import CredentialStore
    from app.events import SiteStatus
    from app.models import PointOfFailure, SiteState
    from app.paths import default_paths
    from app.tickets.outbox import Outbox
    from app.tickets.session import TicketSession
    from ui.ticket_form import TicketForm
    from ui.workers import Workers

    site = SiteConfig(name="shop", url="https://live-shop.pantheonsite.io/")
    config = Config(provider=ProviderConfig(ticket_timeout=8), sites=(site,),
                    contact=ContactConfig(name="Ada Owner", email="ada@example.org"))
    status = SiteStatus(
        name="shop", url=site.url, environment="live", state=SiteState.DOWN,
        point_of_failure=PointOfFailure.SITE, reason="502 Bad Gateway", since=NOW,
        last_checked=NOW,
    )
    paths = default_paths()
    session = TicketSession(config, site, outbox=Outbox(paths.outbox_db),
                            history_path=paths.history_db, credentials=CredentialStore(),
                            clock=lambda: NOW)
    form = TicketForm(session=session, status=status, platform=None, workers=Workers(),
                      clipboard=QGuiApplication.clipboard(), open_url=lambda _url: None,
                      refresh=False)
    form.resize(720, 760)
    form.show()
    if fallback:
        form._show_fallback("No answer within 8 s")
    return form


def balloon_window() -> Any:
    """The tray's own balloon (an XEmbed tray such as trayer, no notification daemon),
    shown the way the tray shows a site-down notification."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from app.config import Config
    from tests.fake_monitor import FakeMonitor
    from ui.bridge import Bridge
    from ui.icons import IconSet
    from ui.tray import TrayIcon

    config = Config()
    bridge = Bridge(FakeMonitor(config), config)
    tray = TrayIcon(bridge, IconSet(), open_settings=lambda: None, on_quit=lambda: None)
    loop = QEventLoop()
    for _ in range(100):  # until trayer has embedded the icon (10 s at most)
        if QSystemTrayIcon.isSystemTrayAvailable():
            tray.show()
            if tray.tray.geometry().isValid():
                break
        QTimer.singleShot(100, loop.quit)
        loop.exec()
    tray._show_message("shop: Down", "503 Service Unavailable")
    balloon = next(w for w in QApplication.topLevelWidgets()
                   if w.metaObject().className() == "QBalloonTip")
    balloon.setProperty("keep", tray)  # the tray lives as long as the balloon
    return balloon


def shown_texts(window: Any) -> list[str]:
    from PySide6.QtWidgets import QLabel

    from ui.accessible import spoken_text

    texts = []
    for label in window.findChildren(QLabel):
        text = spoken_text(label.text())
        if label.buddy() is not None:  # a field's label: "&Name" reads "Name"
            text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
        if label.isVisible() and text:
            texts.append(text)
    return texts


def shown_buttons(window: Any) -> list[str]:
    """The visible text of every visible button and check box (what speech input says)."""
    from PySide6.QtWidgets import QAbstractButton

    return [b.text() for b in window.findChildren(QAbstractButton)
            if b.isVisible() and b.text().strip()]


def main(which: str) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    keyring.set_keyring(MemoryKeyring())
    app = QApplication([sys.argv[0]])
    app.setApplicationName(f"lifeline-atspi-{which}")
    if which == "balloon":
        window = balloon_window()
    elif which == "settings":
        window = settings_window()
    else:
        window = ticket_window(fallback=which == "fallback")
    window.raise_()
    window.activateWindow()

    def ready() -> None:
        print(json.dumps({"title": window.windowTitle(), "texts": shown_texts(window),
                          "buttons": shown_buttons(window)}), flush=True)

    QTimer.singleShot(800, ready)  # laid out, focused, and the keyring status shown
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
