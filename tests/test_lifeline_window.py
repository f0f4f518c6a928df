"""The Lifeline window (issue 15): strips painted from a real history file, blank where
Lifeline was not watching, tooltips naming states, keyboard, detail pane, range switch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.config import Config, SiteConfig
from app.events import CheckCompleted, MonitorSnapshot, SiteStateChanged, SiteStatus
from app.history import History, TimingBucket
from app.models import OverallState, PointOfFailure, SiteState
from tests.fake_monitor import FakeMonitor
from ui.bridge import Bridge
from ui.icons import IconSet
from ui.palette import SITE_COLOURS
from ui.window.main_window import LifelineWindow, grouped
from ui.window.painting import x_of
from ui.window.rows import Row, SiteRows, row_geometry, tooltip_at
from ui.workers import Workers

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NOW = T0 + timedelta(hours=24)
CONFIG = Config(
    sites=(
        SiteConfig(name="shop", url="https://shop.example.test/", group="Client A",
                   dashboard_url="https://dashboard.example.test/sites/shop"),
        SiteConfig(name="blog", url="https://blog.example.test/", group="Client A"),
        SiteConfig(name="wiki", url="https://wiki.example.test/"),
    )
)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def status(name: str, state: SiteState, reason: str = "") -> SiteStatus:
    site = CONFIG.site(name)
    assert site is not None
    return SiteStatus(
        name=name, url=site.url, environment="live", state=state, reason=reason,
        point_of_failure=PointOfFailure.NONE, group=site.group, last_checked=NOW,
    )


SNAPSHOT = MonitorSnapshot(
    overall=OverallState.OPERATIONAL,
    sites=(status("shop", SiteState.OPERATIONAL), status("blog", SiteState.OPERATIONAL),
           status("wiki", SiteState.DEGRADED, "Slower than 3 s for visitors")),
    last_check=NOW,
)


def write_history(path: Path) -> None:
    """shop: down from 16:00 to 18:00; nothing watched from 8:00 to 14:00 (asleep)."""
    with History(path) as history:

        def change(site: str, at: datetime, state: SiteState, reason: str = "") -> None:
            history.record(SiteStateChanged(
                at=at, site=site, previous=None, state=state, reason=reason,
                point_of_failure=PointOfFailure.SITE if state is SiteState.DOWN
                else PointOfFailure.NONE,
            ))

        history.mark_observed(h(-1), continuous=False)
        for name in ("shop", "blog", "wiki"):
            change(name, h(-1), SiteState.OPERATIONAL)
        history.mark_observed(h(8))
        history.mark_observed(h(14), continuous=False)  # the machine slept 8..14
        history.mark_observed(h(24))
        change("shop", h(16), SiteState.DOWN, "503 Service Unavailable from the origin")
        change("shop", h(18), SiteState.OPERATIONAL)
        change("wiki", h(20), SiteState.DEGRADED, "Slower than 3 s for visitors")
        history.add_timings(
            TimingBucket("shop", h(hour), "anonymous", 5, 0.1, 0.2 + hour / 100, 0.6)
            for hour in range(24)
        )


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[tuple[LifelineWindow, list[str], list[Any]]]:
    # The sleep gap (8..14) is left out of coverage by mark_observed(continuous=False).
    path = tmp_path / "history.sqlite3"
    write_history(path)
    monitor = FakeMonitor(CONFIG)
    workers = Workers()
    bridge = Bridge(monitor, CONFIG, workers=workers)
    bridge.start()
    qtbot.waitUntil(lambda: monitor.loop is not None, timeout=5000)
    monitor.emit(CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: bridge.snapshot is SNAPSHOT, timeout=5000)
    urls: list[str] = []
    tickets: list[Any] = []
    win = LifelineWindow(bridge, IconSet(), workers, history_path=path, open_url=urls.append,
                         open_ticket_form=tickets.append, clock=lambda: NOW)
    qtbot.addWidget(win)
    win.resize(1000, 500)
    with qtbot.waitSignal(win.historyLoaded, timeout=10_000):
        win.show()
    yield win, urls, tickets
    with qtbot.waitSignal(bridge.finished, timeout=5000):
        bridge.stop()
    bridge.join(5)
    win.close_history()
    workers.shutdown()


def strip_pixel(win: LifelineWindow, name: str, at: datetime) -> QColor:
    row = win.model.site_row(name)
    assert row is not None
    index = win.model.index(row)
    win.list.scrollTo(index)
    rect = win.list.visualRect(index)
    geo = row_geometry(rect)
    history = win.model.row(row).history
    assert history is not None
    x = int(x_of(geo.strip, history.timeline, at))
    y = int(geo.strip.center().y())
    image = win.list.viewport().grab().toImage()
    for _ in range(50):  # charts not drawn yet come in the next frames
        if not win.delegate.behind:
            break
        QApplication.processEvents()
        image = win.list.viewport().grab().toImage()
    dpr = image.devicePixelRatio()
    return QColor(image.pixel(int(x * dpr), int(y * dpr)))


def close_to(colour: QColor, hex_colour: str) -> bool:
    want = QColor(hex_colour)
    return all(abs(a - b) <= 8 for a, b in zip(colour.getRgb()[:3], want.getRgb()[:3],
                                                  strict=True))


def test_the_down_span_is_red_and_the_rest_green(window: Any) -> None:
    win, _, _ = window
    for hour in (16.2, 17.0, 17.8):
        assert close_to(strip_pixel(win, "shop", h(hour)), SITE_COLOURS[SiteState.DOWN]), hour
    for hour in (0.5, 5.0, 7.5, 14.5, 15.8, 18.2, 23.5):
        assert close_to(strip_pixel(win, "shop", h(hour)), SITE_COLOURS[SiteState.OPERATIONAL])


def test_an_asleep_span_is_blank_never_green(window: Any) -> None:
    """The machine slept from 8:00 to 14:00: blank in every row, though the sites were
    operational before and after."""
    win, _, _ = window
    base = win.list.viewport().palette().color(QPalette.ColorRole.Base)
    for name in ("blog", "shop"):
        for hour in (8.5, 11.0, 13.5):
            pixel = strip_pixel(win, name, h(hour))
            assert close_to(pixel, base.name()), (name, hour, pixel.name())
            assert not any(close_to(pixel, c) for c in SITE_COLOURS.values())
    assert close_to(strip_pixel(win, "blog", h(7.5)), SITE_COLOURS[SiteState.OPERATIONAL])
    assert close_to(strip_pixel(win, "blog", h(14.5)), SITE_COLOURS[SiteState.OPERATIONAL])


def test_tooltips_name_the_state_start_end_and_reason(window: Any) -> None:
    win, _, _ = window
    row = win.model.site_row("shop")
    assert row is not None
    rect = win.list.visualRect(win.model.index(row))
    geo = row_geometry(rect)
    history = win.model.row(row).history
    assert history is not None
    y = int(geo.strip.center().y())
    down = tooltip_at(win.model.row(row), rect, int(x_of(geo.strip, history.timeline, h(17))),
                      y, 3.0)
    lines = down.splitlines()
    assert lines[0] == "Down"
    assert lines[1].count(":00") == 2 and "\u2013" in lines[1]
    assert lines[2] == "503 Service Unavailable from the origin"
    blog = win.model.site_row("blog")
    assert blog is not None
    blog_rect = win.list.visualRect(win.model.index(blog))
    blog_geo = row_geometry(blog_rect)
    gap = tooltip_at(win.model.row(blog), blog_rect,
                     int(x_of(blog_geo.strip, history.timeline, h(11))),
                     int(blog_geo.strip.center().y()), 3.0)
    assert gap.splitlines()[0] == "Not watching"
    spark = tooltip_at(win.model.row(row), rect, int(x_of(geo.spark, history.timeline, h(5.04))),
                       int(geo.spark.center().y()), 3.0)
    assert spark.startswith("Visitor response time") and "slow above 3 s" in spark


def test_uptime_figures_and_accessible_rows(window: Any) -> None:
    win, _, _ = window
    row = win.model.row(win.model.site_row("shop") or 0)
    assert row.history is not None
    assert row.history.uptime["24h"] == pytest.approx(1 - 2 / 18)  # 2 h down of 18 watched
    text = win.model.data(win.model.index(win.model.site_row("shop") or 0),
                          Qt.ItemDataRole.AccessibleTextRole)
    assert isinstance(text, str) and text.startswith("shop: Operational")
    assert "Uptime 24 h 88.89 %" in text


def test_rows_are_grouped_and_headings_are_skipped_by_the_arrows(window: Any, qtbot: Any) -> None:
    win, _, _ = window
    rows = [win.model.row(i) for i in range(win.model.rowCount())]
    assert [(r.group, r.site.name if r.site else None) for r in rows] == [
        ("Sites without a group", None), ("", "wiki"),
        ("Client A", None), ("Client A", "shop"), ("Client A", "blog"),
    ]
    win.list.setFocus()
    win.list.setCurrentIndex(win.model.index(1))
    qtbot.keyClick(win.list, Qt.Key.Key_Down)
    assert win.list.currentIndex().row() == 3  # over the heading
    qtbot.keyClick(win.list, Qt.Key.Key_Return)
    assert win.detail.isVisible() and win.detail.site_name == "shop"


def test_detail_pane_buttons_and_transitions(window: Any, qtbot: Any) -> None:
    win, urls, tickets = window
    win.show_detail("shop")
    qtbot.waitUntil(lambda: win.detail.transitions.count() >= 3, timeout=5000)
    newest = [win.detail.transitions.item(i).text() for i in range(2)]
    assert newest[0].endswith("\u2192 operational")
    assert newest[1].endswith("\u2192 down: 503 Service Unavailable from the origin")
    names = {b.accessibleName() for b in (win.detail.ticket, win.detail.check,
                                          win.detail.open_site, win.detail.dashboard)}
    assert names == {"File emergency ticket", "Check now", "Open site", "Open in dashboard"}
    assert [b.accessibleName() for b in win.ranges.buttons()] == [
        "Show the last 24 h", "Show the last 7 d", "Show the last 30 d"
    ]
    assert win.list.accessibleName() == "Sites"
    assert win.detail.transitions.accessibleName() == "Recent state changes"
    win.detail.ticket.click()
    win.detail.open_site.click()
    win.detail.dashboard.click()
    assert tickets == ["shop"]
    assert urls == ["https://shop.example.test/", "https://dashboard.example.test/sites/shop"]


def test_range_switch_redraws_from_history(window: Any, qtbot: Any) -> None:
    win, _, _ = window
    with qtbot.waitSignal(win.historyLoaded, timeout=10_000):
        win.findChild(type(win.ranges.buttons()[0]), "range-7d").click()
    assert win.range == "7d"
    history = win.model.row(win.model.site_row("shop") or 0).history
    assert history is not None
    assert history.timeline.end - history.timeline.start == timedelta(days=7)
    assert close_to(strip_pixel(win, "shop", h(17)), SITE_COLOURS[SiteState.DOWN])


def test_escape_and_ctrl_w_hide_the_window(window: Any, qtbot: Any) -> None:
    win, _, _ = window
    win.open()
    qtbot.waitUntil(win.list.hasFocus, timeout=2000)
    qtbot.keyClick(win.list, Qt.Key.Key_Escape)
    assert not win.isVisible()
    win.open()
    qtbot.keyClick(win.list, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not win.isVisible()


def test_grouped_without_groups_keeps_config_order() -> None:
    sites = (status("wiki", SiteState.DOWN),)
    assert grouped(sites) == [("Sites", None), ("", sites[0])]
    assert grouped(()) == []
    model = SiteRows()
    model.set_rows([Row("", sites[0])])
    assert model.rowCount() == 1


@pytest.fixture
def lone_window(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    """A window over a bridge that was never started: the history is all it reads."""
    made: list[tuple[LifelineWindow, Any]] = []

    def make(path: Path, workers: Workers) -> LifelineWindow:
        bridge = Bridge(FakeMonitor(CONFIG), CONFIG, workers=workers)
        win = LifelineWindow(bridge, IconSet(), workers, history_path=path,
                             open_url=lambda u: None, clock=lambda: NOW)
        qtbot.addWidget(win)
        made.append((win, workers))
        return win

    yield make
    for win, workers in made:
        win.close_history()
        workers.shutdown()


def test_the_history_is_read_off_the_gui_thread(
    qtbot: Any, tmp_path: Path, lone_window: Any
) -> None:
    from tests.recording_workers import RecordingWorkers

    path = tmp_path / "history.sqlite3"
    write_history(path)
    workers = RecordingWorkers()
    win = lone_window(path, workers)
    with qtbot.waitSignal(win.historyLoaded, timeout=10_000):
        win.show()
    assert workers.threads and threading.get_ident() not in workers.threads
    # No snapshot yet (no check ran): the config's sites are read all the same.
    assert set(win._loaded) == {"shop", "blog", "wiki"}
    # Opened before the first check: read again as soon as one has ended.
    with qtbot.waitSignal(win.historyLoaded, timeout=10_000):
        win._on_snapshot(SNAPSHOT)


def test_a_history_file_that_is_not_sqlite_is_one_clear_line(
    qtbot: Any, tmp_path: Path, lone_window: Any
) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database\n" * 100)
    win = lone_window(path, Workers())
    with qtbot.waitSignal(win.historyLoaded, timeout=10_000):
        win.show()
    text = win.overall.text()
    assert text.startswith("The history cannot be read:") and str(path) in text
    assert "\n" not in text and "Traceback" not in text


def test_the_platform_line_is_plain_text_with_https_links_only(window: Any) -> None:
    from app.models import Incident, PlatformState, PlatformStatus
    from ui.window.main_window import _platform_html

    win, urls, _ = window
    platform = PlatformStatus(
        state=PlatformState.DEGRADED,
        description="Partial <i>outage</i> & slowness",
        incidents=(
            Incident("Elevated 5xx on <b>edge</b>", "major", "investigating",
                     "https://stspg.io/abc"),
            Incident("Dashboard slow", "minor", "monitoring", "http://insecure.example/x"),
            Incident("Old thing", "minor", "resolved", "https://stspg.io/old"),
        ),
        page_url="https://status.example.test",
    )
    shown = _platform_html(replace(SNAPSHOT, platform=platform), CONFIG)
    assert "<b>" not in shown and "<i>" not in shown and "\u2039b\u203aedge" in shown
    assert "&amp; slowness" in shown
    assert shown.count("<a href=") == 1 and 'href="https://stspg.io/abc"' in shown
    assert "insecure.example" not in shown and "Old thing" not in shown
    win._on_link("http://insecure.example/x")
    win._on_link("https://stspg.io/abc")
    assert urls == ["https://stspg.io/abc"]
