"""The tray menu built from a given snapshot; the icon swap rule; notifications."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMenu

from app.config import Config, ProviderConfig, SiteConfig
from app.events import (
    CheckCompleted,
    MonitorSnapshot,
    NetworkChanged,
    PlatformStateChanged,
    Reminder,
    SitePending,
    SiteStateChanged,
    SiteStatus,
)
from app.models import (
    Incident,
    OverallState,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    SiteState,
)
from app.notices import Level, Notification, compose
from tests.fake_monitor import FakeMonitor
from ui.bridge import Bridge
from ui.icons import IconSet
from ui.menu import (
    TOP_LEVEL_SITES,
    MenuHandlers,
    MenuState,
    action_text,
    find_action,
    menu_texts,
    populate,
)
from ui.notifications import Notifier
from ui.tray import TrayIcon

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

CONFIG = Config(
    provider=ProviderConfig(name="Pantheon", dashboard="https://dashboard.example.test"),
    sites=(
        SiteConfig(name="Shop & Co", url="https://shop.example.test/",
                   dashboard_url="https://dashboard.example.test/sites/shop"),
        SiteConfig(name="Blog", url="http://blog.example.test/"),
        SiteConfig(name="<b>Wiki</b>", url="https://wiki.example.test/"),
    ),
)
PLATFORM = PlatformStatus(
    state=PlatformState.DEGRADED,
    description="Partial <i>outage</i> & slowness",
    incidents=(
        Incident("Elevated 5xx on <b>edge</b>", "major", "investigating", "https://stspg.io/abc"),
        Incident("Dashboard slow", "minor", "monitoring", "http://insecure.example/x"),
        Incident("Old thing", "minor", "resolved", "https://stspg.io/old"),
    ),
    page_url="https://status.example.test",
)


def site(name: str, state: SiteState, reason: str = "", **kw: Any) -> SiteStatus:
    return SiteStatus(
        name=name, url=CONFIG.site(name).url if CONFIG.site(name) else "https://x.test/",
        environment="live", state=state, point_of_failure=PointOfFailure.SITE, reason=reason,
        last_checked=NOW - timedelta(seconds=30), **kw,
    )


SNAPSHOT = MonitorSnapshot(
    overall=OverallState.DOWN,
    point_of_failure=PointOfFailure.SITE,
    platform=PLATFORM,
    sites=(
        site("Blog", SiteState.OPERATIONAL, uptime_24h=1.0),
        site("Shop & Co", SiteState.DOWN, "503 Database\nnot Responding", uptime_24h=0.9731,
             since=NOW - timedelta(minutes=5)),
        site("<b>Wiki</b>", SiteState.OPERATIONAL, pending=True, suspected=SiteState.DOWN),
    ),
    last_check=NOW,
)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def handlers(self, *, ticket: bool = True, autostart: bool = True) -> MenuHandlers:
        return MenuHandlers(
            open_url=lambda u: self.calls.append(("url", u)),
            check_now=lambda s: self.calls.append(("check", s)),
            open_settings=lambda: self.calls.append(("settings", None)),
            pause=lambda how: self.calls.append(("pause", how)),
            about=lambda: self.calls.append(("about", None)),
            quit=lambda: self.calls.append(("quit", None)),
            open_ticket_form=(lambda s: self.calls.append(("ticket", s))) if ticket else None,
            set_autostart=(lambda on: self.calls.append(("autostart", on))) if autostart else None,
            show_details=lambda s: self.calls.append(("details", s)),
        )


@pytest.fixture
def built(qapp: Any) -> tuple[QMenu, Recorder]:
    menu = QMenu()
    rec = Recorder()
    populate(menu, SNAPSHOT, CONFIG, rec.handlers(), IconSet(), MenuState(now=NOW, autostart=False))
    return menu, rec


def trigger(menu: QMenu, text: str) -> None:
    action = find_action(menu, text)
    assert action is not None, f"no entry {text!r} in {menu_texts(menu)}"
    assert action.isEnabled()
    action.trigger()


def test_menu_entries_in_order(built: tuple[QMenu, Recorder]) -> None:
    menu, _ = built
    top = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert top[0] == "Down: 1 of 3 sites need attention"
    assert top[1] == "Pantheon: Degraded (Partial \u2039i\u203aoutage\u2039/i\u203a && slowness)"
    # Unresolved incidents only, worst site first, then the fixed entries.
    assert top[2].strip() == "Elevated 5xx on \u2039b\u203aedge\u2039/b\u203a (investigating)"
    assert top[3].strip() == "Dashboard slow (monitoring)"
    assert not any("Old thing" in t for t in top)
    assert top[4].startswith("Shop && Co: Down: 503 Database not Responding")
    # A pending problem sorts above a plain operational site and says so.
    assert top[5] == "\u2039b\u203aWiki\u2039/b\u203a: Operational, confirming down"
    assert top[6] == "Blog: Operational"
    assert top[7:] == [
        "File an &emergency ticket\u2026", "&Check all now", "&Pause notifications",
        "&Settings\u2026", "Start at &login", "&About Lifeline", "&Quit",
    ]


def test_site_submenu_details_and_actions(built: tuple[QMenu, Recorder]) -> None:
    menu, rec = built
    shop = next(a.menu() for a in menu.actions() if a.text().startswith("Shop"))
    shop.aboutToShow.emit()  # filled when it opens
    texts = [a.text() for a in shop.actions() if not a.isSeparator()]
    assert texts[0] == "503 Database not Responding"
    assert texts[1].startswith("Down since ")
    assert texts[2].startswith("Last checked: ")
    assert texts[3] == "Uptime 24 h: 97.31 %"
    assert texts[4:] == [
        "&Open site", "Open in &dashboard", "&Check now", "File &emergency ticket\u2026"
    ]
    # Information, yet enabled (issue 20): the arrow keys reach each line, it is drawn
    # in the text colour, and choosing it opens the site's details in full.
    assert all(a.isEnabled() for a in shop.actions()[:4])
    shop.actions()[0].trigger()
    assert rec.calls.pop() == ("details", "Shop & Co")
    for text in ("Open site", "Open in dashboard", "Check now", "File emergency ticket\u2026"):
        trigger(shop, text)
    assert rec.calls == [
        ("url", "https://shop.example.test/"),
        ("url", "https://dashboard.example.test/sites/shop"),
        ("check", "Shop & Co"),
        ("ticket", "Shop & Co"),
    ]


def test_site_without_own_dashboard_uses_the_provider_dashboard(
    built: tuple[QMenu, Recorder],
) -> None:
    menu, rec = built
    blog = next(a.menu() for a in menu.actions() if a.text().startswith("Blog"))
    blog.aboutToShow.emit()
    trigger(blog, "Open in dashboard")
    trigger(blog, "Open site")
    assert rec.calls == [("url", "https://dashboard.example.test"), ("url", "http://blog.example.test/")]
    texts = [a.text() for a in blog.actions()]
    assert "Uptime 24 h: 100 %" in texts


def test_incident_links_open_https_only(built: tuple[QMenu, Recorder]) -> None:
    menu, rec = built
    entries = [a for a in menu.actions() if a.text().startswith("    ")]
    assert len(entries) == 2
    entries[0].trigger()
    assert rec.calls == [("url", "https://stspg.io/abc")]
    assert not entries[1].isEnabled()  # http link: shown, never opened
    # The platform line is a submenu: the status page and its subscribe button.
    trigger(menu, "Open the status page")
    trigger(menu, "Subscribe to status updates\u2026")
    assert rec.calls[-2:] == [("url", "https://status.example.test")] * 2


def test_fixed_entries_call_their_handlers(built: tuple[QMenu, Recorder]) -> None:
    menu, rec = built
    for text in ("Check all now", "For 1 hour", "Until tomorrow 08:00", "Settings\u2026",
                 "About Lifeline", "Quit"):
        trigger(menu, text)
    login = find_action(menu, "Start at login")
    assert login is not None and login.isCheckable() and not login.isChecked()
    login.trigger()
    assert rec.calls == [
        ("check", None), ("pause", "hour"), ("pause", "tomorrow"), ("settings", None),
        ("about", None), ("quit", None), ("autostart", True),
    ]


def test_no_ticket_entry_without_a_form_and_no_login_entry_without_autostart(qapp: Any) -> None:
    menu = QMenu()
    rec = Recorder()
    populate(menu, SNAPSHOT, CONFIG, rec.handlers(ticket=False), IconSet(),
             MenuState(now=NOW, autostart=None))
    texts = menu_texts(menu)
    assert not any("emergency ticket" in t for t in texts)
    assert not any("Start at" in t for t in texts)


def test_paused_menu_offers_resume(qapp: Any) -> None:
    menu = QMenu()
    rec = Recorder()
    until = NOW + timedelta(hours=1)
    populate(menu, SNAPSHOT, CONFIG, rec.handlers(), IconSet(),
             MenuState(now=NOW, paused_until=until))
    trigger(menu, "Resume notifications")
    assert rec.calls == [("pause", "resume")]
    assert any(t.strip().startswith("Paused until ") for t in menu_texts(menu))


def test_menu_text_escapes_mnemonics() -> None:
    # plain() itself is tested in test_presentation.
    assert action_text("R&D") == "R&&D"


def test_many_sites_overflow_into_a_submenu(qapp: Any) -> None:
    sites = tuple(
        SiteStatus(name=f"site{i:03}", url="https://x.test/", environment="live",
                   state=SiteState.OPERATIONAL, point_of_failure=PointOfFailure.NONE, reason="")
        for i in range(TOP_LEVEL_SITES + 15)
    )
    menu = QMenu()
    populate(menu, replace(SNAPSHOT, sites=sites), CONFIG, Recorder().handlers(), IconSet(),
             MenuState(now=NOW))
    more = find_action(menu, "15 more sites")
    assert more is not None and more.menu() is not None
    more.menu().aboutToShow.emit()
    assert len(more.menu().actions()) == 15


def test_rebuilding_deletes_the_old_submenus(qtbot: Any) -> None:
    menu = QMenu()
    for _ in range(5):
        populate(menu, SNAPSHOT, CONFIG, Recorder().handlers(), IconSet(), MenuState(now=NOW))
        qtbot.wait(0)  # let deleteLater run
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert len(menu.findChildren(QMenu)) <= 2 * (len(SNAPSHOT.sites) + 1)


def test_site_submenus_are_built_only_when_opened(qapp: Any) -> None:
    """200 sites: opening the menu makes a few dozen entries, not thousands; a site's
    details and actions are made when its own submenu is about to show."""
    sites = tuple(
        SiteStatus(name=f"site{i:03}", url="https://x.test/", environment="live",
                   state=SiteState.DOWN if i % 10 == 0 else SiteState.OPERATIONAL,
                   point_of_failure=PointOfFailure.SITE, reason="503" if i % 10 == 0 else "")
        for i in range(200)
    )
    menu = QMenu()
    populate(menu, replace(SNAPSHOT, sites=sites), CONFIG, Recorder().handlers(), IconSet(),
             MenuState(now=NOW))
    entries = [a for a in menu.actions() if a.menu() is not None]
    site_menus = [a.menu() for a in entries if a.text().startswith("site")]
    assert len(site_menus) == TOP_LEVEL_SITES
    assert all(not m.actions() for m in site_menus)  # nothing made up front
    more = next(a.menu() for a in entries if a.text() == "180 more sites")
    assert not more.actions()
    first = site_menus[0]
    first.aboutToShow.emit()
    texts = [a.text() for a in first.actions() if not a.isSeparator()]
    assert texts[0] == "503" and "&Check now" in texts
    assert all(not m.actions() for m in site_menus[1:])  # the others still untouched
    more.aboutToShow.emit()
    assert len(more.actions()) == 180
    assert all(not a.menu().actions() for a in more.actions())


def test_an_open_menu_follows_the_snapshot_in_place(qtbot: Any, tray_setup: Any) -> None:
    """The icon turns red while the menu is open: the open menu (and an open site
    submenu) must not go on saying "confirming down", and must not close or rebuild."""
    monitor, bridge, tray, _ = tray_setup
    monitor.emit(CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: bridge.snapshot is SNAPSHOT, timeout=5000)
    tray.menu.popup(QPoint(10, 10))
    qtbot.waitUntil(tray.menu.isVisible, timeout=5000)
    wiki = next(a for a in tray.menu.actions() if a.text().startswith("\u2039b\u203aWiki"))
    assert wiki.text().endswith("confirming down")
    wiki_menu = wiki.menu()
    wiki_menu.popup(QPoint(200, 10))
    qtbot.waitUntil(wiki_menu.isVisible, timeout=5000)
    assert any(a.text().startswith("Confirming: down") for a in wiki_menu.actions())
    head = tray.menu.actions()[0]

    confirmed = replace(SNAPSHOT, sites=(
        SNAPSHOT.sites[0], SNAPSHOT.sites[1],
        site("<b>Wiki</b>", SiteState.DOWN, "503", since=NOW),
    ), last_check=NOW + timedelta(seconds=10))
    monitor.emit(CheckCompleted(at=NOW, snapshot=confirmed))
    qtbot.waitUntil(lambda: bridge.snapshot is confirmed, timeout=5000)

    assert tray.menu.isVisible() and wiki_menu.isVisible()  # not closed
    assert tray.menu.actions()[0] is head  # updated, not rebuilt
    assert head.text() == "Down: 2 of 3 sites need attention"
    assert not any("confirming" in t for t in menu_texts(tray.menu))
    # The entry under the pointer keeps its site while open (sorted on the next opening).
    assert wiki.text() == "\u2039b\u203aWiki\u2039/b\u203a: Down: 503"
    open_texts = [a.text() for a in wiki_menu.actions() if not a.isSeparator()]
    assert open_texts[0] == "503"
    assert open_texts[1].startswith("Down since ")
    assert not any(t.startswith("Confirming") for t in open_texts)
    tray.menu.hide()


def test_a_changed_shape_rebuilds_the_open_menu(qtbot: Any, tray_setup: Any) -> None:
    monitor, bridge, tray, _ = tray_setup
    monitor.emit(CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: bridge.snapshot is SNAPSHOT, timeout=5000)
    tray.menu.popup(QPoint(10, 10))
    qtbot.waitUntil(tray.menu.isVisible, timeout=5000)
    calm = replace(SNAPSHOT, platform=replace(PLATFORM, incidents=()))
    monitor.emit(CheckCompleted(at=NOW, snapshot=calm))
    qtbot.waitUntil(lambda: bridge.snapshot is calm, timeout=5000)
    assert tray.menu.isVisible()
    assert not any("investigating" in t for t in menu_texts(tray.menu))
    tray.menu.hide()


# --------------------------------------------------------------------------- the tray


@pytest.fixture
def tray_setup(qtbot: Any) -> Any:
    monitor = FakeMonitor(CONFIG)
    bridge = Bridge(monitor, CONFIG)
    opened: list[str | None] = []
    tray = TrayIcon(
        bridge, IconSet(), open_settings=lambda: None, open_ticket_form=opened.append,
        on_quit=lambda: None, show_error=lambda m: None, clock=lambda: NOW,
    )
    bridge.start()
    qtbot.waitUntil(lambda: monitor.loop is not None, timeout=5000)
    yield monitor, bridge, tray, opened
    with qtbot.waitSignal(bridge.finished, timeout=5000):
        bridge.stop()
    bridge.join(5)


def test_icon_swapped_only_when_state_changes(qtbot: Any, tray_setup: Any) -> None:
    monitor, bridge, tray, _ = tray_setup
    qtbot.waitUntil(lambda: tray.icon_key == (OverallState.UNKNOWN, False), timeout=5000)
    base = tray.icon_changes
    down = replace(SNAPSHOT, last_check=NOW)
    with qtbot.waitSignal(bridge.snapshotChanged, timeout=5000):
        monitor.emit(CheckCompleted(at=NOW, snapshot=down))
    assert tray.icon_key == (OverallState.DOWN, True)
    assert tray.icon_changes == base + 1
    # 100 further checks in the same state: the icon is not touched once.
    events = [
        CheckCompleted(at=NOW, snapshot=replace(down, last_check=NOW + timedelta(seconds=i)))
        for i in range(100)
    ]
    monitor.emit(*events)
    qtbot.waitUntil(lambda: bridge.snapshot is events[-1].snapshot, timeout=5000)
    assert tray.icon_changes == base + 1
    # The pending flag alone is a change (the dot).
    settled = replace(down, sites=tuple(replace(s, pending=False) for s in down.sites))
    monitor.emit(CheckCompleted(at=NOW, snapshot=settled))
    qtbot.waitUntil(lambda: tray.icon_key == (OverallState.DOWN, False), timeout=5000)
    assert tray.icon_changes == base + 2


def test_tooltip_is_plain_text_and_changes_only_with_what_it_says(
    qtbot: Any, tray_setup: Any
) -> None:
    """Issue 18: an SNI tooltip's title is plain text (the old one showed `<p style=...`),
    and a tooltip carrying the last check's time made the panel re-read it every check."""
    monitor, bridge, tray, _ = tray_setup
    monitor.emit(CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: bridge.snapshot is SNAPSHOT, timeout=5000)
    tip = tray.tray.toolTip()
    assert tip.startswith("Lifeline\nDown: 1 of 3 sites need attention\n")
    assert "1 down, 2 operational" in tip
    assert "Pantheon: Degraded" in tip
    assert "<" not in tip and ">" not in tip  # status-page text cannot inject markup
    assert "Last check" not in tip
    changes: list[str] = []
    original = tray.tray.setToolTip
    tray.tray.setToolTip = lambda text: (changes.append(text), original(text))  # type: ignore[method-assign]
    later = [replace(SNAPSHOT, last_check=NOW + timedelta(minutes=i)) for i in range(1, 4)]
    monitor.emit(*(CheckCompleted(at=NOW, snapshot=s) for s in later))
    qtbot.waitUntil(lambda: bridge.snapshot is later[-1], timeout=5000)
    assert changes == []
    calm = replace(later[-1], platform=replace(PLATFORM, state=PlatformState.OPERATIONAL))
    monitor.emit(CheckCompleted(at=NOW, snapshot=calm))
    qtbot.waitUntil(lambda: bridge.snapshot is calm, timeout=5000)
    assert len(changes) == 1 and "Pantheon: Degraded" not in changes[0]


def test_a_closed_menu_follows_every_snapshot_without_about_to_show(
    qtbot: Any, tray_setup: Any
) -> None:
    """Issue 18 defects 1 and 2: an SNI host reads the menu over D-Bus without opening it
    (and `isVisible()` is always False when it draws it): the menu must follow each
    snapshot, in place (same QActions, so the same dbusmenu ids) while its shape holds,
    rebuilt when it changes, sorted again when it is about to show."""
    monitor, bridge, tray, _ = tray_setup
    monitor.emit(CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: bridge.snapshot is SNAPSHOT, timeout=5000)
    assert not tray.menu.isVisible()
    top = [a.text() for a in tray.menu.actions()]
    assert top[0] == "Down: 1 of 3 sites need attention"
    assert any(t.startswith("Shop && Co: Down") for t in top)
    entries = list(tray.menu.actions())
    rebuilds = tray.menu_rebuilds

    # The same order, new words: updated in place.
    worse = replace(SNAPSHOT, sites=(
        SNAPSHOT.sites[0], replace(SNAPSHOT.sites[1], reason="502 Bad Gateway"),
        SNAPSHOT.sites[2],
    ), last_check=NOW + timedelta(minutes=1))
    monitor.emit(CheckCompleted(at=NOW, snapshot=worse))
    qtbot.waitUntil(lambda: bridge.snapshot is worse, timeout=5000)
    assert list(tray.menu.actions()) == entries and tray.menu_rebuilds == rebuilds
    assert any(t == "Shop && Co: Down: 502 Bad Gateway" for t in menu_texts(tray.menu))

    # Everything recovers: the words follow in place (the order would change: it is
    # sorted when the menu is next about to show).
    fine = replace(SNAPSHOT, overall=OverallState.OPERATIONAL, sites=tuple(
        site(s.name, SiteState.OPERATIONAL) for s in SNAPSHOT.sites
    ))
    monitor.emit(CheckCompleted(at=NOW, snapshot=fine))
    qtbot.waitUntil(lambda: bridge.snapshot is fine, timeout=5000)
    assert list(tray.menu.actions()) == entries and tray.menu_rebuilds == rebuilds
    texts = [a.text() for a in tray.menu.actions()]
    assert texts[0].startswith("Operational")
    assert not any(": Down" in t for t in texts)

    # A platform incident ends: an entry less, so the menu is rebuilt at once.
    calm = replace(fine, platform=replace(PLATFORM, incidents=()))
    monitor.emit(CheckCompleted(at=NOW, snapshot=calm))
    qtbot.waitUntil(lambda: bridge.snapshot is calm, timeout=5000)
    assert tray.menu_rebuilds == rebuilds + 1
    assert not any("investigating" in t for t in menu_texts(tray.menu))


def test_a_menu_the_host_opened_updates_in_place_and_keeps_its_order(
    qtbot: Any, tray_setup: Any
) -> None:
    """An SNI host draws the menu itself: Qt only relays its AboutToShow (aboutToShow)
    and its "closed" event (aboutToHide); `isVisible()` stays False. The menu follows the
    snapshot in place, entries staying where they are under the pointer; the host's
    next AboutToShow sorts it again."""
    monitor, bridge, tray, _ = tray_setup
    monitor.emit(CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: bridge.snapshot is SNAPSHOT, timeout=5000)
    tray.menu.aboutToShow.emit()  # what Qt's dbusmenu does on the host's AboutToShow
    assert not tray.menu.isVisible()
    entries = list(tray.menu.actions())
    rebuilds = tray.menu_rebuilds
    fine = replace(SNAPSHOT, overall=OverallState.OPERATIONAL, platform=PLATFORM, sites=tuple(
        site(s.name, SiteState.OPERATIONAL) for s in SNAPSHOT.sites
    ), last_check=NOW + timedelta(minutes=1))
    monitor.emit(CheckCompleted(at=NOW, snapshot=fine))
    qtbot.waitUntil(lambda: bridge.snapshot is fine, timeout=5000)
    assert list(tray.menu.actions()) == entries and tray.menu_rebuilds == rebuilds
    assert tray.menu.actions()[0].text().startswith("Operational")
    assert not any(": Down" in a.text() for a in tray.menu.actions())

    tray.menu.aboutToHide.emit()  # the host's "closed" event
    tray.menu.aboutToShow.emit()  # and its next opening: sorted again
    assert tray.menu_rebuilds == rebuilds + 1


def test_about_box_stays_open(qtbot: Any, tray_setup: Any) -> None:
    """Issue 18 defect 5: a parentless local QMessageBox was collected at once."""
    import gc

    from PySide6.QtWidgets import QApplication, QMessageBox

    _, _, tray, _ = tray_setup
    tray.rebuild_menu()
    trigger(tray.menu, "About Lifeline")
    gc.collect()

    def shown() -> list[QMessageBox]:
        return [w for w in QApplication.topLevelWidgets()
                if isinstance(w, QMessageBox) and w.isVisible()]

    qtbot.waitUntil(lambda: len(shown()) == 1, timeout=5000)
    box = shown()[0]
    assert box.windowTitle() == "About Lifeline"
    assert "Log file:" in box.text()
    trigger(tray.menu, "About Lifeline")  # a second choice raises the same box
    assert shown() == [box]
    box.close()
    qtbot.waitUntil(lambda: not shown(), timeout=5000)


def test_menu_rebuilt_on_about_to_show_from_memory(qtbot: Any, tray_setup: Any) -> None:
    monitor, bridge, tray, _ = tray_setup
    monitor.emit(CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: bridge.snapshot is SNAPSHOT, timeout=5000)
    tray.menu.aboutToShow.emit()
    assert any(t.startswith("Shop && Co: Down") for t in menu_texts(tray.menu))
    trigger(tray.menu, "Check all now")
    qtbot.waitUntil(lambda: monitor.checks == [None], timeout=5000)


def test_site_down_notification_click_opens_the_ticket_form(qtbot: Any, tray_setup: Any) -> None:
    monitor, bridge, tray, opened = tray_setup
    change = SiteStateChanged(
        at=NOW, site="Shop & Co", previous=SiteState.OPERATIONAL, state=SiteState.DOWN,
        point_of_failure=PointOfFailure.SITE, reason="503",
    )
    monitor.emit(change, CheckCompleted(at=NOW, snapshot=SNAPSHOT))
    qtbot.waitUntil(lambda: tray.notifier.last is not None, timeout=5000)
    assert tray.notifier.last.down_sites == ("Shop & Co",)
    tray.tray.messageClicked.emit()
    assert opened == ["Shop & Co"]


# --------------------------------------------------------------------------- notifications


def changed(name: str, state: SiteState, previous: SiteState | None = SiteState.OPERATIONAL,
            **kw: Any) -> SiteStateChanged:
    return SiteStateChanged(at=NOW, site=name, previous=previous, state=state,
                            point_of_failure=PointOfFailure.SITE, reason=f"{name} reason", **kw)


@pytest.fixture
def notifier(qapp: Any) -> tuple[Notifier, list[Notification], dict[str, datetime]]:
    shown: list[Notification] = []
    clock = {"now": NOW}
    notifier = Notifier(shown.append, provider_name="Pantheon", clock=lambda: clock["now"])
    return notifier, shown, clock


def test_ten_sites_at_once_is_one_notification(notifier: Any) -> None:
    n, shown, _ = notifier
    for i in range(10):
        n.handle(changed(f"site{i}", SiteState.DOWN))
    n.handle(CheckCompleted(at=NOW))
    assert len(shown) == 1
    note = shown[0]
    assert note.title == "10 changes: 10 down"
    assert note.level is Level.CRITICAL
    assert note.body.count("\n") == 6  # six lines and "and 4 more"
    assert note.body.endswith("and 4 more")
    assert note.ticket_site is None and len(note.down_sites) == 10


def test_changes_without_check_completed_flush_after_a_short_window(
    qtbot: Any, notifier: Any
) -> None:
    n, shown, _ = notifier
    n.handle(changed("a", SiteState.DOWN))
    n.handle(changed("b", SiteState.DEGRADED))
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=3000)
    assert shown[0].title == "2 changes: 1 down, 1 degraded"


def test_pending_and_startup_operational_do_not_notify(notifier: Any) -> None:
    n, shown, _ = notifier
    n.handle(SitePending(at=NOW, site="a", suspected=SiteState.DOWN, reason="503"))
    n.handle(changed("a", SiteState.OPERATIONAL, previous=None))
    n.handle(CheckCompleted(at=NOW))
    assert shown == []


def test_single_change_recovery_reminder_platform_network(notifier: Any) -> None:
    n, shown, _ = notifier
    n.handle(changed("shop", SiteState.DOWN))
    n.handle(CheckCompleted(at=NOW))
    n.handle(changed("shop", SiteState.OPERATIONAL, previous=SiteState.DOWN))
    n.handle(CheckCompleted(at=NOW))
    n.handle(Reminder(at=NOW, site="shop", state=SiteState.DOWN, since=NOW, reason="503"))
    n.handle(CheckCompleted(at=NOW))
    n.handle(PlatformStateChanged(at=NOW, previous=PlatformState.OPERATIONAL,
                                  state=PlatformState.OUTAGE, platform=PLATFORM))
    n.handle(CheckCompleted(at=NOW))
    n.handle(NetworkChanged(at=NOW, available=False))
    titles = [s.title for s in shown]
    assert titles[0] == "shop: Down" and shown[0].ticket_site == "shop"
    assert titles[1] == "shop recovered" and shown[1].level is Level.INFO
    assert titles[2].startswith("Still down since ") and titles[2].endswith(": shop")
    assert titles[3] == "Pantheon platform: Outage"
    assert "\u2039b\u203aedge" in shown[3].body and "Old thing" not in shown[3].body
    assert titles[4] == "Your network seems down"


def test_flapping_is_reported_as_flapping(notifier: Any) -> None:
    n, shown, _ = notifier
    n.handle(changed("shop", SiteState.DEGRADED, flapping=True))
    n.handle(CheckCompleted(at=NOW))
    assert shown[0].title == "shop is flapping"


def test_pause_for_an_hour_then_resumes_by_itself(notifier: Any) -> None:
    n, shown, clock = notifier
    n.pause("hour")
    assert n.paused_until == NOW + timedelta(hours=1)
    n.handle(changed("a", SiteState.DOWN))
    n.handle(CheckCompleted(at=NOW))
    assert shown == [] and n.suppressed == 1
    clock["now"] = NOW + timedelta(hours=1, seconds=1)
    assert n.paused_until is None
    n.handle(changed("a", SiteState.OPERATIONAL, previous=SiteState.DOWN))
    n.handle(CheckCompleted(at=NOW))
    assert [s.title for s in shown] == ["a recovered"]


def test_pause_until_tomorrow_morning(notifier: Any) -> None:
    n, _shown, _ = notifier
    n.pause("tomorrow")
    assert n.paused_until == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    n.pause("resume")
    assert n.paused_until is None
    with pytest.raises(ValueError):
        n.pause("forever")


def test_compose_mixed_group() -> None:
    note = compose(
        [changed("a", SiteState.DOWN), changed("b", SiteState.OPERATIONAL,
                                                previous=SiteState.DOWN)],
        "Pantheon", NOW,
    )
    assert note.title == "2 changes: 1 down, 1 recovered"
    assert note.body.splitlines() == ["a: Down: a reason", "b recovered: Operational again"]
    assert note.ticket_site == "a"


def test_a_menu_for_an_icon_of_unknown_place_opens_at_the_panels_corner() -> None:
    """Issue 18: on SNI the tray's geometry is invalid; the second launch's menu went to
    the mouse pointer. The panel's edge is the one the work area is shrunk from."""
    from PySide6.QtCore import QPoint, QRect

    from ui.tray import panel_corner

    screen = QRect(0, 0, 1920, 1080)
    assert panel_corner(screen, QRect(0, 32, 1920, 1048), 300) == QPoint(1619, 32)  # top
    assert panel_corner(screen, QRect(0, 0, 1920, 1040), 300) == QPoint(1619, 1039)  # bottom
    assert panel_corner(screen, QRect(48, 0, 1872, 1080), 300) == QPoint(48, 0)  # left
    assert panel_corner(screen, screen, 300) == QPoint(1619, 0)  # unknown: top right
