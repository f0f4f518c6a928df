"""Visitor checks and cache hits counted per site and 5-minute bucket in memory, handed to
the history when a bucket closes (as response times are, app.monitoring.timings).

Only a verdict counts: a visitor probe whose answer said hit or miss (Age, X-Cache,
X-Cache-Hits). A probe without any cache header, or without an answer, says nothing about
how well the CDN protects the site's visitors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from app.history import BUCKET_SECONDS, CacheCount
from app.models import CacheVerdict, ProbeResult

_Key = tuple[str, int]  # site, bucket start (epoch seconds)


class CacheTally:
    def __init__(self) -> None:
        self._open: dict[_Key, list[int]] = {}  # [checks, hits]

    def add_round(
        self, wall: datetime, probes: Mapping[str, tuple[ProbeResult, ProbeResult]]
    ) -> None:
        start = int(wall.timestamp() // BUCKET_SECONDS) * BUCKET_SECONDS
        for site, (anonymous, _) in probes.items():
            if anonymous.cache is CacheVerdict.UNKNOWN:
                continue
            counts = self._open.setdefault((site, start), [0, 0])
            counts[0] += 1
            counts[1] += anonymous.cache is CacheVerdict.HIT

    def closed(self, wall: datetime) -> list[CacheCount]:
        """Take the buckets that ended by `wall`."""
        now = wall.timestamp()
        return self._take([k for k in self._open if k[1] + BUCKET_SECONDS <= now])

    def drain(self) -> list[CacheCount]:
        """Take every bucket, the open ones too (on stop)."""
        return self._take(list(self._open))

    def _take(self, keys: list[_Key]) -> list[CacheCount]:
        out = []
        for key in keys:
            checks, hits = self._open.pop(key)
            site, start = key
            out.append(CacheCount(site, datetime.fromtimestamp(start, UTC), checks, hits))
        return out
