"""A site's past as pictures: transitions and response-time buckets in, segments and
points out. Pure: no clock, no disk, no Qt; the window (ui/window/) only paints this.

A segment is a stretch of one state. Time the monitor was not watching (the app closed,
the machine asleep, the user's own network down) is `UNWATCHED`: drawn blank, never as
"up". Maintenance spans are their own kind, over whatever state the site was in (and
over unwatched time too: the window was planned either way). Time before the first known
state of the site is unwatched as well.

A timeline keeps its points as a Series: six arrays of numbers, not 288 objects. A
window of 200 sites would otherwise hold some 55,000 objects the garbage collector walks
on every full collection, while holding the GIL (and so the GUI thread: 20-50 ms in
bench/window.py). Iterating a Series still gives Points, made as they are read.

A point is the visitor probe's response time over one slot of the strip: `slots` slots
across [start, end), each merging the 5-minute buckets that fall in it (count, min,
count-weighted mean, max). Slots with no checks are absent, so the sparkline breaks
where nothing was measured instead of drawing a line through the gap.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

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


class Segment(NamedTuple):
    start: datetime
    end: datetime
    kind: str  # a SiteState value, UNWATCHED or MAINTENANCE
    reason: str = ""
    snoozed: bool = False  # the site was snoozed: drawn over the state, still counted

    @property
    def label(self) -> str:
        """The word a tooltip names it by: never colour alone."""
        if self.kind == UNWATCHED:
            word = "Not watching"
        elif self.kind == MAINTENANCE:
            word = "Maintenance window"
        else:
            try:
                word = SiteState(self.kind).label
            except ValueError:
                word = self.kind
        return f"{word} (snoozed)" if self.snoozed else word


@dataclass(frozen=True)
class Bucket:
    """One probe's response times over one 5-minute bucket, in seconds."""

    start: datetime
    count: int
    min: float
    mean: float
    max: float


RawBucket = tuple[float, int, float, float, float]  # epoch seconds, count, min, mean, max


class Point(NamedTuple):
    start: datetime
    end: datetime
    checks: int  # how many checks answered (not `count`: that is the tuple's method)
    min: float
    mean: float
    max: float


class Series:
    """Points as arrays (see the module doc); iterating gives Point objects."""

    __slots__ = ("starts", "ends", "checks", "mins", "means", "maxs")

    def __init__(self, pts: Iterable[Point] = ()) -> None:
        self.starts, self.ends = array("d"), array("d")
        self.checks = array("q")
        self.mins, self.means, self.maxs = array("d"), array("d"), array("d")
        for pt in pts:
            self.starts.append(pt.start.timestamp())
            self.ends.append(pt.end.timestamp())
            self.checks.append(pt.checks)
            self.mins.append(pt.min)
            self.means.append(pt.mean)
            self.maxs.append(pt.max)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> Point:
        return Point(
            datetime.fromtimestamp(self.starts[i], UTC),
            datetime.fromtimestamp(self.ends[i], UTC),
            self.checks[i],
            self.mins[i],
            self.means[i],
            self.maxs[i],
        )

    def __iter__(self) -> Iterator[Point]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Series | tuple | list) else False

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    segments: tuple[Segment, ...]
    points: Series

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
    snoozed: Iterable[Span] = (),
) -> Timeline:
    """The segments of [start, end) and the sparkline's points (see the module doc).

    `changes` sorted by time; `watched` and `maintenance` in any order, overlapping or not.
    """
    if end <= start:
        return Timeline(start, end, (), Series())
    return Timeline(
        start,
        end,
        tuple(segments(start, end, changes, watched, maintenance, snoozed)),
        Series(points(buckets, start, end, slots)),
    )


def segments(
    start: datetime,
    end: datetime,
    changes: Sequence[Change],
    watched: Iterable[Span],
    maintenance: Iterable[Span] = (),
    snoozed: Iterable[Span] = (),
) -> list[Segment]:
    """The segments of [start, end): one sweep over every boundary (a change, a watched
    span's start or end, a maintenance window's), so a month of a busy site stays cheap."""
    watched_spans = _union(watched, start, end)
    maintenance_spans = _union(maintenance, start, end)
    snooze_spans = _union(snoozed, start, end)
    bounds = {start, end}
    bounds.update(c.at for c in changes if start < c.at < end)
    for a, b in (*watched_spans, *maintenance_spans, *snooze_spans):
        bounds.update((a, b))
    cuts = sorted(bounds)
    out: list[Segment] = []
    state_i = w_i = m_i = s_i = 0
    current: Change | None = None
    for a, b in zip(cuts, cuts[1:], strict=False):
        while state_i < len(changes) and changes[state_i].at <= a:
            current = changes[state_i]
            state_i += 1
        while w_i < len(watched_spans) and watched_spans[w_i][1] <= a:
            w_i += 1
        while m_i < len(maintenance_spans) and maintenance_spans[m_i][1] <= a:
            m_i += 1
        while s_i < len(snooze_spans) and snooze_spans[s_i][1] <= a:
            s_i += 1
        snooze = s_i < len(snooze_spans) and snooze_spans[s_i][0] <= a
        if m_i < len(maintenance_spans) and maintenance_spans[m_i][0] <= a:
            out.append(Segment(a, b, MAINTENANCE, "In a maintenance window", snooze))
        elif current is not None and w_i < len(watched_spans) and watched_spans[w_i][0] <= a:
            out.append(Segment(a, b, current.state, current.reason, snooze))
        else:
            out.append(Segment(a, b, UNWATCHED, "", snooze))
    return _merge(out)


def clip(timeline: Timeline, start: datetime, end: datetime) -> list[Segment]:
    """The timeline's segments cut to [start, end)."""
    return [
        Segment(max(s.start, start), min(s.end, end), s.kind, s.reason, s.snoozed)
        for s in timeline.segments
        if s.end > start and s.start < end
    ]


def points(
    buckets: Iterable[Bucket | RawBucket], start: datetime, end: datetime, slots: int
) -> list[Point]:
    """The buckets merged into `slots` equal slots across [start, end); empty ones left
    out. A bucket may be a Bucket or a plain (epoch seconds, count, min, mean, max)."""
    width = (end - start) / max(1, slots)
    low, high, step = start.timestamp(), end.timestamp(), width.total_seconds()
    acc: dict[int, list[float]] = {}  # slot -> [count, min, sum, max]
    for b in buckets:
        if isinstance(b, Bucket):
            b = (b.start.timestamp(), b.count, b.min, b.mean, b.max)
        at, count, lo, mean, hi = b
        if count <= 0 or not low <= at < high:
            continue
        i = min(slots - 1, int((at - low) // step))
        slot = acc.get(i)
        if slot is None:
            acc[i] = [count, lo, mean * count, hi]
        else:
            slot[0] += count
            slot[1] = min(slot[1], lo)
            slot[2] += mean * count
            slot[3] = max(slot[3], hi)
    return [
        Point(start + width * i, start + width * (i + 1), int(n), lo, total / n, hi)
        for i, (n, lo, total, hi) in sorted(acc.items())
    ]


def uptime_share(timeline: Timeline | Iterable[Segment]) -> float | None:
    """The share of watched, known, non-maintenance time visitors were served (0..1)."""
    known = down = 0.0
    pieces = timeline.segments if isinstance(timeline, Timeline) else timeline
    for seg in pieces:
        if seg.kind in (UNWATCHED, MAINTENANCE, SiteState.UNKNOWN.value):
            continue
        seconds = (seg.end - seg.start).total_seconds()
        known += seconds
        if seg.kind == SiteState.DOWN.value:
            down += seconds
    return None if known <= 0 else 1.0 - down / known


# ---------------------------------------------------------------------- helpers


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


def _merge(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for seg in segments:
        if seg.end <= seg.start:
            continue
        last = out[-1] if out else None
        if (
            last
            and (last.kind, last.reason, last.snoozed) == (seg.kind, seg.reason, seg.snoozed)
            and last.end == seg.start
        ):
            out[-1] = Segment(last.start, seg.end, seg.kind, seg.reason, seg.snoozed)
        else:
            out.append(seg)
    return out
