"""What the Lifeline window shows of the past, read from the history in one go: per
site, the timeline of the chosen range, the visitor probe's response-time points, and
uptime over 24 h, 7 d and 30 d. Runs on a worker thread, never the GUI thread.

Uptime is computed from the same 30-day timeline the strips are drawn from (watched,
known, outside maintenance, down counts against it), so a strip and the figure next to
it cannot disagree; it is the rule `History.uptime` applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.history import History
from app.timeline import Bucket, Change, Span, Timeline, build_timeline, uptime_share

RANGES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
UPTIME_WINDOWS = tuple(RANGES)  # the same three spans
SLOTS = 288  # sparkline points across any range: one per 5 minutes over 24 h


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
    longest = max(RANGES.values())
    since = now - longest
    watched = [Span(a, b) for a, b in history.coverage(since=since, until=now)]
    out: dict[str, SiteHistory] = {}
    for name in names:
        changes = [Change(at, state, reason) for at, state, reason in
                   history.state_changes(name, since=since, until=now)]
        maintenance = [Span(a, b) for a, b in history.maintenance_spans(name, until=now)]
        uptime = {
            key: uptime_share(
                build_timeline(
                    start=now - RANGES[key], end=now, changes=changes, watched=watched,
                    maintenance=maintenance, slots=1,
                )
            )
            for key in UPTIME_WINDOWS
        }
        buckets = [
            Bucket(b.start, b.count, b.min, b.mean, b.max)
            for b in history.timings(name, since=now - span, until=now, probe="anonymous")
        ]
        timeline = build_timeline(
            start=now - span, end=now, changes=changes, watched=watched,
            maintenance=maintenance, buckets=buckets, slots=SLOTS,
        )
        out[name] = SiteHistory(name, timeline, uptime)
    return WindowHistory(now, range_key, out)
