"""Issue 20 with pytest-qt: what a new user trips over in the tray, and what a screen
reader or a keyboard user cannot reach (the AT-SPI walk itself is tests/test_atspi.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QMessageBox, QWidget

from app.events import CheckCompleted, SiteStateChanged
from app.models import PlatformState, PlatformStatus, PointOfFailure, SiteState
from tests.fake_monitor import FakeMonitor
from tests.test_tray_menu import CONFIG, NOW, SNAPSHOT
from ui.accessible import StatusLabel, spoken_text
from ui.bridge import Bridge
from ui.icons import IconSet
from ui.menu import PLATFORM_LINE, find_action
from ui.site_details import SiteDetails
from ui.tray import TrayIcon


@pytest.fixture
def tray_setup(qtbot: Any) -> Any:
    monitor = FakeMonitor(CONFIG)
    bridge = Bridge(monitor, CONFIG)
    opened: list[str | None] = []
    tray = TrayIcon(
        bridge, IconSet(), open_settings=lambda: None, open_ticket_form=opened.append,
        on_quit=lambda: None, show_error=lambda m: None, clock=lambda: NOW,
        log_file="/tmp/lifeline-test.log",
    )
    bridge.start()
    qtbot.waitUntil(lambda: monitor.loop is not None, timeout=5000)
    yield monitor, bridge, tray, opened
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.done(0)
    tray.menu.hide()
    with qtbot.waitSignal(bridge.finished, timeout=5000):
        bridge.stop()
    bridge.join(5)


def _site_down(monitor: FakeMonitor, qtbot: Any, tray: TrayIcon) -> None:
    change = SiteStateChanged(
        at=NOW, site="Shop & Co", previous=SiteState.OPERATIONAL, state=SiteState.DOWN,
        point_of_failure=PointOfFailure.SITE, reason="503",
    )
    monitor.emit(change, CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: tray.notifier.last is not None, timeout=5000)


def test_right_click_while_a_balloon_shows_opens_the_menu(qtbot: Any, tray_setup: Any) -> None:
    """Item 1: Qt's XEmbed tray pops the menu up on a right-click, then reports the same
    click as a click on the balloon; that second report must not close the menu."""
    monitor, _bridge, tray, opened = tray_setup
    _site_down(monitor, qtbot, tray)
    tray.menu.popup(QPoint(10, 10))  # what QSystemTrayIconSys does on the right-click
    qtbot.waitUntil(tray.menu.isVisible, timeout=5000)
    tray.tray.messageClicked.emit()  # ... and then, with the balloon up
    assert tray.menu.isVisible() and opened == []
    tray.menu.hide()
    tray.tray.messageClicked.emit()  # a click on the balloon itself: the ticket form
    assert opened == ["Shop & Co"]


def test_the_platform_line_is_short_and_its_submenu_says_the_rest(
    qtbot: Any, tray_setup: Any
) -> None:
    """Item 4: one long reason made the whole menu 650 px wide."""
    monitor, bridge, tray, _ = tray_setup
    reason = "status page unreachable: host name not found (Name or service not known)"
    platform = PlatformStatus(state=PlatformState.UNKNOWN, error=reason)
    snapshot = replace(SNAPSHOT, platform=platform)
    monitor.emit(CheckCompleted(at=NOW, snapshot=snapshot))
    qtbot.waitUntil(lambda: bridge.snapshot is snapshot, timeout=5000)
    tray.menu.aboutToShow.emit()
    entry = tray._layout.platform if tray._layout else None
    assert entry is not None and len(entry.text()) <= PLATFORM_LINE
    assert entry.text().endswith("\u2026")
    sub = entry.menu()
    assert isinstance(sub, QMenu)
    sub.aboutToShow.emit()
    lines = [a for a in sub.actions() if not a.isSeparator()]
    assert "Name or service not known" in " ".join(a.text() for a in lines)
    assert lines[0].isEnabled()  # reachable with the arrow keys


def test_site_info_lines_are_enabled_and_open_the_details_in_full(
    qtbot: Any, tray_setup: Any
) -> None:
    """Screen readers, tray menu: the reason/since/last-checked/uptime lines are enabled
    (arrow keys reach them, drawn in the text colour) and open the whole reason."""
    monitor, bridge, tray, _ = tray_setup
    long_reason = "502 Bad Gateway " + "from the origin behind the CDN " * 6 + "(end)"
    down = replace(SNAPSHOT, sites=tuple(
        replace(s, reason=long_reason) if s.name == "Shop & Co" else s for s in SNAPSHOT.sites
    ))
    monitor.emit(CheckCompleted(at=NOW, snapshot=down))
    qtbot.waitUntil(lambda: bridge.snapshot is down, timeout=5000)
    tray.menu.aboutToShow.emit()
    entry = next(a for a in tray.menu.actions() if a.text().startswith("Shop"))
    assert "(end)" not in entry.text()  # the entry is cut...
    sub = entry.menu()
    assert isinstance(sub, QMenu)
    sub.aboutToShow.emit()
    info = [a for a in sub.actions() if not a.isSeparator()][:3]
    assert all(a.isEnabled() for a in info)
    info[0].trigger()
    window = tray.details_window
    assert isinstance(window, SiteDetails) and window.isVisible()
    text = window.text.toPlainText()
    assert "(end)" in text and long_reason.split()[-2] in text  # ...the details are whole
    assert text.count("Uptime 24 h") == 1 and window.text.accessibleName()
    assert window.parent() is None and tray.details_window is window  # kept by the tray
    window.reject()
    qtbot.waitUntil(lambda: tray.details_window is None, timeout=5000)


def test_an_open_site_submenu_keeps_the_keyboard_place_across_checks(
    qtbot: Any, tray_setup: Any
) -> None:
    monitor, bridge, tray, _ = tray_setup
    monitor.emit(CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: bridge.snapshot is SNAPSHOT, timeout=5000)
    tray.open_menu()
    qtbot.waitUntil(tray.menu.isVisible, timeout=5000)
    entry = next(a for a in tray.menu.actions() if a.text().startswith("Shop"))
    sub = entry.menu()
    assert isinstance(sub, QMenu)
    sub.popup(QPoint(50, 50))
    qtbot.waitUntil(sub.isVisible, timeout=5000)
    check = find_action(sub, "Check now")
    assert check is not None
    sub.setActiveAction(check)
    place = sub.actions().index(check)
    later = replace(SNAPSHOT, last_check=NOW + timedelta(minutes=1), sites=tuple(
        replace(s, last_checked=NOW + timedelta(minutes=1)) for s in SNAPSHOT.sites
    ))
    monitor.emit(CheckCompleted(at=NOW, snapshot=later))
    qtbot.waitUntil(lambda: bridge.snapshot is later, timeout=5000)
    active = sub.activeAction()
    assert active is not None and sub.actions().index(active) == place
    assert active.text() == "&Check now"  # Return now acts on what the user had reached
    sub.hide()


def test_about_box_is_kept_named_and_closes(qtbot: Any, tray_setup: Any) -> None:
    """The About box: kept by the tray (a parentless box held by a local dies at once),
    plain text with the version and the log file, closed by its button."""
    _monitor, _bridge, tray, _ = tray_setup
    about = find_action(tray.menu, "About Lifeline")
    assert about is not None
    about.trigger()
    box = tray.about_box
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible, timeout=5000)
    assert "Lifeline" in box.windowTitle() and "/tmp/lifeline-test.log" in box.text()
    assert box.textFormat() is Qt.TextFormat.PlainText
    about.trigger()  # a second time: the same box, raised
    assert tray.about_box is box
    close = box.button(QMessageBox.StandardButton.Close)
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tray.about_box is None, timeout=5000)


def test_status_label_is_named_by_its_text_and_announces_changes(qtbot: Any) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    label = StatusLabel("Checking\u2026", window)
    assert label.accessibleName() == "Checking\u2026"
    said: list[str] = []
    label.announced.connect(said.append)
    label.setText("Not shown yet")  # no window on screen: nothing is said
    window.show()
    qtbot.waitExposed(window)
    label.setText("Some settings need <b>fixing</b> &amp; saving.")
    assert label.accessibleName() == "Some settings need fixing & saving."
    label.setText("Some settings need <b>fixing</b> &amp; saving.")  # unchanged: said once
    assert said == ["Some settings need fixing & saving."]
    assert spoken_text("a<br>b") == "a\nb"


def test_every_menu_entry_that_opens_a_window_keeps_it_open(
    qtbot: Any, paths: Any, memory_keyring: Any
) -> None:
    """The rule behind the About box bug (issue 18): no parentless dialog held only by a
    local variable. Every entry of the real app's menu that opens a window ("…", About,
    a site's info line) is triggered; after a garbage collection the window is still up."""
    import gc
    import time

    from app.config import Config, SiteConfig
    from ui.main import TrayApp

    config = Config(
        sites=(SiteConfig(name="shop", url="http://127.0.0.1:9/", newrelic_app="1"),),
        source=str(paths.config_file),
    )
    app = TrayApp(QApplication.instance(), paths, config, config_path=paths.config_file,
                  started=time.monotonic(), tray_wait_ms=60_000, exit_app=lambda _c: None)
    opened: dict[str, str] = {}
    try:
        app.start(first_run=False)
        qtbot.waitUntil(lambda: bool(app.bridge.snapshot.sites), timeout=15_000)
        menu = app.tray.menu
        menu.aboutToShow.emit()

        def entries(m: QMenu) -> list[Any]:
            found = []
            for action in m.actions():
                sub = action.menu()
                if isinstance(sub, QMenu):
                    sub.aboutToShow.emit()
                    found += entries(sub)
                elif not action.isSeparator() and action.isEnabled():
                    found.append(action)
            return found

        wanted = [
            a for a in entries(menu)
            if ("&" in a.text() and a.text().endswith("\u2026"))  # a command, not a status
            or a.text() == "&About Lifeline"
            or a.text().startswith("Last checked")
        ]
        # Entries that open a web page are not windows of ours (and no browser here).
        wanted = [a for a in wanted if "Subscribe" not in a.text()]
        texts = [a.text() for a in wanted]
        assert "&Settings\u2026" in texts and "&About Lifeline" in texts
        assert any("ticket" in t for t in texts) and any(t.startswith("Last") for t in texts)
        for action in wanted:
            before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
            action.trigger()
            for _ in range(3):
                gc.collect()
                QApplication.processEvents()
            new = [
                w for w in QApplication.topLevelWidgets()
                if w.isVisible() and id(w) not in before and not isinstance(w, QMenu)
            ]
            assert new, f"{action.text()!r} opened no window that stayed open"
            opened[action.text()] = new[0].windowTitle()
            for window in new:
                window.close()
                if isinstance(window, QDialog):
                    window.done(0)
            QApplication.processEvents()
    finally:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible():
                widget.done(0)
        if app.bridge.running:
            with qtbot.waitSignal(app.bridge.finished, timeout=10_000):
                app.bridge.stop()
        app.close()
    assert all(opened.values()), opened  # each window has a title
    assert len(opened) >= 5, opened


def test_a_status_page_unreadable_at_start_is_no_balloon(qapp: Any) -> None:
    """Items 2 and 3: the first read, shown at once even with the network down, is the
    network's story (its own message), not a "platform: Unknown" balloon of its own."""
    from app.events import PlatformStateChanged
    from ui.notifications import Notifier

    shown: list[Any] = []
    notifier = Notifier(shown.append, clock=lambda: NOW)
    unreadable = PlatformStatus(state=PlatformState.UNKNOWN, error="status page unreachable")
    notifier.handle(PlatformStateChanged(at=NOW, previous=None, state=PlatformState.UNKNOWN,
                                         platform=unreadable))
    notifier.flush()
    assert shown == []
    notifier.handle(PlatformStateChanged(at=NOW, previous=PlatformState.OPERATIONAL,
                                         state=PlatformState.UNKNOWN, platform=unreadable))
    notifier.flush()
    assert len(shown) == 1  # unknown after a good read still is news
