"""Snoozes in the history (for the Lifeline window's strips): the monitor records when a
snooze starts and ends; the span is drawn over the state and still counts for uptime."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.config import Config, SiteConfig
from app.events import MaintenanceChanged, SnoozeChanged
from app.history import History
from app.models import SiteState
from app.silence import Silencer
from app.snooze import SnoozeStore
from app.timeline import Change, Span, build_timeline
from app.timeline_read import read_history
from tests.test_monitor import START
from tests.test_silence import harness

pytestmark = pytest.mark.anyio

SHOP = SiteConfig("shop", "https://shop.example/")


async def test_a_snooze_is_recorded_from_start_to_end_and_drawn_not_excused(
    tmp_path: Path,
) -> None:
    store = SnoozeStore(tmp_path / "snoozes.json")
    config = Config(sites=(SHOP,))
    history = History(tmp_path / "history.sqlite3")
    h = harness(config, Silencer(config, store), history)
    await h.until(START + timedelta(minutes=3))
    snoozed_at = h.clock.now()
    end = snoozed_at + timedelta(minutes=30)
    store.snooze("shop", end, now=snoozed_at)
    await h.checks(1, "shop")
    h.behaviour["shop"] = "http"
    await h.until(end - timedelta(minutes=10))
    h.behaviour["shop"] = "up"
    await h.until(end + timedelta(minutes=5))
    assert [e.active for e in h.of(SnoozeChanged)] == [True, False]
    await h.monitor.flush()
    now = h.clock.now()
    (span,) = history.maintenance_spans("shop", until=now, kind="snooze")
    assert snoozed_at <= span[0] <= snoozed_at + timedelta(minutes=2)
    assert end <= span[1] <= end + timedelta(minutes=2)
    # Snoozed is not maintenance: the outage inside it is still downtime.
    uptime = history.uptime("shop", timedelta(hours=24), now=now)
    assert uptime is not None and uptime < 0.9
    window = read_history(history, ["shop"], now=now).sites["shop"]
    down = [s for s in window.timeline.segments if s.kind == SiteState.DOWN.value]
    assert down and all(s.snoozed for s in down)
    assert down[0].label == "Down (snoozed)"
    assert window.uptime["24h"] == pytest.approx(uptime)
    history.close()


def test_snoozed_spans_split_segments_and_merge_back() -> None:
    t = START
    tl = build_timeline(
        start=t, end=t + timedelta(hours=4),
        changes=[Change(t - timedelta(hours=1), "operational")],
        watched=[Span(t, t + timedelta(hours=4))],
        snoozed=[Span(t + timedelta(hours=1), t + timedelta(hours=2)),
                 Span(t + timedelta(hours=2), t + timedelta(hours=3))],
    )
    assert [(s.kind, s.snoozed) for s in tl.segments] == [
        ("operational", False), ("operational", True), ("operational", False)
    ]
    assert tl.segments[1].end - tl.segments[1].start == timedelta(hours=2)


def test_a_restart_inside_a_snooze_or_window_records_it_once(tmp_path: Path) -> None:
    # A restarted monitor starts without silences and reports each open one again.
    path = tmp_path / "history.sqlite3"
    until = START + timedelta(hours=2)
    with History(path) as history:
        history.record(SnoozeChanged(at=START, site="shop", active=True, until=until))
        history.record(MaintenanceChanged(at=START, site="shop", active=True, until=until))
    later = START + timedelta(minutes=30)
    with History(path) as history:  # the restart: the same silences, reported again
        stored = history.record_many([
            SnoozeChanged(at=later, site="shop", active=True, until=until),
            MaintenanceChanged(at=later, site="shop", active=True, until=until),
            SnoozeChanged(at=later, site="blog", active=True, until=until),  # new: kept
        ])
        assert stored == 1
        # Moved to a later end: a change the window draws, so it is recorded.
        history.record(SnoozeChanged(at=later, site="shop", active=True,
                                     until=until + timedelta(hours=1)))
        history.record(SnoozeChanged(at=later, site="shop", active=False, until=None))
        history.record(SnoozeChanged(at=later + timedelta(minutes=1), site="shop",
                                     active=True, until=until))  # snoozed again: kept
        rows = history.transitions(kinds=("snooze",))
        assert len(history.transitions(kinds=("maintenance",))) == 1
    assert [(r.site, r.state, r.at) for r in rows] == [
        ("shop", "snoozed", START), ("blog", "snoozed", later), ("shop", "snoozed", later),
        ("shop", "ended", later), ("shop", "snoozed", later + timedelta(minutes=1)),
    ]
