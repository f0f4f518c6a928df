"""The Notify call Lifeline sends (the Desktop Notifications spec's wire format); the
round trip through a real server (dunst) is in tests/test_e2e_sni.py."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.notices import Level, Notification
from ui.desktop_notifications import DEFAULT_ACTION, notify_message

jeepney = pytest.importorskip("jeepney")

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DOWN = Notification("shop: Down", "503 <b>Service</b> & co", Level.CRITICAL, ("shop",))


def test_notify_has_the_spec_signature_urgency_and_a_default_action() -> None:
    message = notify_message(DOWN, markup=False, expire_ms=10_000)
    assert message.header.fields[jeepney.low_level.HeaderFields.signature] == "susssasa{sv}i"
    app, replaces, icon, title, body, actions, hints, expire = message.body
    assert (app, replaces, icon, title) == ("Lifeline", 0, "io.github.lifeline", "shop: Down")
    assert body == "503 <b>Service</b> & co"  # a server without body-markup shows it as is
    assert actions[0] == DEFAULT_ACTION  # a click on the message itself
    assert hints["urgency"] == ("y", 2) and hints["desktop-entry"] == ("s", "io.github.lifeline")
    assert expire == -1  # critical: stays until dismissed
    # Serialises as the spec has it (a uint32 replaces_id, a byte urgency).
    assert message.serialise(serial=1)


def test_body_is_escaped_for_a_server_that_reads_markup() -> None:
    info = Notification("Pantheon: Operational", "a <i>b</i> & c", Level.INFO)
    body, hints, expire = (lambda m: (m.body[4], m.body[6], m.body[7]))(
        notify_message(info, markup=True, expire_ms=10_000)
    )
    assert body == "a &lt;i&gt;b&lt;/i&gt; &amp; c"
    assert hints["urgency"] == ("y", 1) and expire == 10_000


def test_without_a_notification_server_the_tray_message_keeps_the_state_icon(
    qtbot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No session bus (or no server on it): Qt's message is shown instead, with the state
    icon as its icon; a MessageIcon would put a generic icon in the tray (issue 18)."""
    from PySide6.QtGui import QIcon

    from app.config import Config, SiteConfig
    from app.events import CheckCompleted, MonitorSnapshot, SiteStateChanged
    from app.models import OverallState, PointOfFailure, SiteState
    from tests.fake_monitor import FakeMonitor
    from tests.recording_workers import RecordingWorkers
    from ui.bridge import Bridge
    from ui.desktop_notifications import DesktopNotifications
    from ui.icons import IconSet
    from ui.tray import TrayIcon

    caplog.set_level(logging.INFO, logger="ui.desktop_notifications")
    workers = RecordingWorkers()
    desktop = DesktopNotifications(workers, bus_address=f"unix:path={tmp_path / 'no-bus'}")
    desktop.start()
    qtbot.waitUntil(lambda: "desktop notifications unavailable" in caplog.text, timeout=5000)
    assert not desktop.ready

    config = Config(sites=(SiteConfig(name="shop", url="https://shop.example.test/"),))
    monitor = FakeMonitor(config)
    bridge = Bridge(monitor, config)
    tray = TrayIcon(bridge, IconSet(), open_settings=lambda: None, on_quit=lambda: None,
                    clock=lambda: NOW, desktop_notifications=desktop)
    shown: list[tuple[Any, ...]] = []
    tray.tray.showMessage = lambda *args: shown.append(args)  # type: ignore[method-assign]
    bridge.start()
    try:
        qtbot.waitUntil(lambda: monitor.loop is not None, timeout=5000)
        down = MonitorSnapshot(overall=OverallState.DOWN, point_of_failure=PointOfFailure.SITE,
                               last_check=NOW)
        monitor.emit(
            SiteStateChanged(at=NOW, site="shop", previous=SiteState.OPERATIONAL,
                             state=SiteState.DOWN, point_of_failure=PointOfFailure.SITE,
                             reason="503"),
            CheckCompleted(at=NOW, snapshot=down),
        )
        qtbot.waitUntil(lambda: bool(shown), timeout=5000)
        title, _body, icon, _ms = shown[0]
        assert title.startswith("shop: Down")
        assert isinstance(icon, QIcon) and icon.cacheKey() == tray.tray.icon().cacheKey()
    finally:
        with qtbot.waitSignal(bridge.finished, timeout=5000):
            bridge.stop()
        bridge.join(5)
        workers.shutdown()
