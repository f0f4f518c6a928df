"""What the Lifeline window shows of the past, read from the history in one go: per
site, the timeline of the chosen range, the visitor probe's response-time points, and
uptime over 24 h, 7 d and 30 d. Runs on a worker thread, never the GUI thread.

One 30-day timeline per site is built, and both the strip of the chosen range and the
three uptime figures are cut from it, so a strip and the figures next to it cannot
disagree; the rule is `History.uptime`'s (watched, known, outside maintenance; down
counts against it). Response times come per 5-minute bucket for 24 hours and per hour
beyond (a month of 5-minute buckets for 200 sites would be 1.7 million objects).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.history import History
from app.timeline import (
    Change,
    Series,
    Span,
    Timeline,
    clip,
    points,
    segments,
    uptime_share,
)

RANGES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
UPTIME_WINDOWS = tuple(RANGES)  # the same three spans
SLOTS = 288  # sparkline points across any range: one per 5 minutes over 24 h
FINE = timedelta(hours=24)  # up to this range, 5-minute buckets; beyond, hourly ones


@dataclass(frozen=True)
class SiteHistory:
    name: str
    timeline: Timeline  # the chosen range
    uptime: dict[str, float | None]  # "24h" | "7d" | "30d" -> 0..1, None: nothing known


@dataclass(frozen=True)
class WindowHistory:
    now: datetime
    range: str
    sites: dict[str, SiteHistory]


def read_history(
    history: History, names: Sequence[str], *, now: datetime, range_key: str = "24h"
) -> WindowHistory:
    span = RANGES[range_key]
    since = now - max(RANGES.values())
    watched = [Span(a, b) for a, b in history.coverage(since=since, until=now)]
    out: dict[str, SiteHistory] = {}
    for name in names:
        changes = [
            Change(at, state, reason)
            for at, state, reason in history.state_changes(name, since=since, until=now)
        ]
        maintenance = [Span(a, b) for a, b in history.maintenance_spans(name, until=now)]
        snoozed = [
            Span(a, b) for a, b in history.maintenance_spans(name, until=now, kind="snooze")
        ]
        month = Timeline(
            since,
            now,
            tuple(segments(since, now, changes, watched, maintenance, snoozed)),
            Series(),
        )
        uptime = {key: uptime_share(clip(month, now - RANGES[key], now)) for key in UPTIME_WINDOWS}
        buckets = history.timing_rows(
            name, since=now - span, until=now, probe="anonymous", hourly=span > FINE
        )
        timeline = Timeline(
            now - span,
            now,
            tuple(clip(month, now - span, now)),
            Series(points(buckets, now - span, now, SLOTS)),
        )
        out[name] = SiteHistory(name, timeline, uptime)
    return WindowHistory(now, range_key, out)
