"""Benchmark: the tray menu with 300 sites in 12 groups opens in under 50 ms.

`run()` starts this module as a child process on the bench desktop (Xvfb + trayer, the
real X11 platform; offscreen when there is none). The child builds the tray's real
TrayIcon over a stand-in monitor holding a 300-site snapshot (12 groups of 25, a few
sites down, degraded, pending or snoozed), then opens the menu as a user does, many
times: aboutToShow (the tray rebuilds the menu from memory: ui.menu.populate) through
the first paint of the menu on screen (updated in place when its shape held, as the
tray does), and again with the whole menu rebuilt first; and opening one group's
submenu (25 site entries made on demand). Reported: the median and the worst of each.

    python -m bench --only menu
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import PYTHON, log, run_process
from bench.desktop import app_env, desktop, isolated_env

SITES, GROUPS, OPENINGS = 300, 12, 41
TARGET_MS = 50.0


def run(openings: int = OPENINGS) -> dict[str, Any]:
    with isolated_env() as (env, _home), desktop() as screen:
        log(f"menu: {SITES} sites in {GROUPS} groups, {openings} openings "
            f"({'Xvfb + trayer' if screen else 'offscreen'})")
        proc = run_process([PYTHON, "-m", "bench.grouped_menu", str(openings)],
                           env=app_env(env, screen), timeout=300)
        got: dict[str, Any] = proc.json()
    got["platform"] = "xcb (Xvfb + trayer)" if screen else "offscreen"
    got["target_ms"] = TARGET_MS
    return got


def _snapshot() -> tuple[Any, Any]:
    from app.config import Config, SiteConfig
    from app.events import MonitorSnapshot, SiteStatus
    from app.models import OverallState, PointOfFailure, SiteState

    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    sites, statuses = [], []
    for n in range(SITES):
        group = f"Client {chr(ord('A') + n % GROUPS)}"
        name = f"site-{n:03d}"
        sites.append(SiteConfig(name, f"https://{name}.example/", group=group))
        state = (SiteState.DOWN if n % 37 == 0 else SiteState.DEGRADED if n % 23 == 0
                 else SiteState.OPERATIONAL)
        statuses.append(SiteStatus(
            name=name, url=f"https://{name}.example/", environment="live", state=state,
            point_of_failure=PointOfFailure.SITE if not state.is_good else PointOfFailure.NONE,
            reason="502 Bad Gateway" if state is SiteState.DOWN else "", group=group,
            pending=n % 41 == 0, suspected=SiteState.DOWN if n % 41 == 0 else None,
            silenced="snooze" if n % 53 == 0 else None,
            silenced_until=now + timedelta(hours=1) if n % 53 == 0 else None,
            last_checked=now, uptime_24h=0.999,
        ))
    config = Config(sites=tuple(sites))
    snapshot = MonitorSnapshot(overall=OverallState.DOWN, sites=tuple(statuses), last_check=now)
    return config, snapshot


def child(openings: int) -> dict[str, Any]:
    from PySide6.QtCore import QEvent, QObject, QPoint
    from PySide6.QtWidgets import QApplication

    from app.events import CheckCompleted
    from tests.fake_monitor import FakeMonitor
    from ui.bridge import Bridge
    from ui.icons import IconSet
    from ui.menu import GroupMenu
    from ui.tray import TrayIcon

    app = QApplication(sys.argv[:1])
    config, snapshot = _snapshot()
    monitor = FakeMonitor(config)
    bridge = Bridge(monitor, config)
    tray = TrayIcon(bridge, IconSet(), open_settings=lambda: None, on_quit=lambda: None,
                    show_error=lambda m: None, open_ticket_form=lambda s: None,
                    clock=lambda: snapshot.last_check)
    tray.snooze_site = lambda site, how: None
    bridge.start()
    while monitor.loop is None:
        app.processEvents()
    monitor.emit(CheckCompleted(at=snapshot.last_check, snapshot=snapshot))
    while bridge.snapshot is not snapshot:
        app.processEvents()

    painted: list[float] = []

    class Paints(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint and not painted:
                painted.append(time.perf_counter())
            return False

    def open_until_painted(menu: Any, where: QPoint, *, rebuild: bool = False) -> float:
        painted.clear()
        menu.installEventFilter(watcher)
        t0 = time.perf_counter()
        if rebuild:
            tray.rebuild_menu()  # as after a new snapshot changed the menu's shape
        menu.popup(where)  # aboutToShow first: the tray rebuilds the menu from memory
        deadline = t0 + 5
        while not painted and time.perf_counter() < deadline:
            app.processEvents()
        menu.removeEventFilter(watcher)
        elapsed = ((painted[0] if painted else time.perf_counter()) - t0) * 1000
        menu.hide()
        app.processEvents()
        return elapsed

    watcher = Paints()
    menu_ms = [open_until_painted(tray.menu, QPoint(20, 20)) for _ in range(openings)]
    rebuilt_ms = [
        open_until_painted(tray.menu, QPoint(20, 20), rebuild=True) for _ in range(openings)
    ]
    rebuilds = tray.menu_rebuilds
    group_ms = []
    for n in range(openings):
        tray.rebuild_menu()  # fresh submenus: each opening fills its 25 entries
        tray.menu.popup(QPoint(20, 20))
        app.processEvents()
        groups = [a.menu() for a in tray.menu.actions() if isinstance(a.menu(), GroupMenu)]
        group_ms.append(open_until_painted(groups[n % len(groups)], QPoint(320, 20)))
        tray.menu.hide()
        app.processEvents()
    entries = len(tray.menu.actions())
    bridge.stop()
    bridge.join(10)
    return {
        "sites": SITES,
        "groups": len(groups),
        "openings": openings,
        "top_level_entries": entries,
        "rebuilds": rebuilds,
        "menu_open_ms_median": round(statistics.median(menu_ms), 2),
        "menu_open_ms_max": round(max(menu_ms), 2),
        "menu_rebuild_open_ms_median": round(statistics.median(rebuilt_ms), 2),
        "menu_rebuild_open_ms_max": round(max(rebuilt_ms), 2),
        "group_open_ms_median": round(statistics.median(group_ms), 2),
        "group_open_ms_max": round(max(group_ms), 2),
    }


if __name__ == "__main__":
    print(json.dumps(child(int(sys.argv[1]) if len(sys.argv) > 1 else OPENINGS)))
