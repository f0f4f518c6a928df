"""Planned maintenance (issue 19): check --json, the menu, the 24 h / 1 h notices, the ticket.

Every test passes its own time: nothing here reads today's date or the time of day.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QMenu

from app import planned
from app.check import run_check
from app.config import Config, ProviderConfig, SiteConfig, parse_config
from app.events import CheckCompleted, MonitorSnapshot
from app.models import Maintenance, OverallState, PlatformState, PlatformStatus, PointOfFailure
from app.notices import Level, Notification
from app.paths import Paths
from app.probes import ProbeOptions
from app.report import format_report, report_to_json
from app.statuspage import parse_summary
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply
from ui.icons import IconSet
from ui.menu import MenuHandlers, MenuState, find_action, menu_texts, populate
from ui.notifications import Notifier

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
BERLIN = ZoneInfo("Europe/Berlin")  # CET in March


def scheduled(
    name: str = "Database upgrade",
    start: datetime = NOW + timedelta(hours=3),
    hours: float = 1,
    ident: str = "k7lqv3pl0r2x",
    status: str = "scheduled",
    link: str | None = None,
) -> dict[str, Any]:
    """A maintenance as summary.json lists it (the documented schema)."""
    def stamp(at: datetime) -> str:
        return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    return {
        "id": ident,
        "name": name,
        "status": status,
        "impact": "maintenance",
        "shortlink": link if link is not None else f"https://stspg.io/{ident}",
        "scheduled_for": stamp(start),
        "scheduled_until": stamp(start + timedelta(hours=hours)),
        "components": [{"id": "c1", "name": "Sites", "status": "operational"}],
        "incident_updates": [{"status": status, "body": "Planned."}],
    }


def platform_with(*maintenances: dict[str, Any]) -> PlatformStatus:
    data = summary_payload(scheduled_maintenances=list(maintenances))
    return parse_summary(data, page_url="https://status.example.test")


# --------------------------------------------------------------------------- pure parts


def test_upcoming_is_the_next_seven_days_soonest_first() -> None:
    status = platform_with(
        scheduled("In eight days", NOW + timedelta(days=8), ident="a"),
        scheduled("Tomorrow", NOW + timedelta(days=1), ident="b"),
        scheduled("Soon", NOW + timedelta(hours=3), ident="c"),
        scheduled("Started, page not updated", NOW - timedelta(minutes=5), ident="d"),
    )
    assert [m.name for m in planned.upcoming(status, NOW)] == ["Soon", "Tomorrow"]
    assert planned.upcoming(None, NOW) == []


def test_window_text_in_the_users_zone_with_the_zone_named() -> None:
    [m] = platform_with(scheduled(start=datetime(2026, 3, 3, 21, 0, tzinfo=UTC))).upcoming
    assert planned.window_text(m, NOW.astimezone(BERLIN)) == "Tue 22:00\u201323:00 (CET)"
    assert planned.window_text(m, NOW) == "Tue 21:00\u201322:00 (UTC)"
    overnight = platform_with(scheduled(start=datetime(2026, 3, 3, 22, 30, tzinfo=UTC), hours=3))
    assert planned.window_text(overnight.upcoming[0], NOW.astimezone(BERLIN)) == (
        "Tue 23:30 \u2013 Wed 02:30 (CET)"
    )
    assert planned.window_text(Maintenance("x", "scheduled", ""), NOW) == "time not given"


def test_time_until_in_words() -> None:
    assert planned.time_until(NOW + timedelta(minutes=45), NOW) == "45 min"
    assert planned.time_until(NOW + timedelta(hours=3, minutes=10), NOW) == "3 h"
    assert planned.time_until(NOW + timedelta(hours=23, minutes=50), NOW) == "24 h"
    assert planned.time_until(NOW + timedelta(days=2), NOW) == "2 days"


def test_parse_time_tolerates_garbage() -> None:
    assert planned.parse_time("2026-03-02T15:00:00.000Z") == datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert planned.parse_time("2026-03-02T16:00:00+01:00") == datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert planned.parse_time("next tuesday") is None and planned.parse_time(None) is None


def test_maintenance_near_an_outage() -> None:
    status = platform_with(
        scheduled("Starts in 40 min", NOW + timedelta(minutes=40), ident="a"),
        scheduled("Starts in 3 h", NOW + timedelta(hours=3), ident="b"),
    )
    assert [m.name for m in planned.near(status, NOW)] == ["Starts in 40 min"]
    # One in progress that ends 30 min after the outage began counts too.
    ending = platform_with(
        scheduled("Ending", NOW - timedelta(hours=1), hours=1.5, status="in_progress")
    )
    assert [m.name for m in planned.near(ending, NOW)] == ["Ending"]
    assert planned.near(ending, NOW + timedelta(hours=2)) == []


# --------------------------------------------------------------------------- check --json


def status_page_config(server: LoopbackServer, **provider: Any) -> Config:
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in provider.items())
    return parse_config(
        f'[provider]\nstatus_page = "{server.url}/status"\n{extra}\n'
        f'[[site]]\nname = "shop"\nurl = "{server.url}/ok"\n'
    )


def test_a_maintenance_three_hours_ahead_is_in_check_json(server: LoopbackServer) -> None:
    server.route("/ok", Reply(200, "<title>fine</title>"))
    server.route(
        "/status/api/v2/summary.json",
        Reply.json(summary_payload(scheduled_maintenances=[
            scheduled(), scheduled("Next week", NOW + timedelta(days=8), ident="later"),
            scheduled("Plain http", NOW + timedelta(hours=5), ident="h", link="http://x.test/"),
        ])),
    )
    report = asyncio.run(
        run_check(status_page_config(server), options=ProbeOptions(timeout=2, retries=0),
                  clock=lambda: NOW)
    )
    doc = report_to_json(report)
    assert doc["platform"]["state"] == "operational"
    assert doc["platform"]["upcoming"] == [
        {
            "name": "Database upgrade",
            "starts": "2026-03-02T15:00:00Z",
            "ends": "2026-03-02T16:00:00Z",
            "components": ["Sites"],
            "url": "https://stspg.io/k7lqv3pl0r2x",
        },
        {
            "name": "Plain http",
            "starts": "2026-03-02T17:00:00Z",
            "ends": "2026-03-02T18:00:00Z",
            "components": ["Sites"],
            # An http shortlink is never passed on; the page's own https link stands in.
            "url": "https://www.githubstatus.com/incidents/h",
        },
    ]
    text = format_report(report).splitlines()
    assert (
        "  planned: Database upgrade [Mon 15:00\u201316:00 (UTC)] https://stspg.io/k7lqv3pl0r2x"
    ) in text
    assert not any("Next week" in line for line in text)


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_check_json_subprocess_at_a_fixed_time(server: LoopbackServer, tmp_path: Path) -> None:
    # The real command, its clock set by libfaketime (the server keeps the real time).
    server.route("/ok", Reply(200, "<title>fine</title>"))
    server.route("/status/api/v2/summary.json",
                 Reply.json(summary_payload(scheduled_maintenances=[scheduled()])))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[provider]\nstatus_page = "{server.url}/status"\n'
        f'[[site]]\nname = "shop"\nurl = "{server.url}/ok"\n'
    )
    done = subprocess.run(
        ["faketime", "-f", "@2026-03-02 12:00:00", sys.executable, "-m", "app", "check",
         "--config", str(config), "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ, "TZ": "UTC"},
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["checked_at"].startswith("2026-03-02T12:00")
    assert [(u["name"], u["starts"]) for u in doc["platform"]["upcoming"]] == [
        ("Database upgrade", "2026-03-02T15:00:00Z")
    ]


def test_check_honours_provider_components(server: LoopbackServer) -> None:
    data = summary_payload(status={"indicator": "major", "description": "Major Service Outage"})
    data["components"][1]["status"] = "major_outage"  # API Requests
    server.route("/ok", Reply(200, "<title>fine</title>"))
    server.route("/status/api/v2/summary.json", Reply.json(data))
    options = ProbeOptions(timeout=2, retries=0)
    watched = status_page_config(server, components=["Git*"])
    report = asyncio.run(run_check(watched, options=options, clock=lambda: NOW))
    doc = report_to_json(report)
    assert doc["platform"]["state"] == "operational"
    assert doc["platform"]["components"] == [
        {"name": "API Requests", "status": "major_outage", "counted": False}
    ]
    every = asyncio.run(run_check(status_page_config(server), options=options,
                                  clock=lambda: NOW))
    assert every.platform.state is PlatformState.OUTAGE


# --------------------------------------------------------------------------- the menu


class Opened:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def handlers(self) -> MenuHandlers:
        def nothing(*_: Any) -> None:
            return None

        return MenuHandlers(open_url=self.urls.append, check_now=nothing,
                            open_settings=nothing, pause=nothing, about=nothing, quit=nothing)


def snapshot_with(platform: PlatformStatus) -> MonitorSnapshot:
    return MonitorSnapshot(overall=OverallState.OPERATIONAL, point_of_failure=PointOfFailure.NONE,
                           platform=platform, last_check=NOW)


def test_menu_shows_the_next_planned_maintenance(qapp: Any) -> None:
    platform = platform_with(
        scheduled(start=datetime(2026, 3, 2, 15, 0, tzinfo=UTC)),
        scheduled("Network work", datetime(2026, 3, 4, 1, 0, tzinfo=UTC), ident="n2"),
    )
    menu, opened = QMenu(), Opened()
    config = Config(provider=ProviderConfig(name="Pantheon"),
                    sites=(SiteConfig(name="shop", url="https://shop.example.test/"),))
    populate(menu, snapshot_with(platform), config, opened.handlers(), IconSet(),
             MenuState(now=NOW.astimezone(BERLIN)))
    top = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert top[1] == "Pantheon: Operational (All Systems Operational)"
    assert top[2] == "    Planned: Database upgrade, Mon 16:00\u201317:00 (CET)"
    menu.actions()[2].trigger()
    assert opened.urls == ["https://stspg.io/k7lqv3pl0r2x"]
    # The platform submenu lists every planned one and the way to subscribe.
    texts = menu_texts(menu)
    assert "  Planned: Network work, Wed 02:00\u201303:00 (CET)" in texts
    subscribe = find_action(menu, "Subscribe to status updates\u2026")
    assert subscribe is not None and subscribe.isEnabled()
    subscribe.trigger()
    assert opened.urls[-1] == "https://www.githubstatus.com"


def test_menu_without_planned_maintenance_has_no_planned_line(qapp: Any) -> None:
    menu = QMenu()
    populate(menu, snapshot_with(platform_with()), Config(), Opened().handlers(), IconSet(),
             MenuState(now=NOW))
    assert not any("Planned" in t for t in menu_texts(menu))


def test_menu_platform_line_never_contradicts_the_page(qapp: Any) -> None:
    data = summary_payload(
        status={"indicator": "minor", "description": "Partially Degraded Service"},
        incidents=[{"id": "p1", "name": "Packages unavailable", "status": "identified",
                    "impact": "major", "shortlink": "https://stspg.io/p1"}],
    )
    menu = QMenu()
    populate(menu, snapshot_with(parse_summary(data)), Config(), Opened().handlers(),
             IconSet(), MenuState(now=NOW))
    full = (
        "Pantheon: Outage ('Packages unavailable' (major, identified); the page's "
        "indicator says minor)"
    )
    # The entry is cut (issue 20: one long reason made the menu 650 px wide); its
    # submenu, reachable by the arrow keys, says the rest.
    entry = menu.actions()[1]
    assert entry.text().endswith("\u2026") and full.startswith(entry.text()[:-1])
    sub = entry.menu()
    assert sub is not None
    sub.aboutToShow.emit()
    detail = " ".join(a.text() for a in sub.actions() if a.isEnabled())
    assert "the page's indicator says minor" in detail


# --------------------------------------------------------------------------- notices


def notifier_at(
    clock: dict[str, datetime], shown: list[Notification], state_file: Path
) -> Notifier:
    """A notifier as the tray makes it, its ledger in `state_file` (read when made)."""
    return Notifier(shown.append, provider_name="Pantheon", clock=lambda: clock["now"],
                    planned_notices=planned.PlannedNotices(state_file))


def test_24h_and_1h_notices_once_each_across_a_restart(qapp: Any, paths: Paths) -> None:
    start = NOW + timedelta(hours=30)
    check = CheckCompleted(at=NOW, snapshot=snapshot_with(platform_with(scheduled(start=start))))
    clock = {"now": NOW.astimezone(BERLIN)}
    shown: list[Notification] = []
    notifier = notifier_at(clock, shown, paths.planned_notices)

    def at(moment: datetime) -> None:
        clock["now"] = moment.astimezone(BERLIN)
        notifier.handle(check)

    at(start - timedelta(hours=30))  # too early for either
    assert shown == []
    at(start - timedelta(hours=23, minutes=59))
    at(start - timedelta(hours=20))
    assert [n.title for n in shown] == ["Pantheon maintenance in 24 h: Database upgrade"]
    assert shown[0].body == "Tue 19:00\u201320:00 (CET). Affects: Sites."
    assert shown[0].level is Level.INFO and shown[0].down_sites == ()

    notifier = notifier_at(clock, shown, paths.planned_notices)  # a restart
    at(start - timedelta(hours=2))
    assert len(shown) == 1  # remembered: not shown again
    at(start - timedelta(minutes=50))
    at(start - timedelta(minutes=10))
    notifier = notifier_at(clock, shown, paths.planned_notices)  # another restart
    at(start - timedelta(minutes=5))
    at(start + timedelta(minutes=5))  # started: nothing more
    assert [n.title for n in shown] == [
        "Pantheon maintenance in 24 h: Database upgrade",
        "Pantheon maintenance in 50 min: Database upgrade",
    ]
    saved = json.loads(paths.planned_notices.read_text())
    assert saved["version"] == 1 and len(saved["sent"]) == 2


def test_first_seen_within_the_hour_gets_only_the_1h_notice(qapp: Any, paths: Paths) -> None:
    clock = {"now": NOW}
    shown: list[Notification] = []
    notifier = notifier_at(clock, shown, paths.planned_notices)
    start = NOW + timedelta(minutes=30)
    notifier.handle(CheckCompleted(at=NOW, snapshot=snapshot_with(
        platform_with(scheduled(start=start)))))
    assert [n.title for n in shown] == ["Pantheon maintenance in 30 min: Database upgrade"]


def test_pause_holds_a_notice_back_until_it_ends_within_its_window(
    qapp: Any, paths: Paths
) -> None:
    clock = {"now": NOW}
    shown: list[Notification] = []
    notifier = notifier_at(clock, shown, paths.planned_notices)
    check = CheckCompleted(at=NOW, snapshot=snapshot_with(
        platform_with(scheduled(start=NOW + timedelta(hours=3)))))
    notifier.pause("hour")
    notifier.handle(check)
    assert shown == []
    clock["now"] = NOW + timedelta(minutes=61)  # pause over, still more than 1 h ahead
    notifier.handle(check)
    assert [n.title for n in shown] == ["Pantheon maintenance in 2 h: Database upgrade"]


def test_a_moved_maintenance_is_announced_again(paths: Paths) -> None:
    ledger = planned.PlannedNotices(paths.planned_notices)
    first = platform_with(scheduled(start=NOW + timedelta(hours=3))).upcoming
    due = ledger.due(first, NOW)
    ledger.mark_shown(due, NOW)
    assert ledger.due(first, NOW) == []
    moved = platform_with(scheduled(start=NOW + timedelta(hours=5))).upcoming
    assert [n.lead for n in ledger.due(moved, NOW)] == ["24h"]


def test_unreadable_ledger_starts_afresh(paths: Paths, caplog: Any) -> None:
    paths.planned_notices.parent.mkdir(parents=True, exist_ok=True)
    paths.planned_notices.write_text("{not json")
    ledger = planned.PlannedNotices(paths.planned_notices)
    assert ledger.shown() == set()
    assert "unreadable" in caplog.text
    paths.planned_notices.write_text('["a list"]')
    assert planned.PlannedNotices(paths.planned_notices).shown() == set()


def test_old_notices_are_forgotten(paths: Paths) -> None:
    ledger = planned.PlannedNotices(paths.planned_notices)
    ledger.mark_shown(ledger.due(platform_with(scheduled()).upcoming, NOW), NOW)
    later = NOW + timedelta(days=5)
    other = platform_with(scheduled("Other", later + timedelta(hours=2), ident="o")).upcoming
    ledger.mark_shown(ledger.due(other, later), later)
    assert len(ledger.shown()) == 1  # the first one's start is more than 2 days past


# --------------------------------------------------------------------------- the ticket


def ticket_text(platform: PlatformStatus) -> str:
    from app.models import SiteState
    from app.tickets.builder import Evidence, build_description

    evidence = Evidence(
        site=SiteConfig(name="shop", url="https://shop.example.test/"),
        state=SiteState.DOWN,
        point_of_failure=PointOfFailure.SITE,
        reason="502 Bad Gateway",
        detected_at=NOW + timedelta(minutes=2),
        started_at=NOW,
        platform=platform,
    )
    return build_description(evidence, ProviderConfig(name="Pantheon"))


def test_ticket_mentions_a_maintenance_starting_within_the_hour() -> None:
    text = ticket_text(platform_with(
        scheduled(start=NOW + timedelta(minutes=40)),
        scheduled("Far off", NOW + timedelta(hours=5), ident="far"),
    ))
    assert (
        "Maintenance near this outage: Database upgrade (scheduled, 2026-03-02 12:40:00 UTC "
        "to 2026-03-02 13:40:00 UTC) https://stspg.io/k7lqv3pl0r2x"
    ) in text.splitlines()
    assert "Far off" not in text


def test_ticket_mentions_a_maintenance_that_just_ended() -> None:
    ended = platform_with(scheduled(start=NOW - timedelta(hours=2), hours=1.5,
                                    status="verifying"))
    assert "Maintenance near this outage: Database upgrade (verifying," in ticket_text(ended)
    assert "Maintenance near" not in ticket_text(platform_with())


def test_ticket_platform_words_never_contradict_the_page() -> None:
    data = summary_payload(
        status={"indicator": "minor", "description": "Partially Degraded Service"},
        incidents=[{"id": "p1", "name": "Packages unavailable", "status": "identified",
                    "impact": "major"}],
    )
    assert (
        "Pantheon status page: 'Packages unavailable' (major, identified); the page's "
        "indicator says minor"
    ) in ticket_text(parse_summary(data)).splitlines()


def test_first_run_welcome_mentions_subscribing() -> None:
    from ui.settings.dialog import WELCOME

    assert "Subscribe to status updates\u2026" in WELCOME
