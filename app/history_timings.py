"""Response times in the history: per site and 5-minute bucket, twelve to an hourly row.

Each row is one blob of TIMING_SLOTS buckets x 2 probes x (count, min, mean, max), as
little-endian uint16 milliseconds (capped): 192 bytes an hour. A bucket written twice
(before and after a restart) is merged into what is there.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.clock import iso
from app.history_file import HistoryFile, dt, hour_of, ts

BUCKET_SECONDS = 300  # one response-time bucket
TIMING_SLOTS = 12  # buckets an hour
PROBES = ("anonymous", "backend")
_TIMING = struct.Struct(f"<{TIMING_SLOTS * len(PROBES) * 4}H")
_U16 = 65535

# (epoch seconds, count, min, mean, max): what a sparkline of 200 sites reads quickly.
TimingRow = tuple[float, int, float, float, float]


@dataclass(frozen=True)
class TimingBucket:
    """One probe's response times over one 5-minute bucket, in seconds (ms precision)."""

    site: str
    start: datetime
    probe: str  # anonymous | backend
    count: int
    min: float
    mean: float
    max: float

    def to_json(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "probe": self.probe,
            "count": self.count,
            "min": self.min,
            "mean": self.mean,
            "max": self.max,
        }


class TimingTable:
    """The `timings` table of one history file (callers hold no lock: each call takes it)."""

    def __init__(self, file: HistoryFile) -> None:
        self._file = file

    def add(self, buckets: Iterable[TimingBucket]) -> int:
        """Merge 5-minute buckets into the hourly rows, in one transaction (a bucket
        already there, from before a restart, is combined with it); returns how many."""
        by_row: dict[tuple[str, int], list[TimingBucket]] = {}
        for b in buckets:
            if b.count > 0 and b.probe in PROBES:
                by_row.setdefault((b.site, hour_of(b.start)), []).append(b)
        if not by_row:
            return 0
        with self._file.lock, self._file.writing(), self._file.transaction() as db:
            for (site, hour), items in by_row.items():
                found = db.execute(
                    "SELECT data FROM timings WHERE site = ? AND hour = ?", (site, hour)
                ).fetchone()
                values = list(_unpack(found[0])) if found else [0] * (_TIMING.size // 2)
                for b in items:
                    _merge_bucket(values, b, hour)
                db.execute(
                    "INSERT OR REPLACE INTO timings (site, hour, data) VALUES (?, ?, ?)",
                    (site, hour, _TIMING.pack(*values)),
                )
        return sum(len(items) for items in by_row.values())

    def _hours(self, site: str, first_hour: int, end_hour: float) -> list[tuple[Any, ...]]:
        """(hour, blob) of the site's rows with first_hour <= hour < end_hour, in order."""
        with self._file.lock:
            return self._file.query(
                "SELECT hour, data FROM timings WHERE site = ? AND hour >= ? AND hour < ? "
                "ORDER BY hour",
                [site, first_hour, end_hour],
            )

    def buckets(
        self,
        site: str,
        *,
        since: datetime,
        until: datetime | None = None,
        probe: str | None = None,
    ) -> list[TimingBucket]:
        """The site's 5-minute buckets starting in [since, until) (of one probe, or
        both), oldest first."""
        low, high = ts(since), ts(until) if until is not None else float("inf")
        rows = self._hours(
            site, int(low // 3600), high // 3600 + 1 if high != float("inf") else 2**62
        )
        out: list[TimingBucket] = []
        for hour, data in rows:
            values = _unpack(data)
            for slot in range(TIMING_SLOTS):
                start = int(hour) * 3600 + slot * BUCKET_SECONDS
                if not low <= start < high:
                    continue
                for p, name in enumerate(PROBES):
                    i = (slot * len(PROBES) + p) * 4
                    count, lo, mean, hi = values[i : i + 4]
                    if count and probe in (None, name):
                        out.append(
                            TimingBucket(
                                site, dt(start), name, count, lo / 1000, mean / 1000, hi / 1000
                            )
                        )
        return out

    def rows(
        self, site: str, *, since: datetime, until: datetime, probe: str, hourly: bool
    ) -> list[TimingRow]:
        """Like `buckets` (or `hourly`) for one probe, as plain tuples."""
        low, high = ts(since), ts(until)
        p = PROBES.index(probe)
        stride = len(PROBES) * 4
        rows = self._hours(site, int(low // 3600), int(high // 3600) + 1)
        out: list[TimingRow] = []
        for hour, data in rows:
            values = _unpack(data)
            counts = values[p * 4 :: stride]
            total = sum(counts)
            if not total:
                continue
            if hourly:
                if low <= hour * 3600 < high:
                    mins = values[p * 4 + 1 :: stride]
                    lows = [x for n, x in zip(counts, mins, strict=True) if n]
                    mean = sum(map(operator.mul, counts, values[p * 4 + 2 :: stride])) / total
                    top = max(values[p * 4 + 3 :: stride])
                    out.append((hour * 3600.0, total, min(lows) / 1000, mean / 1000, top / 1000))
                continue
            for slot, n in enumerate(counts):
                at = hour * 3600.0 + slot * BUCKET_SECONDS
                if n and low <= at < high:
                    i = slot * stride + p * 4
                    out.append(
                        (at, n, values[i + 1] / 1000, values[i + 2] / 1000, values[i + 3] / 1000)
                    )
        return out

    def hourly(
        self, site: str, *, since: datetime, until: datetime, probe: str = "anonymous"
    ) -> list[TimingBucket]:
        """One bucket per hour in [since, until), its twelve merged: a week or a month
        for a sparkline without a Python object per 5 minutes."""
        p = PROBES.index(probe)
        stride = len(PROBES) * 4
        rows = self._hours(site, int(ts(since) // 3600), int(ts(until) // 3600) + 1)
        out: list[TimingBucket] = []
        for hour, data in rows:
            values = _unpack(data)
            counts = values[p * 4 :: stride]
            total = sum(counts)
            if not total or not ts(since) <= hour * 3600 < ts(until):
                continue
            means = values[p * 4 + 2 :: stride]
            lows = [low for n, low in zip(counts, values[p * 4 + 1 :: stride], strict=True) if n]
            out.append(
                TimingBucket(
                    site,
                    dt(hour * 3600),
                    probe,
                    total,
                    min(lows) / 1000,
                    sum(map(operator.mul, counts, means)) / total / 1000,
                    max(values[p * 4 + 3 :: stride]) / 1000,
                )
            )
        return out


def _unpack(data: bytes) -> tuple[int, ...]:
    return _TIMING.unpack(data) if len(data) == _TIMING.size else (0,) * (_TIMING.size // 2)


def _merge_bucket(values: list[int], b: TimingBucket, hour: int) -> None:
    slot = min(TIMING_SLOTS - 1, int((ts(b.start) - hour * 3600) // BUCKET_SECONDS))
    i = (slot * len(PROBES) + PROBES.index(b.probe)) * 4
    count, lo, mean, hi = values[i : i + 4]
    new_lo, new_mean, new_hi = (min(_U16, max(0, round(x * 1000))) for x in (b.min, b.mean, b.max))
    total = min(_U16, count + b.count)
    if count:
        new_lo, new_hi = min(lo, new_lo), max(hi, new_hi)
        new_mean = round((mean * count + new_mean * b.count) / (count + b.count))
    values[i : i + 4] = [total, new_lo, new_mean, new_hi]
