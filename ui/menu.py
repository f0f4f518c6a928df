"""The tray menu and tooltip, built from the snapshot already in memory.

Rebuilt each time the menu opens (aboutToShow), so it is never stale and never asks
anyone anything: no I/O, no waiting. Sites with a `group` are listed in one submenu per
group, worst group first, titled with its counts ("Client A: 1 down, 11 ok") and its
worst state's icon; the others follow at the top level. Each site's submenu is filled
only when it opens
(200 sites would otherwise be thousands of entries made up front), and an open menu is
updated in place when a new snapshot arrives. The texts come from app.presentation; every
entry's text goes through `action_text()` (`plain()` with `&` escaped so Qt does not turn
it into a mnemonic).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu

from app.config import Config
from app.events import MonitorSnapshot, SiteStatus
from app.grouping import Group, menu_groups, menu_order
from app.models import OverallState, PlatformStatus
from app.presentation import (
    PLATFORM_AS_OVERALL,
    UNRESOLVED,
    https_url,
    local_time,
    overall_line,
    plain,
    planned_lines,
    platform_detail_lines,
    platform_line,
    site_detail_lines,
    site_sort_key,
    site_title,
    unresolved_incidents,
    web_url,
)
from app.printable import plain_tooltip
from ui.icons import IconSet

PLATFORM_LINE = 60  # characters of the platform entry; its submenu says the rest
TOP_LEVEL_SITES = 20  # more go into a "N more sites" submenu, so the menu fits a screen
# A status page can list thousands of open incidents (30,000 took populate() 0.78 s):
# the first few are shown, the rest is one entry that opens the status page.
MENU_INCIDENTS = 5


def action_text(text: object, limit: int = 80) -> str:
    """`plain()` for a menu entry: `&` doubled, or Qt eats it as a mnemonic marker."""
    return plain(text, limit).replace("&", "&&")


@dataclass(frozen=True)
class MenuHandlers:
    """What the menu's entries do; given by the tray, so the menu knows nobody else."""

    open_url: Callable[[str], None]
    check_now: Callable[[str | None], None]
    open_settings: Callable[[], None]
    pause: Callable[[str], None]  # "hour" | "tomorrow" | "resume"
    about: Callable[[], None]
    quit: Callable[[], None]
    open_ticket_form: Callable[[str | None], None] | None = None
    set_autostart: Callable[[bool], None] | None = None
    open_newrelic: Callable[[str], None] | None = None  # a site's New Relic findings
    show_details: Callable[[str], None] | None = None  # a site's details in full (issue 20)
    open_window: Callable[[], None] | None = None  # the Lifeline window (issue 15)
    # A site's snooze: "hour" | "tomorrow" | "ask" (a duration) | "off".
    snooze: Callable[[str, str], None] | None = None


@dataclass(frozen=True)
class MenuState:
    """Everything else the menu shows, besides the snapshot."""

    now: datetime
    paused_until: datetime | None = None
    autostart: bool | None = None  # None: not available here (entry hidden)
    resume_hour: int = 8  # "until tomorrow" means tomorrow at this local hour


@dataclass(frozen=True)
class _Build:
    """What a site's submenu is built from, besides the site."""

    config: Config
    handlers: MenuHandlers
    icons: IconSet
    state: MenuState


class LazyMenu(QMenu):
    """A submenu filled only when it is about to show: the tray menu with 200 sites
    opens in milliseconds instead of adding thousands of entries up front.

    `bind(build)` gives it new content: built at once if the submenu is open (the user
    sees the change), else on its next showing."""

    def __init__(self, title: str, parent: QMenu, build: Callable[[QMenu], None]) -> None:
        super().__init__(title, parent)
        self.setToolTipsVisible(True)
        self._build = build
        self._built = False
        self.aboutToShow.connect(self.fill)

    def bind(self, build: Callable[[QMenu], None]) -> None:
        self._build = build
        self._built = False
        if self.isVisible():
            before = self.geometry()
            # The keyboard's place survives the rebuild: Return still acts on the entry
            # the user had reached (an open submenu is rebuilt on every check).
            active = self.activeAction()
            place = self.actions().index(active) if active in self.actions() else -1
            self.fill()
            entries = self.actions()
            if 0 <= place < len(entries) and not entries[place].isSeparator():
                self.setActiveAction(entries[place])
            self.adjustSize()
            parent = self.parentWidget()
            if parent is not None and before.right() <= parent.geometry().left():
                # Opened to the left of its menu: grow leftwards, not over the menu.
                self.move(before.right() + 1 - self.width(), before.top())

    @property
    def built(self) -> bool:
        return self._built

    def fill(self) -> None:
        if self._built:
            return
        _clear(self)
        self._build(self)
        self._built = True


class SiteMenu(LazyMenu):
    """One site's entry and submenu (details and actions, built when opened)."""

    def __init__(self, parent: QMenu, site: SiteStatus, build: _Build) -> None:
        super().__init__(action_text(site_title(site), 64), parent, self._filler(site, build))
        self.site = site
        self.menuAction().setIcon(build.icons.site(site.state, site.pending))

    def show_site(self, site: SiteStatus, build: _Build) -> None:
        title = action_text(site_title(site), 64)
        entry = self.menuAction()
        if entry.text() != title:
            entry.setText(title)
        if (site.state, site.pending) != (self.site.state, self.site.pending):
            entry.setIcon(build.icons.site(site.state, site.pending))
        if site != self.site or not self.built:
            self.site = site
            self.bind(self._filler(site, build))

    @staticmethod
    def _filler(site: SiteStatus, build: _Build) -> Callable[[QMenu], None]:
        return lambda menu: _fill_site(menu, site, build)


class _MoreSites(LazyMenu):
    """"N more sites": the sites past the first TOP_LEVEL_SITES, entries made when opened."""

    def __init__(self, parent: QMenu, sites: list[SiteStatus], build: _Build) -> None:
        super().__init__(f"{len(sites)} more sites", parent, self._filler(sites, build))
        self.names = [site.name for site in sites]
        self.entries: list[SiteMenu] = []

    def show_sites(self, sites: list[SiteStatus], build: _Build) -> None:
        """The same sites (in the order shown) with their new status."""
        if self.built:
            for entry, site in zip(self.entries, sites, strict=True):
                entry.show_site(site, build)
        else:
            self.bind(self._filler(sites, build))

    def _filler(self, sites: list[SiteStatus], build: _Build) -> Callable[[QMenu], None]:
        def fill(menu: QMenu) -> None:
            self.entries = [_add_site(menu, site, build) for site in sites]

        return fill


class GroupMenu(_MoreSites):
    """One group's submenu: its counts and worst state's icon on the entry, its sites'
    entries made when it opens."""

    def __init__(self, parent: QMenu, group: Group, build: _Build) -> None:
        super().__init__(parent, list(group.sites), build)
        self.group = group.name
        self._look(group, build)

    def show_group(self, group: Group, build: _Build) -> None:
        """The same group (its sites in the order shown) with their new status."""
        self._look(group, build)
        self.show_sites(list(group.sites), build)

    def _look(self, group: Group, build: _Build) -> None:
        entry = self.menuAction()
        title = action_text(group.title, 80)
        if entry.text() != title:
            entry.setText(title)
        icon = build.icons.site(group.worst, group.pending)
        if icon.cacheKey() != entry.icon().cacheKey():
            entry.setIcon(icon)


@dataclass
class MenuLayout:
    """The entries of a built tray menu that follow the snapshot, to update in place."""

    head: QAction
    platform: QAction
    incidents: list[QAction]
    sites: list[SiteMenu]
    more: _MoreSites | None
    platform_menu: LazyMenu | None = None  # `platform` is its entry
    planned: QAction | None = None  # the next planned maintenance, when there is one
    more_incidents: QAction | None = None  # "N more on the status page"
    groups: list[GroupMenu] = field(default_factory=list)

    def names(self) -> set[str]:
        return set(self.order())

    def order(self) -> list[str]:
        """Every site name, in the order the menu shows them."""
        more = self.more.names if self.more is not None else []
        grouped = [name for group in self.groups for name in group.names]
        return grouped + [entry.site.name for entry in self.sites] + more

    def membership(self) -> dict[str, set[str]]:
        return {group.group: set(group.names) for group in self.groups}


def site_order(snapshot: MonitorSnapshot, config: Config) -> list[str]:
    """The order a menu built now would show the sites in."""
    return menu_order(*menu_groups(snapshot, config, site_sort_key))


def populate(
    menu: QMenu,
    snapshot: MonitorSnapshot,
    config: Config,
    handlers: MenuHandlers,
    icons: IconSet,
    state: MenuState,
) -> MenuLayout:
    """Fill `menu` (cleared first, old submenus deleted) from the given state. Site
    submenus are filled when they open; the returned layout lets `refresh` update the
    menu in place while it is open."""
    _clear(menu)
    build = _Build(config, handlers, icons, state)

    head = _add_heading(menu, handlers)
    platform_menu, incidents, more_incidents, next_planned = _add_platform_lines(
        menu, snapshot, handlers, state
    )
    menu.addSeparator()
    group_menus, top, more = _add_site_entries(menu, snapshot, config, build)
    layout = MenuLayout(
        head,
        platform_menu.menuAction(),
        incidents,
        top,
        more,
        platform_menu,
        next_planned,
        more_incidents,
        group_menus,
    )
    _show_summary(layout, snapshot, build)

    menu.addSeparator()
    _add_commands(menu, handlers, state, has_sites=bool(snapshot.sites))
    return layout


def _add_heading(menu: QMenu, handlers: MenuHandlers) -> QAction:
    head = menu.addAction("")
    # Enabled (a disabled entry greys its icon, and the colour is the message), bold
    # to read as the heading; choosing it does nothing but close the menu.
    font = head.font()
    font.setBold(True)
    head.setFont(font)
    if handlers.open_window is not None:
        # The first entry under the heading: every site's recent past, in pictures.
        window = menu.addAction("&Open Lifeline\u2026")
        window.triggered.connect(lambda _=False, show=handlers.open_window: show())
    return head


def _add_platform_lines(
    menu: QMenu, snapshot: MonitorSnapshot, handlers: MenuHandlers, state: MenuState
) -> tuple[LazyMenu, list[QAction], QAction | None, QAction | None]:
    """The platform's entry (its submenu filled when it opens), the open incidents, "N
    more", and the next planned maintenance."""
    # The platform line opens a submenu: why Lifeline says what it says, the planned
    # maintenances, the status page and its subscribe button (issue 19).
    platform_menu = LazyMenu("", menu, lambda _menu: None)
    menu.addMenu(platform_menu)
    incidents: list[QAction] = []
    shown, total = capped_incidents(snapshot.platform)
    for _ in shown:
        incident = menu.addAction("")
        incident.triggered.connect(lambda _=False, a=incident: _open_link(a, handlers))
        incidents.append(incident)
    more_incidents = None
    if total > len(shown):
        more_incidents = menu.addAction("")
        more_incidents.triggered.connect(lambda _=False, a=more_incidents: _open_link(a, handlers))
    next_planned = None
    if planned_lines(snapshot.platform, state.now):
        next_planned = menu.addAction("")
        next_planned.triggered.connect(lambda _=False, a=next_planned: _open_link(a, handlers))
    return platform_menu, incidents, more_incidents, next_planned


def _add_site_entries(
    menu: QMenu, snapshot: MonitorSnapshot, config: Config, build: _Build
) -> tuple[list[GroupMenu], list[SiteMenu], _MoreSites | None]:
    """One submenu per group, then the loose sites (the first few at the top level)."""
    if not snapshot.sites:
        empty = menu.addAction("No sites configured: add them in Settings")
        empty.setEnabled(False)
    groups, loose = menu_groups(snapshot, config, site_sort_key)
    group_menus = []
    for group in groups:
        group_menu = GroupMenu(menu, group, build)
        menu.addMenu(group_menu)
        group_menus.append(group_menu)
    top = [_add_site(menu, site, build) for site in loose[:TOP_LEVEL_SITES]]
    more = None
    if len(loose) > TOP_LEVEL_SITES:
        more = _MoreSites(menu, loose[TOP_LEVEL_SITES:], build)
        menu.addMenu(more)
    return group_menus, top, more


def _add_commands(
    menu: QMenu, handlers: MenuHandlers, state: MenuState, *, has_sites: bool
) -> None:
    if handlers.open_ticket_form is not None and has_sites:
        # Issue 5: the ticket form asks which site when several are impacted.
        open_form = handlers.open_ticket_form
        any_ticket = menu.addAction("File an &emergency ticket\u2026")
        any_ticket.triggered.connect(lambda _=False: open_form(None))
    check_all = menu.addAction("&Check all now")
    check_all.triggered.connect(lambda _=False: handlers.check_now(None))

    _add_pause_menu(menu, handlers, state)

    settings = menu.addAction("&Settings\u2026")
    settings.triggered.connect(lambda _=False: handlers.open_settings())
    if state.autostart is not None and handlers.set_autostart is not None:
        login = menu.addAction("Start at &login")
        login.setCheckable(True)
        login.setChecked(state.autostart)
        setter = handlers.set_autostart
        login.toggled.connect(lambda checked: setter(bool(checked)))
    about = menu.addAction("&About Lifeline")
    about.triggered.connect(lambda _=False: handlers.about())
    menu.addSeparator()
    quit_action = menu.addAction("&Quit")
    quit_action.triggered.connect(lambda _=False: handlers.quit())


def _add_pause_menu(menu: QMenu, handlers: MenuHandlers, state: MenuState) -> None:
    pause = menu.addMenu("&Pause notifications")
    if state.paused_until is not None:
        info = pause.addAction(f"Paused until {local_time(state.paused_until, state.now)}")
        info.setEnabled(False)
        resume = pause.addAction("&Resume notifications")
        resume.triggered.connect(lambda _=False: handlers.pause("resume"))
        pause.addSeparator()
    hour = pause.addAction("For 1 &hour")
    hour.triggered.connect(lambda _=False: handlers.pause("hour"))
    tomorrow = pause.addAction(f"&Until tomorrow {state.resume_hour:02d}:00")
    tomorrow.triggered.connect(lambda _=False: handlers.pause("tomorrow"))


def refresh(
    layout: MenuLayout,
    snapshot: MonitorSnapshot,
    config: Config,
    handlers: MenuHandlers,
    icons: IconSet,
    state: MenuState,
) -> bool:
    """Show a new snapshot in an already built (open) menu without rebuilding it, so it
    neither flickers nor closes an open submenu. Each entry keeps its site (an open menu
    does not reorder under the pointer; the next opening sorts again). False when the
    menu's shape changed (a site or an incident more or less): the caller rebuilds it."""
    by_name = {site.name: site for site in snapshot.sites}
    if (
        _incident_shape(snapshot.platform)
        != (len(layout.incidents), layout.more_incidents is not None)
        or bool(planned_lines(snapshot.platform, state.now)) != (layout.planned is not None)
        or len(by_name) != len(snapshot.sites)
        or set(by_name) != layout.names()
        or _membership(snapshot, config) != layout.membership()
    ):
        return False
    build = _Build(config, handlers, icons, state)
    _show_summary(layout, snapshot, build)
    for group_menu in layout.groups:
        group = Group(group_menu.group, tuple(by_name[name] for name in group_menu.names))
        group_menu.show_group(group, build)
    for entry in layout.sites:
        entry.show_site(by_name[entry.site.name], build)
    if layout.more is not None:
        layout.more.show_sites([by_name[name] for name in layout.more.names], build)
    return True


def _membership(snapshot: MonitorSnapshot, config: Config) -> dict[str, set[str]]:
    group_of = {s.name: s.group for s in config.sites}
    out: dict[str, set[str]] = {}
    for site in snapshot.sites:
        group = group_of.get(site.name, site.group)
        if group:
            out.setdefault(group, set()).add(site.name)
    return out


def _show_summary(layout: MenuLayout, snapshot: MonitorSnapshot, build: _Build) -> None:
    """The heading, the platform line and its incidents, set from the snapshot."""
    icons, provider = build.icons, build.config.provider.name
    _set(layout.head, action_text(overall_line(snapshot), 100),
         icons.overall(snapshot.overall, snapshot.pending))
    platform = snapshot.platform
    look = PLATFORM_AS_OVERALL[platform.state] if platform else OverallState.UNKNOWN
    page_url = (
        platform.page_url if platform and platform.page_url else build.config.provider.status_page
    )
    # Short, so one long reason does not make the whole menu 650 px wide: the full
    # text is the first entry of its submenu.
    _set(layout.platform, action_text(platform_line(platform, provider), PLATFORM_LINE),
         icons.overall(look), https_url(page_url))
    shown, total = capped_incidents(platform)
    for action, (text, link) in zip(layout.incidents, shown, strict=True):
        _set(action, "    " + action_text(text, 90), None, link)
        action.setEnabled(link is not None)
    if layout.more_incidents is not None:
        page_link = https_url(page_url)
        _set(layout.more_incidents, f"    {total - len(shown):,} more on the status page",
             None, page_link)
        layout.more_incidents.setEnabled(page_link is not None)
    upcoming = planned_lines(platform, build.state.now)
    if layout.planned is not None and upcoming:
        text, link = upcoming[0]
        _set(layout.planned, "    " + action_text(text, 90), None, link)
        layout.planned.setEnabled(link is not None)
    if layout.platform_menu is not None:
        page_link = https_url(page_url)
        layout.platform_menu.bind(lambda sub: _fill_platform(sub, platform, page_link, build))


def _fill_platform(
    sub: QMenu, platform: PlatformStatus | None, page_link: str | None, build: _Build
) -> None:
    handlers = build.handlers
    for text in platform_detail_lines(platform):
        # Enabled: arrow keys (and so screen readers) reach it, and it is drawn in the
        # text colour, not a faint grey; choosing it opens the status page.
        info = sub.addAction(action_text(text, 100))
        if page_link is not None:
            info.triggered.connect(lambda _=False, u=page_link: handlers.open_url(u))
    for text, link in planned_lines(platform, build.state.now):
        entry = sub.addAction(action_text(text, 100))
        _set(entry, entry.text(), None, link)
        entry.setEnabled(link is not None)
        entry.triggered.connect(lambda _=False, a=entry: _open_link(a, handlers))
    sub.addSeparator()
    # Statuspage's own subscribe button (e-mail, SMS, webhook, RSS) is on the page itself.
    for label in ("&Open the status page", "&Subscribe to status updates…"):
        action = sub.addAction(label)
        action.setEnabled(page_link is not None)
        if page_link is not None:
            action.setToolTip(plain_tooltip(page_link))
            action.triggered.connect(lambda _=False, u=page_link: handlers.open_url(u))


def _set(action: QAction, text: str, icon: QIcon | None, link: str | None = None) -> None:
    # Only what differs: an open menu repaints just the entries that changed.
    if action.text() != text:
        action.setText(text)
    if icon is not None and icon.cacheKey() != action.icon().cacheKey():
        action.setIcon(icon)
    if action.data() != link:
        action.setData(link)
        action.setToolTip(plain_tooltip(link))


def capped_incidents(
    platform: PlatformStatus | None,
) -> tuple[list[tuple[str, str | None]], int]:
    """The first MENU_INCIDENTS unresolved incidents as (text, link), and how many there are."""
    if platform is None:
        return [], 0
    unresolved = [i for i in platform.incidents if i.status.lower() in UNRESOLVED]
    first = replace(platform, incidents=tuple(unresolved[:MENU_INCIDENTS]))
    return unresolved_incidents(first), len(unresolved)


def _incident_shape(platform: PlatformStatus | None) -> tuple[int, bool]:
    shown, total = capped_incidents(platform)
    return len(shown), total > len(shown)


def _open_link(action: QAction, handlers: MenuHandlers) -> None:
    link = action.data()
    if isinstance(link, str) and link:
        handlers.open_url(link)


def _clear(menu: QMenu) -> None:
    for sub in menu.findChildren(QMenu, options=Qt.FindChildOption.FindDirectChildrenOnly):
        sub.deleteLater()
    menu.clear()


def _add_site(parent: QMenu, site: SiteStatus, build: _Build) -> SiteMenu:
    sub = SiteMenu(parent, site, build)
    parent.addMenu(sub)
    return sub


def _fill_site(sub: QMenu, site: SiteStatus, build: _Build) -> None:
    config, handlers, state = build.config, build.handlers, build.state
    show_details = handlers.show_details
    for text in site_detail_lines(site, state.now):
        # Enabled (reachable by the arrow keys, readable contrast); choosing one opens
        # the site's details, the whole reason included.
        info = sub.addAction(action_text(text, 100))
        if show_details is not None:
            info.triggered.connect(lambda _=False, n=site.name: show_details(n))
    sub.addSeparator()

    configured = config.site(site.name)
    url = web_url(site.url)
    if url:
        open_site = sub.addAction("&Open site")
        open_site.setToolTip(plain_tooltip(url))
        open_site.triggered.connect(lambda _=False, u=url: handlers.open_url(u))
    page = configured.dashboard_link(config.provider.dashboard) if configured else ""
    dashboard = web_url(page) if page else https_url(config.provider.dashboard)
    if dashboard:
        open_dash = sub.addAction("Open in &dashboard")
        open_dash.setToolTip(plain_tooltip(dashboard))
        open_dash.triggered.connect(lambda _=False, u=dashboard: handlers.open_url(u))
    check = sub.addAction("&Check now")
    check.triggered.connect(lambda _=False, n=site.name: handlers.check_now(n))
    if handlers.snooze is not None:
        _add_snooze(sub, site, handlers.snooze)
    if handlers.open_newrelic is not None and configured is not None and configured.newrelic_app:
        newrelic = handlers.open_newrelic
        slowest = sub.addAction("New Relic: slo&west transactions\u2026")
        slowest.triggered.connect(lambda _=False, n=site.name: newrelic(n))
    if handlers.open_ticket_form is not None:
        form = handlers.open_ticket_form
        ticket = sub.addAction("File &emergency ticket\u2026")
        ticket.triggered.connect(lambda _=False, n=site.name: form(n))


def _add_snooze(sub: QMenu, site: SiteStatus, snooze: Callable[[str, str], None]) -> None:
    """Snooze entries: silence this site for a while (no notifications, no icon colour)."""
    sub.addSeparator()
    choices = [("Snooze 1 &hour", "hour"), ("Snooze until tomorrow &9:00", "tomorrow"),
               ("Snoo&ze\u2026", "ask")]
    if site.silenced == "snooze":
        choices.append(("&Unsnooze", "off"))
    for label, how in choices:
        action = sub.addAction(label)
        action.triggered.connect(lambda _=False, n=site.name, h=how: snooze(n, h))


def menu_texts(menu: QMenu) -> list[str]:
    """The visible entries, depth first, submenus indented: for tests and the status window."""
    out: list[str] = []

    def walk(m: QMenu, depth: int) -> None:
        if isinstance(m, LazyMenu):
            m.fill()  # what it would show when opened
        for action in m.actions():
            if action.isSeparator() or not action.isVisible():
                continue
            out.append("  " * depth + action.text())
            if action.menu() is not None:
                walk(action.menu(), depth + 1)  # type: ignore[arg-type]

    walk(menu, 0)
    return out


def find_action(menu: QMenu, text: str) -> QAction | None:
    """The first action (depth first) whose text, mnemonics removed, equals `text`."""
    if isinstance(menu, LazyMenu):
        menu.fill()
    for action in menu.actions():
        if action.text().replace("&&", "\0").replace("&", "").replace("\0", "&") == text:
            return action
        sub = action.menu()
        if sub is not None:
            found = find_action(sub, text)  # type: ignore[arg-type]
            if found is not None:
                return found
    return None
