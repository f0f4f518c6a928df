"""The tray app's start-up paths: no display, a broken config, no system tray, errors."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app.config import Config, SiteConfig
from app.events import CheckCompleted, SiteStateChanged
from app.models import PointOfFailure, SiteState
from app.paths import Paths
from ui.errors import ErrorReporter
from ui.main import TrayApp, display_problem, run

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_no_display_says_so_in_one_line_and_exits_non_zero() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "lifeline check" in lines[0] and "lifeline watch" in lines[0]
    assert done.stdout == ""


def test_display_problem_detection() -> None:
    assert display_problem({}, "linux") is not None
    assert display_problem({"DISPLAY": ":9999"}, "linux") == "cannot reach the X display :9999"
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "darwin") is None


@pytest.fixture
def root_logging() -> Any:
    """run() sets up the app's logging on the root logger; put the test's back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def test_a_broken_config_is_one_message_and_exit_3(
    qapp: Any, paths: Paths, tmp_path: Path, capsys: Any, root_logging: Any
) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[[site]]\nname = "shop"\nurl = "ftp://shop.example/"\n')
    seen: list[str] = []

    def close_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.done(0)
        else:
            QTimer.singleShot(20, close_box)

    QTimer.singleShot(20, close_box)
    code = run(argparse.Namespace(config=bad, demo=False), paths)
    assert code == 3
    assert seen and "not an http or https URL" in seen[0]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "site[1].url" in err


def test_status_window_when_no_tray_appears(qtbot: Any, paths: Paths) -> None:
    """offscreen has no system tray: after the retries the status window shows up."""
    config = Config(sites=(SiteConfig(name="shop", url="http://127.0.0.1:9/"),))
    exits: list[int] = []
    app = TrayApp(QApplication.instance(), paths, config, config_path=None,
                  started=time.monotonic(), tray_wait_ms=300, tray_retry_ms=100,
                  exit_app=exits.append)
    try:
        app.start(first_run=False)
        qtbot.waitUntil(lambda: app.status_window is not None
                        and app.status_window.isVisible(), timeout=5000)
        assert not app._tray_timer.isActive()  # gave up polling: nothing wakes us now
        assert app.status_window.sites.count() == 1
        # Without a tray there are no balloons: the window shows the notification.
        app.tray.notifier.handle(SiteStateChanged(
            at=NOW, site="shop", previous=SiteState.OPERATIONAL, state=SiteState.DOWN,
            point_of_failure=PointOfFailure.SITE, reason="503 Service Unavailable",
        ))
        app.tray.notifier.handle(CheckCompleted(at=NOW))
        assert app.status_window.latest.text() == "shop: Down\n503 Service Unavailable"
        # A second launch's request reaches the window, since there is no tray menu.
        app.status_window.hide()
        app.handle_request("menu")
        assert app.status_window.isVisible()
    finally:
        if app.status_window is not None:
            app.status_window.close()
        with qtbot.waitSignal(app.bridge.finished, timeout=10000):
            app.bridge.stop()
        app.close()
    assert exits == [0]  # the monitor's end ends the app


class _Emitter(QObject):
    fire = Signal()


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_slot_is_logged_and_shown(qtbot: Any, caplog: Any) -> None:
    shown: list[str] = []
    reporter = ErrorReporter(log_file="/tmp/x.log", show=shown.append)
    reporter.install()
    emitter = _Emitter()

    def broken_slot() -> None:
        raise ZeroDivisionError("menu handler divided by zero")

    emitter.fire.connect(broken_slot)
    try:
        with caplog.at_level(logging.ERROR, logger="lifeline.errors"):
            emitter.fire.emit()
            qtbot.waitUntil(lambda: len(shown) == 1, timeout=3000)
    finally:
        reporter.uninstall()
    assert shown == ["ZeroDivisionError: menu handler divided by zero"]
    record = next(r for r in caplog.records if r.name == "lifeline.errors")
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError
    assert reporter.count == 1


@pytest.mark.qt_no_exception_capture
def test_message_box_groups_a_burst_of_errors(qtbot: Any) -> None:
    reporter = ErrorReporter(log_file="/tmp/lifeline.log")
    for _ in range(3):
        reporter.report("the history database is locked")
    qtbot.waitUntil(lambda: reporter._box is not None, timeout=3000)
    box = reporter._box
    assert box is not None
    qtbot.waitUntil(lambda: "2 more since" in box.informativeText(), timeout=3000)
    assert box.textFormat().name == "PlainText"
    box.close()


def test_first_run_is_silent_until_the_first_save(
    qtbot: Any, paths: Paths, memory_keyring: Any, caplog: Any
) -> None:
    """Issue 20 item 2: no check (so no balloon) and no history database over the
    welcome dialog; the first Save starts monitoring with the saved config."""
    caplog.set_level(logging.INFO)
    exits: list[int] = []
    app = TrayApp(QApplication.instance(), paths, Config(), config_path=paths.config_file,
                  started=time.monotonic(), tray_wait_ms=60_000, exit_app=exits.append)
    try:
        app.start(first_run=True)
        dialog = app._settings
        assert dialog is not None and dialog.isVisible()
        assert not app.bridge.running and not paths.history_db.exists()
        saved = Config(sites=(SiteConfig(name="shop", url="http://127.0.0.1:9/"),))
        app._on_saved(saved)
        assert app.bridge.running and app.bridge.config is saved
        assert "settings saved: 1 site\n" in caplog.text + "\n"
        qtbot.waitUntil(lambda: [s.name for s in app.bridge.snapshot.sites] == ["shop"],
                        timeout=10_000)
    finally:
        if app._settings is not None:
            app._settings.done(0)
        if app.bridge.running:
            with qtbot.waitSignal(app.bridge.finished, timeout=10000):
                app.bridge.stop()
        app.close()


def test_quit_before_the_first_save_ends_at_once(qtbot: Any, paths: Paths,
                                                 memory_keyring: Any) -> None:
    exits: list[int] = []
    app = TrayApp(QApplication.instance(), paths, Config(), config_path=paths.config_file,
                  started=time.monotonic(), tray_wait_ms=60_000, exit_app=exits.append)
    try:
        app.start(first_run=True)
        assert app._settings is not None
        app._settings.done(0)
        app.quit()
        assert exits == [0] and not app.bridge.running
    finally:
        app.close()


def test_windows_carry_the_app_icon(qtbot: Any, paths: Paths, memory_keyring: Any) -> None:
    """Issue 20 item 6: Settings (any window) shows Lifeline's icon, not a generic one."""
    from ui.app_icon import app_icon_files

    assert app_icon_files([ROOT / "resources"])  # the checkout ships the PNGs
    QApplication.instance().setWindowIcon(QIcon())
    app = TrayApp(QApplication.instance(), paths, Config(), config_path=paths.config_file,
                  started=time.monotonic(), tray_wait_ms=60_000, exit_app=lambda _c: None)
    try:
        app.start(first_run=True)
        assert app._settings is not None
        icon = app._settings.windowIcon()
        assert not icon.isNull() and icon.availableSizes()
        assert icon.cacheKey() == QApplication.instance().windowIcon().cacheKey()
        app._settings.done(0)
    finally:
        app.close()
