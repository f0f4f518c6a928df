"""Response-time buckets in the history: merged per hour row, read back, pruned, sized;
gathered by the monitor's history writer per 5-minute bucket."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.history import BUCKET_SECONDS, History, TimingBucket
from app.models import ErrorKind, ProbeKind, ProbeResult
from app.monitoring.history_writer import HistoryWriter
from app.monitoring.timings import TimingAccumulator

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def bucket(
    minutes: int,
    count: int,
    lo: float,
    mean: float,
    hi: float,
    *,
    site: str = "shop",
    probe: str = "anonymous",
) -> TimingBucket:
    return TimingBucket(site, T0 + timedelta(minutes=minutes), probe, count, lo, mean, hi)


def probe(seconds: float, status: int | None = 200) -> ProbeResult:
    url = "https://shop.example/"
    return ProbeResult(
        ProbeKind.ANONYMOUS,
        url,
        url,
        status is not None,
        status=status,
        seconds=seconds,
        error=None if status else ErrorKind.TIMEOUT,
    )


def test_buckets_round_trip_and_merge(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        h.add_timings(
            [
                bucket(0, 2, 0.1, 0.15, 0.2),
                bucket(65, 1, 1.234, 1.234, 1.234),
                bucket(0, 1, 0.9, 0.9, 0.9, probe="backend"),
                bucket(0, 1, 0.5, 0.5, 0.5, site="blog"),
            ]
        )
        h.add_timings([bucket(0, 2, 0.05, 0.3, 0.4)])  # the same bucket after a restart
        got = h.timings("shop", since=T0, until=T0 + timedelta(hours=2))
        assert [(b.start - T0, b.probe, b.count, b.min, b.mean, b.max) for b in got] == [
            (timedelta(0), "anonymous", 4, 0.05, 0.225, 0.4),
            (timedelta(0), "backend", 1, 0.9, 0.9, 0.9),
            (timedelta(minutes=65), "anonymous", 1, 1.234, 1.234, 1.234),
        ]
        assert (
            h.timings("shop", since=T0 + timedelta(minutes=5), until=T0 + timedelta(hours=1)) == []
        )
        assert [b.start for b in h.timings("shop", since=T0 + timedelta(minutes=65))] == [
            T0 + timedelta(minutes=65)
        ]
        assert got[0].to_json()["start"].startswith("2026-01-01T00:00:00")


def test_slow_answers_are_capped_not_wrapped(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        h.add_timings([bucket(0, 1, 70.0, 70.0, 70.0)])
        (b,) = h.timings("shop", since=T0)
        assert b.max == 65.535


def test_timings_are_pruned_with_the_rest(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        h.add_timings([bucket(0, 1, 0.1, 0.1, 0.1), bucket(60 * 24 * 10, 1, 0.2, 0.2, 0.2)])
        assert h.prune(5, now=T0 + timedelta(days=11)) == 1
        assert [b.mean for b in h.timings("shop", since=T0)] == [0.2]


@pytest.mark.slow
def test_500_sites_for_90_days_of_buckets(tmp_path: Path) -> None:
    """Every 5-minute bucket of 500 sites for 90 days, both probes: the file's size, and
    the read the window makes for one site's 30 days."""
    h = History(tmp_path / "h.sqlite3")
    db = h._db()
    sample = [bucket(m, 5, 0.101, 0.2, 1.9) for m in range(0, 60, 5)]
    sample += [bucket(m, 5, 0.4, 0.9, 3.2, probe="backend") for m in range(0, 60, 5)]
    h.add_timings(sample)
    (blob,) = db.execute("SELECT data FROM timings").fetchone()
    hours = 90 * 24
    db.execute("BEGIN")
    db.executemany(
        "INSERT OR REPLACE INTO timings (site, hour, data) VALUES (?, ?, ?)",
        (
            (f"site-{s:03d}", int(T0.timestamp()) // 3600 + hour, blob)
            for s in range(500)
            for hour in range(hours)
        ),
    )
    db.execute("COMMIT")
    started = time.perf_counter()
    month = h.timings("site-250", since=T0 + timedelta(days=60), until=T0 + timedelta(days=90))
    read = time.perf_counter() - started
    h.close()
    size = h.size_bytes()
    assert len(month) == 30 * 24 * 12 * 2
    print(f"500 sites x 90 days: {size / 2**20:.1f} MiB; one site's 30 days read in {read:.3f} s")
    # 12 buckets x 2 probes x 4 uint16 = 192 bytes an hour and site, plus the row's key
    # and the B-tree's slack: 242 bytes measured (250 MiB); a row per bucket took twice that.
    assert size < 500 * hours * 256, f"{size} bytes"
    assert read < 1.0


def test_accumulator_gathers_a_bucket_and_skips_unanswered_probes() -> None:
    acc = TimingAccumulator()
    at = T0 + timedelta(minutes=1)
    acc.add_round(at, {"shop": (probe(0.2), probe(0.5))})
    acc.add_round(at + timedelta(minutes=1), {"shop": (probe(0.4), probe(10.0, status=None))})
    assert acc.closed(T0 + timedelta(minutes=4, seconds=59)) == []
    got = sorted(acc.closed(T0 + timedelta(minutes=5)), key=lambda b: b.probe)
    assert [(b.probe, b.count, b.min, b.mean, b.max) for b in got] == [
        ("anonymous", 2, 0.2, pytest.approx(0.3), 0.4),
        ("backend", 1, 0.5, 0.5, 0.5),
    ]
    assert acc.drain() == []


def test_writer_stores_closed_buckets_and_the_open_one_on_flush(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    errors: list[str] = []
    writer = HistoryWriter(history, errors.append)

    async def scenario() -> None:
        writer.timings(T0, {"shop": (probe(0.2), probe(0.3))})
        writer.timings(T0 + timedelta(seconds=BUCKET_SECONDS), {"shop": (probe(0.6), probe(0.3))})
        await writer.flush()

    asyncio.run(scenario())
    got = history.timings("shop", since=T0)
    history.close()
    assert errors == []
    assert [(b.start - T0, b.probe, b.mean) for b in got] == [
        (timedelta(0), "anonymous", 0.2),
        (timedelta(0), "backend", 0.3),
        (timedelta(minutes=5), "anonymous", 0.6),
        (timedelta(minutes=5), "backend", 0.3),
    ]


def test_history_json_carries_the_buckets_for_one_site(paths: Any, capsys: Any) -> None:
    with History(paths.history_db) as h:
        h.add_timings([bucket(0, 3, 0.1, 0.2, 0.3), bucket(0, 1, 0.5, 0.5, 0.5, site="blog")])
    assert main(["history", "--json", "--site", "shop", "--since", "2025-12-31"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["timings"] == [
        {"start": "2026-01-01T00:00:00Z", "probe": "anonymous", "count": 3, "min": 0.1,
         "mean": 0.2, "max": 0.3}
    ]
    assert main(["history", "--json", "--since", "2025-12-31"]) == 0
    assert "timings" not in json.loads(capsys.readouterr().out)


def test_hourly_timings_merge_an_hours_buckets(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        h.add_timings([bucket(0, 2, 0.1, 0.2, 0.3), bucket(55, 6, 0.05, 0.4, 1.5),
                       bucket(5, 9, 2.0, 2.0, 2.0, probe="backend"), bucket(65, 1, 1, 1, 1)])
        got = h.hourly_timings("shop", since=T0, until=T0 + timedelta(hours=1))
        assert [(b.start, b.count, b.min, b.max) for b in got] == [(T0, 8, 0.05, 1.5)]
        assert got[0].mean == pytest.approx((2 * 0.2 + 6 * 0.4) / 8)
        (backend,) = h.hourly_timings("shop", since=T0, until=T0 + timedelta(hours=1),
                                      probe="backend")
        assert (backend.count, backend.mean) == (9, 2.0)
