"""The tray menu with groups: one submenu per group titled with its counts and worst
state, silenced sites shown as such, the snooze entries, and the in-place update."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMenu

from app.config import Config, SiteConfig
from app.events import CheckCompleted, MonitorSnapshot, SiteStateChanged, SiteStatus
from app.grouping import counts_text, menu_groups
from app.models import OverallState, PointOfFailure, SiteState
from app.presentation import site_sort_key
from app.snooze import SnoozeStore
from tests.fake_monitor import FakeMonitor
from tests.test_tray_menu import Recorder
from ui.bridge import Bridge
from ui.icons import IconSet
from ui.menu import GroupMenu, MenuState, find_action, menu_texts, populate, refresh
from ui.notifications import Notifier
from ui.snooze_actions import SnoozeActions, snooze_end
from ui.tray import TrayIcon
from ui.workers import Workers

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
UNTIL = NOW + timedelta(hours=1, minutes=30)

CONFIG = Config(sites=(
    SiteConfig("a-shop", "https://a-shop.test/", group="Client A"),
    SiteConfig("a-blog", "https://a-blog.test/", group="Client A"),
    SiteConfig("a-docs", "https://a-docs.test/", group="Client A"),
    SiteConfig("b-site", "https://b-site.test/", group="Client B"),
    SiteConfig("loose", "https://loose.test/"),
))


def status(name: str, state: SiteState = SiteState.OPERATIONAL, **kw: Any) -> SiteStatus:
    configured = CONFIG.site(name)
    return SiteStatus(
        name=name, url=configured.url if configured else "https://x.test/",
        environment="live", state=state, point_of_failure=PointOfFailure.SITE,
        reason="502 Bad Gateway" if state is SiteState.DOWN else "",
        group=configured.group if configured else "", last_checked=NOW, **kw,
    )


SNAPSHOT = MonitorSnapshot(
    overall=OverallState.DOWN,
    sites=(
        status("a-shop", SiteState.DOWN),
        status("a-blog"),
        status("a-docs", SiteState.DOWN, silenced="maintenance", silenced_until=UNTIL),
        status("b-site"),
        status("loose", SiteState.DEGRADED),
    ),
    last_check=NOW,
)


def build(snapshot: MonitorSnapshot = SNAPSHOT, icons: IconSet | None = None,
          snooze: Any = None) -> tuple[QMenu, Any]:
    menu = QMenu()
    handlers = Recorder().handlers()
    if snooze is not None:
        handlers = replace(handlers, snooze=snooze)
    layout = populate(menu, snapshot, CONFIG, handlers, icons or IconSet(), MenuState(now=NOW))
    return menu, layout


def test_counts_and_order_of_groups() -> None:
    groups, loose = menu_groups(SNAPSHOT, CONFIG, site_sort_key)
    assert [g.name for g in groups] == ["Client A", "Client B"]  # worst first
    assert groups[0].title == "Client A: 1 down, 1 ok, 1 in maintenance"
    assert groups[0].worst is SiteState.DOWN
    assert [s.name for s in groups[0].sites] == ["a-shop", "a-blog", "a-docs"]  # silenced last
    assert groups[1].title == "Client B: 1 ok"
    assert [s.name for s in loose] == ["loose"]
    assert counts_text([]) == "no sites"


def test_one_submenu_per_group_then_the_ungrouped_sites(qapp: Any) -> None:
    icons = IconSet()
    menu, layout = build(icons=icons)
    texts = menu_texts(menu)
    top = [t for t in texts if not t.startswith(" ")]
    first_site = top.index("Client A: 1 down, 1 ok, 1 in maintenance")
    assert top[first_site:first_site + 3] == [
        "Client A: 1 down, 1 ok, 1 in maintenance", "Client B: 1 ok", "loose: Degraded"
    ]
    group_entry = find_action(menu, "Client A: 1 down, 1 ok, 1 in maintenance")
    assert group_entry is not None and isinstance(group_entry.menu(), GroupMenu)
    assert group_entry.icon().cacheKey() == icons.site(SiteState.DOWN).cacheKey()
    # The silenced site says so, with its end (local time).
    hhmm = UNTIL.astimezone().strftime("%H:%M")
    assert f"  a-docs: Down (in maintenance until {hhmm}): 502 Bad Gateway" in texts
    assert any(t.strip().startswith(f"In maintenance until {hhmm}") for t in texts)
    assert layout.order() == ["a-shop", "a-blog", "a-docs", "b-site", "loose"]


def test_a_group_of_silenced_sites_is_not_red(qapp: Any) -> None:
    quiet = replace(SNAPSHOT, sites=(
        status("b-site", SiteState.DOWN, silenced="snooze", silenced_until=UNTIL),
    ))
    icons = IconSet()
    menu, _ = build(quiet, icons)
    entry = find_action(menu, "Client B: 1 snoozed")
    assert entry is not None
    assert entry.icon().cacheKey() == icons.site(SiteState.OPERATIONAL).cacheKey()


def test_a_new_snapshot_updates_group_titles_in_place(qapp: Any) -> None:
    icons = IconSet()
    menu, layout = build(icons=icons)
    rec = Recorder()
    entry = layout.groups[0].menuAction()
    recovered = replace(SNAPSHOT, sites=tuple(
        replace(s, state=SiteState.OPERATIONAL, reason="") if s.name == "a-shop" else s
        for s in SNAPSHOT.sites
    ))
    assert refresh(layout, recovered, CONFIG, rec.handlers(), icons, MenuState(now=NOW))
    assert layout.groups[0].menuAction() is entry  # the same entry, updated
    assert entry.text() == "Client A: 2 ok, 1 in maintenance"
    # A site moving to another group changes the shape: the caller rebuilds.
    moved = replace(CONFIG, sites=tuple(
        replace(s, group="Client B") if s.name == "a-blog" else s for s in CONFIG.sites
    ))
    assert not refresh(layout, recovered, moved, rec.handlers(), icons, MenuState(now=NOW))


def test_snooze_entries(qapp: Any) -> None:
    asked: list[tuple[str, str]] = []

    def record(site: str, how: str) -> None:
        asked.append((site, how))

    menu, _ = build(snooze=record)
    shop = find_action(menu, "a-shop: Down: 502 Bad Gateway")
    assert shop is not None and shop.menu() is not None
    entries = menu_texts(shop.menu())  # type: ignore[arg-type]
    assert "Snooze 1 &hour" in entries and "Unsnooze" not in str(entries)
    for label in ("Snooze 1 hour", "Snooze until tomorrow 9:00", "Snooze\u2026"):
        action = find_action(shop.menu(), label)  # type: ignore[arg-type]
        assert action is not None
        action.trigger()
    assert asked == [("a-shop", "hour"), ("a-shop", "tomorrow"), ("a-shop", "ask")]

    snoozed = replace(SNAPSHOT, sites=(status("loose", silenced="snooze", silenced_until=UNTIL),))
    menu, _ = build(snoozed, snooze=record)
    off = find_action(menu, "Unsnooze")
    assert off is not None
    off.trigger()
    assert asked[-1] == ("loose", "off")


def test_snooze_until_tomorrow_is_nine_local_time() -> None:
    end = snooze_end("tomorrow", NOW).astimezone()
    assert (end.hour, end.minute) == (9, 0)
    assert end.date() == (NOW.astimezone() + timedelta(days=1)).date()
    assert snooze_end("hour", NOW) == NOW + timedelta(hours=1)


def test_snooze_actions_write_the_file_off_the_gui_thread_then_recheck(
    qtbot: Any, tmp_path: Path
) -> None:
    workers = Workers()
    store = SnoozeStore(tmp_path / "snoozes.json")
    checked: list[str | None] = []
    actions = SnoozeActions(store, workers, checked.append, clock=lambda: NOW)
    actions("a-shop", "hour")
    qtbot.waitUntil(lambda: checked == ["a-shop"], timeout=5000)
    assert store.current(NOW) == {"a-shop": NOW + timedelta(hours=1)}

    actions("a-shop", "ask")
    assert actions.dialog is not None and actions.dialog.isVisible()
    actions.dialog.textValueSelected.emit("nonsense")  # asked again, saying why
    assert actions.dialog is not None and "not a duration" in actions.dialog.labelText()
    assert actions.dialog.textValue() == "nonsense"  # kept, to be corrected
    actions.dialog.textValueSelected.emit("30m")
    qtbot.waitUntil(lambda: len(checked) == 2, timeout=5000)
    assert store.current(NOW) == {"a-shop": NOW + timedelta(minutes=30)}

    actions("a-shop", "off")
    qtbot.waitUntil(lambda: len(checked) == 3, timeout=5000)
    assert store.current(NOW) == {}
    workers.shutdown()


def test_a_silenced_change_raises_no_notification(qtbot: Any) -> None:
    shown: list[Any] = []
    notifier = Notifier(shown.append, clock=lambda: NOW)
    for silenced in ("snooze", "maintenance", None):
        notifier.handle(SiteStateChanged(
            at=NOW, site="a-shop", previous=SiteState.OPERATIONAL, state=SiteState.DOWN,
            point_of_failure=PointOfFailure.SITE, reason="502", silenced=silenced,
        ))
        notifier.flush()
    assert len(shown) == 1  # only the one nobody silenced


@pytest.fixture
def tray(qtbot: Any) -> Any:
    monitor = FakeMonitor(CONFIG)
    bridge = Bridge(monitor, CONFIG)
    icon = TrayIcon(bridge, IconSet(), open_settings=lambda: None, on_quit=lambda: None,
                    show_error=lambda m: None, clock=lambda: NOW)
    bridge.start()
    qtbot.waitUntil(lambda: monitor.loop is not None, timeout=5000)
    yield monitor, bridge, icon
    with qtbot.waitSignal(bridge.finished, timeout=5000):
        bridge.stop()
    bridge.join(5)


def test_the_tray_reorders_groups_on_the_next_opening(qtbot: Any, tray: Any) -> None:
    monitor, bridge, icon = tray
    monitor.emit(CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: bridge.snapshot is SNAPSHOT, timeout=5000)
    icon.menu.popup(QPoint(10, 10))
    qtbot.waitUntil(icon.menu.isVisible, timeout=5000)
    assert icon._layout.order()[0] == "a-shop"
    icon.menu.hide()
    b_down = replace(SNAPSHOT, sites=tuple(
        replace(s, state=SiteState.OPERATIONAL, reason="") if s.name == "a-shop"
        else replace(s, state=SiteState.DOWN, reason="x") if s.name == "b-site" else s
        for s in SNAPSHOT.sites
    ))
    monitor.emit(CheckCompleted(at=NOW, snapshot=b_down))
    qtbot.waitUntil(lambda: bridge.snapshot is b_down, timeout=5000)
    icon.menu.popup(QPoint(10, 10))
    qtbot.waitUntil(icon.menu.isVisible, timeout=5000)
    titles = [a.text() for a in icon.menu.actions() if isinstance(a.menu(), GroupMenu)]
    assert titles == ["Client B: 1 down", "Client A: 2 ok, 1 in maintenance"]
    icon.menu.hide()
