"""Screenshots of the Lifeline window for the README: `python scripts/screenshot_window.py [DIR]`.

The real window in the real app (TrayApp, its Bridge and Monitor) watching the demo
simulator (app.demo) held in its "down" phase: shop down, blog with editors blocked,
docs fine. A day is not waited for: the 24 hours before now are written into the
demo's history first, following the demo's own phases (a slow spell, an origin outage,
a night with the laptop asleep, a maintenance window, a snooze, the current outage), with response
times per 5-minute bucket. Then the window is captured in the light and the dark scheme,
and with the detail pane open:

    window-light.png, window-dark.png, window-detail.png

Isolated like the other screenshot scripts (HOME, XDG dirs, offscreen Qt).
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.isolation import isolated  # noqa: E402

# (hours ago, demo phase from then on); None: the machine asleep, nothing watched.
DAY = (
    (24.0, "operational"),
    (19.0, "degraded"),
    (18.4, "operational"),
    (16.5, None),
    (10.0, "operational"),
    (7.5, "editors_blocked"),
    (6.8, "operational"),
    (0.6, "down"),
)
MAINTENANCE = ("docs", 4.0, 3.5)  # (site, from, to hours ago): a deploy window
STATE_OF = {"slow": "degraded", "blocked": "editors_blocked", "down": "down", "ok": "operational"}
BASE_SECONDS = {"shop": 0.42, "blog": 0.24, "docs": 0.61}
GROUPS = {"shop": "Client A", "blog": "Client A", "docs": ""}


def seed_history(path: Path, now: datetime) -> None:
    """The demo's last 24 hours as Lifeline would have recorded them."""
    from app.demo import BEHAVIOUR, SITES, SLOW_DELAY
    from app.events import MaintenanceChanged, SiteStateChanged, SnoozeChanged
    from app.history import History, TimingBucket
    from app.models import PointOfFailure, SiteState

    rng = random.Random(15)
    ago = [now - timedelta(hours=h) for h, _ in DAY] + [now]
    with History(path) as history:
        last: dict[str, str] = {}
        buckets: list[TimingBucket] = []
        for (start, end), (_, phase) in zip(zip(ago, ago[1:], strict=False), DAY, strict=True):
            if phase is None:
                continue
            history.mark_observed(start, continuous=False)
            for site in SITES:
                behaviour = BEHAVIOUR[phase].get(site, "ok")
                state = STATE_OF[behaviour]
                if last.get(site) != state:
                    before = SiteState(last[site]) if site in last else None
                    history.record(SiteStateChanged(
                        at=start, site=site, previous=before, state=SiteState(state),
                        point_of_failure=PointOfFailure.NONE if state == "operational"
                        else PointOfFailure.SITE,
                        reason=_reason(state),
                    ))
                    last[site] = state
            at = start
            while at < end:
                for site in SITES:
                    behaviour = BEHAVIOUR[phase].get(site, "ok")
                    base = SLOW_DELAY if behaviour == "slow" else BASE_SECONDS[site]
                    hour = (at.hour + 2) % 24
                    busy = 1.0 + 0.35 * (1 if 8 <= hour <= 18 else 0) + rng.random() * 0.25
                    mean = base * busy
                    buckets.append(TimingBucket(site, at, "anonymous", 5, mean * 0.7, mean,
                                                mean * (1.4 + rng.random())))
                at += timedelta(minutes=5)
            history.mark_observed(end)
        site, since, until = MAINTENANCE
        history.record(MaintenanceChanged(at=now - timedelta(hours=since), site=site,
                                          active=True, until=now - timedelta(hours=until)))
        history.record(MaintenanceChanged(at=now - timedelta(hours=until), site=site,
                                          active=False))
        history.record(SnoozeChanged(at=now - timedelta(hours=3), site="blog", active=True,
                                     until=now - timedelta(hours=2)))
        history.record(SnoozeChanged(at=now - timedelta(hours=2), site="blog", active=False))
        history.add_timings(buckets)


def _reason(state: str) -> str:
    return {
        "degraded": "Slower than 1.5 s for visitors (2.6 s)",
        "editors_blocked": "Visitors are served from the cache; the origin answers 503",
        "down": "Visitors get 502 Bad Gateway",
    }.get(state, "")


def shoot(out_dir: Path) -> list[Path]:
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from app.demo import start as start_demo
    from app.models import SiteState
    from app.paths import default_paths
    from ui.main import TrayApp

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    light = app.palette()
    held = [0.0]
    demo = start_demo(phase_seconds=60.0, clock=lambda: held[0])
    held[0] = 3 * 60.0 + 1  # the "down" phase, held while the shots are taken
    paths = replace(default_paths(), config_dir=demo.config_path.parent,
                    data_dir=demo.config_path.parent)
    config = replace(demo.config, sites=tuple(replace(s, group=GROUPS[s.name])
                                              for s in demo.config.sites))
    seed_history(paths.history_db, datetime.now(UTC))
    tray = TrayApp(app, paths, config, config_path=demo.config_path, started=time.monotonic(),
                   tray_wait_ms=600_000)
    written: list[Path] = []
    try:
        tray.start(first_run=False)

        def settled() -> bool:
            snap = tray.bridge.snapshot
            shop, blog = snap.site("shop"), snap.site("blog")
            return bool(shop and blog and shop.state is SiteState.DOWN
                        and blog.state is SiteState.EDITORS_BLOCKED and snap.platform)

        _wait(app, settled, "the demo's outage never showed")
        tray.open_window()
        window = tray.window
        assert window is not None
        window.resize(1180, 560)
        _reload(app, window)
        out_dir.mkdir(parents=True, exist_ok=True)
        written.append(_grab(app, window, out_dir / "window-light.png"))
        window.show_detail("shop")
        _wait(app, lambda: window.detail.transitions.count() > 1, "no transitions shown")
        window.list.setCurrentIndex(window.model.index(window.model.site_row("shop") or 0))
        written.append(_grab(app, window, out_dir / "window-detail.png"))
        window.detail.hide()
        window.list.clearSelection()
        app.setPalette(_dark_palette(QPalette, QColor))
        _reload(app, window)
        written.append(_grab(app, window, out_dir / "window-dark.png"))
        app.setPalette(light)
    finally:
        tray.bridge.stop()
        tray.close()
        demo.stop()
    return written


def _dark_palette(palette_type: type, colour: type) -> object:
    p = palette_type()
    role = palette_type.ColorRole
    for r, c in ((role.Window, "#323232"), (role.WindowText, "#E8E8E8"), (role.Base, "#262626"),
                 (role.AlternateBase, "#2E2E2E"), (role.Text, "#E8E8E8"),
                 (role.Button, "#3A3A3A"), (role.ButtonText, "#E8E8E8"),
                 (role.Highlight, "#2F5F8F"), (role.HighlightedText, "#FFFFFF"),
                 (role.ToolTipBase, "#262626"), (role.ToolTipText, "#E8E8E8"),
                 (role.Link, "#9CC8F5")):
        p.setColor(r, colour(c))
    return p


def _reload(app: object, window: object) -> None:
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    done: list[bool] = []
    window.historyLoaded.connect(lambda: done.append(True))  # type: ignore[attr-defined]
    window.reload()  # type: ignore[attr-defined]
    _wait(app, lambda: bool(done), "the history never arrived")


def _wait(app: object, ready: object, message: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(message)
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def _grab(app: object, widget: object, path: Path) -> Path:
    for _ in range(10):
        app.processEvents()  # type: ignore[attr-defined]
    widget.grab().save(str(path))  # type: ignore[attr-defined]
    return path


def shoot_isolated(out_dir: Path) -> list[Path]:
    with isolated(QT_QPA_PLATFORM="offscreen"):
        return shoot(out_dir)


if __name__ == "__main__":
    for shot in shoot_isolated(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"):
        print(shot)
