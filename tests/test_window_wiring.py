"""How the Lifeline window is reached: the menu's first entry under the heading, a left
click on the icon, `lifeline --window` (a second launch asks the running app over the
single-instance channel; a first launch starts the app and opens it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtNetwork import QLocalSocket
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from app.config import Config, SiteConfig
from app.events import MonitorSnapshot
from app.paths import Paths
from tests.fake_monitor import FakeMonitor
from ui.bridge import Bridge
from ui.icons import IconSet
from ui.main import TrayApp
from ui.menu import MenuHandlers, MenuState, populate
from ui.single_instance import SingleInstance
from ui.tray import TrayIcon
from ui.window.main_window import LifelineWindow

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Config(sites=(SiteConfig(name="shop", url="http://127.0.0.1:9/"),))


def handlers(opened: list[str]) -> MenuHandlers:
    return MenuHandlers(
        open_url=lambda u: None, check_now=lambda s: None, open_settings=lambda: None,
        pause=lambda how: None, about=lambda: None, quit=lambda: None,
        open_window=lambda: opened.append("window"),
    )


def test_open_lifeline_is_the_first_entry_under_the_heading(qapp: Any) -> None:
    from datetime import UTC, datetime

    opened: list[str] = []
    menu = QMenu()
    populate(menu, MonitorSnapshot(), CONFIG, handlers(opened), IconSet(),
             MenuState(now=datetime(2026, 3, 1, tzinfo=UTC)))
    entry = menu.actions()[1]
    assert entry.text() == "&Open Lifeline\u2026" and entry.isEnabled()
    entry.trigger()
    assert opened == ["window"]


def test_a_left_click_opens_the_window_and_the_middle_click_the_menu(qtbot: Any) -> None:
    bridge = Bridge(FakeMonitor(CONFIG), CONFIG)
    tray = TrayIcon(bridge, IconSet(), open_settings=lambda: None, on_quit=lambda: None,
                    show_error=lambda m: None)
    opened: list[str] = []
    tray.open_window = lambda: opened.append("window")
    tray._on_activated(QSystemTrayIcon.ActivationReason.Trigger)
    assert opened == ["window"]
    tray._on_activated(QSystemTrayIcon.ActivationReason.MiddleClick)
    assert opened == ["window"] and tray.menu.isVisible()
    tray.menu.hide()


def test_a_second_launch_with_window_asks_for_the_window(qtbot: Any, paths: Paths) -> None:
    first = SingleInstance(paths.runtime_dir)
    assert first.claim()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--window"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        with qtbot.waitSignal(first.requested, timeout=15000) as blocker:
            pass
        assert blocker.args == ["window"]
        _, err = proc.communicate(timeout=15)
        # The server's end of the connection is deleted once the disconnect is seen;
        # releasing the server before that leaves Qt a deleteLater on a freed socket.
        qtbot.waitUntil(lambda: not first.findChildren(QLocalSocket), timeout=5000)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        first.release()
    assert proc.returncode == 0, err
    assert "opened its window" in err


def test_the_running_app_opens_its_window_on_request(qtbot: Any, paths: Paths) -> None:
    app = TrayApp(QApplication.instance(), paths, CONFIG, config_path=None,
                  started=time.monotonic(), tray_wait_ms=60_000, exit_app=lambda code: None)
    try:
        app.start(first_run=False)
        app.handle_request("window")
        assert isinstance(app.window, LifelineWindow)
        qtbot.waitUntil(app.window.isVisible, timeout=5000)
        window = app.window
        window.hide()
        app.handle_request("window")
        assert app.window is window and window.isVisible()  # the same one, shown again
        window.hide()
        window.deleteLater()
    finally:
        with qtbot.waitSignal(app.bridge.finished, timeout=10000):
            app.bridge.stop()
        app.close()


def test_window_flag_starts_the_app_with_the_window_open(
    qtbot: Any, paths: Paths, tmp_path: Path
) -> None:
    """`lifeline --window` with no Lifeline running: the tray app starts, window open."""
    config = tmp_path / "config.toml"
    config.write_text('[[site]]\nname = "shop"\nurl = "http://127.0.0.1:9/"\n')
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--window", "--config", str(config)], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )

    def logged() -> bool:
        return paths.log_file.exists() and "the Lifeline window is open" in (
            paths.log_file.read_text(errors="replace")
        )

    try:
        qtbot.waitUntil(logged, timeout=20_000)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
