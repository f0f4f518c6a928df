"""app/timeline.py: transitions and buckets to segments and points, without Qt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.timeline import (
    MAINTENANCE,
    UNWATCHED,
    Bucket,
    Change,
    Span,
    build_timeline,
    points,
    uptime_share,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def kinds(timeline):  # (start hour, end hour, kind)
    return [
        ((s.start - T0) / timedelta(hours=1), (s.end - T0) / timedelta(hours=1), s.kind)
        for s in timeline.segments
    ]


def test_states_between_changes_inside_coverage():
    tl = build_timeline(
        start=h(0),
        end=h(24),
        changes=[
            Change(h(-5), "operational"),
            Change(h(10), "down", "503 from the origin"),
            Change(h(12), "operational"),
        ],
        watched=[Span(h(-6), h(24))],
    )
    assert kinds(tl) == [(0, 10, "operational"), (10, 12, "down"), (12, 24, "operational")]
    assert tl.segments[1].reason == "503 from the origin"
    assert tl.segment_at(h(11)).label == "Down"


def test_asleep_gap_is_unwatched_never_up():
    tl = build_timeline(
        start=h(0),
        end=h(24),
        changes=[Change(h(-1), "operational")],
        watched=[Span(h(0), h(8)), Span(h(14), h(24))],  # asleep 8..14
    )
    assert kinds(tl) == [(0, 8, "operational"), (8, 14, UNWATCHED), (14, 24, "operational")]
    assert tl.segment_at(h(9)).label == "Not watching"
    assert uptime_share(tl) == 1.0


def test_before_the_first_known_state_is_unwatched():
    tl = build_timeline(
        start=h(0), end=h(24), changes=[Change(h(6), "degraded")], watched=[Span(h(0), h(24))]
    )
    assert kinds(tl) == [(0, 6, UNWATCHED), (6, 24, "degraded")]


def test_nothing_watched_is_all_blank():
    tl = build_timeline(start=h(0), end=h(24), changes=[Change(h(-1), "down")], watched=[])
    assert kinds(tl) == [(0, 24, UNWATCHED)]
    assert uptime_share(tl) is None


def test_maintenance_overlays_state_and_gaps():
    tl = build_timeline(
        start=h(0),
        end=h(24),
        changes=[Change(h(-1), "operational"), Change(h(3), "down")],
        watched=[Span(h(0), h(4)), Span(h(5), h(24))],
        maintenance=[Span(h(2), h(6))],
    )
    assert kinds(tl) == [(0, 2, "operational"), (2, 6, MAINTENANCE), (6, 24, "down")]


def test_overlapping_spans_and_changes_outside_range():
    tl = build_timeline(
        start=h(0),
        end=h(10),
        changes=[Change(h(-3), "down"), Change(h(-2), "operational"), Change(h(12), "down")],
        watched=[Span(h(-1), h(5)), Span(h(4), h(11))],
    )
    assert kinds(tl) == [(0, 10, "operational")]


def test_uptime_counts_down_only_over_known_time():
    tl = build_timeline(
        start=h(0),
        end=h(10),
        changes=[
            Change(h(-1), "operational"),
            Change(h(1), "down"),
            Change(h(2), "unknown"),
            Change(h(3), "editors_blocked"),
        ],
        watched=[Span(h(0), h(10))],
    )
    assert uptime_share(tl) == 1 - 1 / 9


def test_points_merge_buckets_weighted_and_skip_empty_slots():
    buckets = [
        Bucket(h(0), 2, 0.1, 0.2, 0.3),
        Bucket(h(0) + timedelta(minutes=5), 6, 0.05, 0.4, 1.5),
        Bucket(h(5), 1, 2.0, 2.0, 2.0),
        Bucket(h(30), 1, 9.0, 9.0, 9.0),  # outside
    ]
    pts = points(buckets, h(0), h(24), slots=24)
    assert [(p.start, p.checks) for p in pts] == [(h(0), 8), (h(5), 1)]
    first = pts[0]
    assert (first.min, first.max) == (0.05, 1.5)
    assert abs(first.mean - (2 * 0.2 + 6 * 0.4) / 8) < 1e-9


def test_empty_range():
    tl = build_timeline(start=h(1), end=h(1), changes=[], watched=[])
    assert tl.segments == () and len(tl.points) == 0


# ---------------------------------------------------------------------- read from history


def test_read_history_matches_the_history_uptime_and_blanks_the_gap(tmp_path):
    from app.events import SiteStateChanged
    from app.history import History, TimingBucket
    from app.models import PointOfFailure, SiteState
    from app.timeline_read import read_history

    now = h(48)
    with History(tmp_path / "h.sqlite3") as history:

        def change(at, state):
            history.record(SiteStateChanged(
                at=at, site="shop", previous=None, state=state,
                point_of_failure=PointOfFailure.SITE if state is SiteState.DOWN
                else PointOfFailure.NONE, reason=f"{state.value} now",
            ))

        history.mark_observed(h(0), continuous=False)
        change(h(0), SiteState.OPERATIONAL)
        history.mark_observed(h(30))
        change(h(30), SiteState.DOWN)
        history.mark_observed(h(32))
        change(h(32), SiteState.OPERATIONAL)
        history.mark_observed(h(36))
        history.mark_observed(h(40), continuous=False)  # asleep from 36 to 40
        history.mark_observed(h(48))
        history.add_timings([TimingBucket("shop", h(47), "anonymous", 3, 0.1, 0.2, 0.4),
                             TimingBucket("shop", h(47), "backend", 3, 1.0, 1.0, 1.0)])
        read = read_history(history, ["shop", "new"], now=now)
        expected = {
            key: history.uptime("shop", span, now=now)
            for key, span in (("24h", timedelta(hours=24)), ("7d", timedelta(days=7)),
                              ("30d", timedelta(days=30)))
        }
    shop = read.sites["shop"]
    assert shop.uptime == pytest.approx(expected)
    assert shop.uptime["24h"] == pytest.approx(1 - 2 / 20)
    assert kinds(shop.timeline) == [
        (24, 30, "operational"), (30, 32, "down"), (32, 36, "operational"),
        (36, 40, UNWATCHED), (40, 48, "operational"),
    ]
    assert [(p.checks, p.mean) for p in shop.timeline.points] == [(3, pytest.approx(0.2))]
    assert read.sites["new"].uptime == {"24h": None, "7d": None, "30d": None}
    assert kinds(read.sites["new"].timeline) == [(24, 48, UNWATCHED)]
