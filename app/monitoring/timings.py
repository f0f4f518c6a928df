"""Response times gathered per 5-minute bucket in memory, handed to the history when a
bucket closes: one write per site every 5 minutes instead of one per check.

Only probes that got an answer (an HTTP status) count: a timeout's seconds are the
timeout, not the site's speed, and the state strip already shows the failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from app.history import BUCKET_SECONDS, PROBES, TimingBucket
from app.models import ProbeResult

_Key = tuple[str, int, str]  # site, bucket start (epoch seconds), probe


class TimingAccumulator:
    def __init__(self) -> None:
        self._open: dict[_Key, list[float]] = {}  # [count, min, sum, max]

    def add_round(
        self, wall: datetime, probes: Mapping[str, tuple[ProbeResult, ProbeResult]]
    ) -> None:
        start = int(wall.timestamp() // BUCKET_SECONDS) * BUCKET_SECONDS
        for site, pair in probes.items():
            for probe, result in zip(PROBES, pair, strict=True):
                if result.status is None:
                    continue
                seconds = max(0.0, result.seconds)
                acc = self._open.get((site, start, probe))
                if acc is None:
                    self._open[(site, start, probe)] = [1, seconds, seconds, seconds]
                else:
                    acc[0] += 1
                    acc[1] = min(acc[1], seconds)
                    acc[2] += seconds
                    acc[3] = max(acc[3], seconds)

    def closed(self, wall: datetime) -> list[TimingBucket]:
        """Take the buckets that ended by `wall`."""
        now = wall.timestamp()
        return self._take([k for k in self._open if k[1] + BUCKET_SECONDS <= now])

    def drain(self) -> list[TimingBucket]:
        """Take every bucket, the open ones too (on stop: a restart merges into them)."""
        return self._take(list(self._open))

    def _take(self, keys: list[_Key]) -> list[TimingBucket]:
        out = []
        for key in keys:
            count, lo, total, hi = self._open.pop(key)
            site, start, probe = key
            out.append(
                TimingBucket(
                    site,
                    datetime.fromtimestamp(start, UTC),
                    probe,
                    int(count),
                    lo,
                    total / count,
                    hi,
                )
            )
        return out
