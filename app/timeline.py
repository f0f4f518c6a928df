"""A site's past as pictures: transitions and response-time buckets in, segments and
points out. Pure: no clock, no disk, no Qt; the window (ui/window/) only paints this.

A segment is a stretch of one state. Time the monitor was not watching (the app closed,
the machine asleep, the user's own network down) is `UNWATCHED`: drawn blank, never as
"up". Maintenance spans are their own kind, over whatever state the site was in (and
over unwatched time too: the window was planned either way). Time before the first known
state of the site is unwatched as well.

A point is the visitor probe's response time over one slot of the strip: `slots` slots
across [start, end), each merging the 5-minute buckets that fall in it (count, min,
count-weighted mean, max). Slots with no checks are absent, so the sparkline breaks
where nothing was measured instead of drawing a line through the gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.models import SiteState

UNWATCHED = "unwatched"  # not watching: blank
MAINTENANCE = "maintenance"  # a maintenance window: neither up nor down


@dataclass(frozen=True)
class Change:
    """A site's state from `at` on (its transitions, plus the last one before the range)."""

    at: datetime
    state: str  # a SiteState value
    reason: str = ""


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    kind: str  # a SiteState value, UNWATCHED or MAINTENANCE
    reason: str = ""

    @property
    def label(self) -> str:
        """The word a tooltip names it by: never colour alone."""
        if self.kind == UNWATCHED:
            return "Not watching"
        if self.kind == MAINTENANCE:
            return "Maintenance window"
        try:
            return SiteState(self.kind).label
        except ValueError:
            return self.kind


@dataclass(frozen=True)
class Bucket:
    """One probe's response times over one 5-minute bucket, in seconds."""

    start: datetime
    count: int
    min: float
    mean: float
    max: float


@dataclass(frozen=True)
class Point:
    start: datetime
    end: datetime
    count: int
    min: float
    mean: float
    max: float


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    segments: tuple[Segment, ...]
    points: tuple[Point, ...]

    def segment_at(self, when: datetime) -> Segment | None:
        return next((s for s in self.segments if s.start <= when < s.end), None)


def build_timeline(
    *,
    start: datetime,
    end: datetime,
    changes: Sequence[Change],
    watched: Iterable[Span],
    maintenance: Iterable[Span] = (),
    buckets: Iterable[Bucket] = (),
    slots: int = 288,
) -> Timeline:
    """The segments of [start, end) and the sparkline's points (see the module doc).

    `changes` sorted by time; `watched` and `maintenance` in any order, overlapping or not.
    """
    if end <= start:
        return Timeline(start, end, (), ())
    watched_spans = _union(watched, start, end)
    maintenance_spans = _union(maintenance, start, end)
    pieces: list[Segment] = []
    for piece_start, piece_end, change in _states(changes, start, end):
        for a, b, inside in _split(piece_start, piece_end, watched_spans):
            kind = change.state if inside and change is not None else UNWATCHED
            pieces.append(Segment(a, b, kind, change.reason if change and inside else ""))
    overlaid: list[Segment] = []
    for seg in pieces:
        for a, b, inside in _split(seg.start, seg.end, maintenance_spans):
            overlaid.append(
                Segment(a, b, MAINTENANCE, "In a maintenance window")
                if inside
                else Segment(a, b, seg.kind, seg.reason)
            )
    return Timeline(start, end, tuple(_merge(overlaid)), tuple(points(buckets, start, end, slots)))


def points(buckets: Iterable[Bucket], start: datetime, end: datetime, slots: int) -> list[Point]:
    """The buckets merged into `slots` equal slots across [start, end); empty ones left out."""
    width = (end - start) / max(1, slots)
    acc: dict[int, list[float]] = {}  # slot -> [count, min, sum, max]
    for b in buckets:
        if b.count <= 0 or not start <= b.start < end:
            continue
        i = min(slots - 1, int((b.start - start) / width))
        slot = acc.get(i)
        if slot is None:
            acc[i] = [b.count, b.min, b.mean * b.count, b.max]
        else:
            slot[0] += b.count
            slot[1] = min(slot[1], b.min)
            slot[2] += b.mean * b.count
            slot[3] = max(slot[3], b.max)
    return [
        Point(start + width * i, start + width * (i + 1), int(n), lo, total / n, hi)
        for i, (n, lo, total, hi) in sorted(acc.items())
    ]


def uptime_share(timeline: Timeline) -> float | None:
    """The share of watched, known, non-maintenance time visitors were served (0..1)."""
    known = down = 0.0
    for seg in timeline.segments:
        if seg.kind in (UNWATCHED, MAINTENANCE, SiteState.UNKNOWN.value):
            continue
        seconds = (seg.end - seg.start).total_seconds()
        known += seconds
        if seg.kind == SiteState.DOWN.value:
            down += seconds
    return None if known <= 0 else 1.0 - down / known


# ---------------------------------------------------------------------- helpers


def _states(
    changes: Sequence[Change], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, Change | None]]:
    out: list[tuple[datetime, datetime, Change | None]] = []
    current: Change | None = None
    cursor = start
    for change in changes:
        if change.at <= start:
            current = change
            continue
        if change.at >= end:
            break
        if change.at > cursor:
            out.append((cursor, change.at, current))
            cursor = change.at
        current = change
    if end > cursor:
        out.append((cursor, end, current))
    return out


def _union(
    spans: Iterable[Span], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    clipped = sorted(
        (max(s.start, start), min(s.end, end)) for s in spans if s.end > start and s.start < end
    )
    out: list[tuple[datetime, datetime]] = []
    for a, b in clipped:
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _split(
    a: datetime, b: datetime, spans: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime, bool]]:
    """[a, b) cut into pieces inside and outside `spans` (sorted, disjoint)."""
    out: list[tuple[datetime, datetime, bool]] = []
    cursor = a
    for s, e in spans:
        if e <= cursor or s >= b:
            continue
        if s > cursor:
            out.append((cursor, s, False))
        out.append((max(s, cursor), min(e, b), True))
        cursor = min(e, b)
    if cursor < b:
        out.append((cursor, b, False))
    return out


def _merge(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for seg in segments:
        if seg.end <= seg.start:
            continue
        last = out[-1] if out else None
        if last and last.kind == seg.kind and last.reason == seg.reason and last.end == seg.start:
            out[-1] = Segment(last.start, seg.end, seg.kind, seg.reason)
        else:
            out.append(seg)
    return out
