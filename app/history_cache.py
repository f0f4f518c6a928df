"""The visitor probes' cache verdicts in the history: per site and hour, how many checks
had a verdict (hit or miss) and how many were hits. Their share is how protected the
site's visitors are when its origin fails.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.history_file import HistoryFile, hour_of


@dataclass(frozen=True)
class CacheCount:
    """A site's visitor checks with a cache verdict over one bucket, and how many hit."""

    site: str
    start: datetime
    checks: int
    hits: int


class CacheTable:
    """The `cache_hits` table of one history file (each call takes the file's lock)."""

    def __init__(self, file: HistoryFile) -> None:
        self._file = file

    def add(self, counts: Iterable[CacheCount]) -> int:
        """Add visitor checks and cache hits to their hourly rows, in one transaction."""
        by_row: dict[tuple[str, int], list[int]] = {}
        for c in counts:
            if c.checks > 0:
                row = by_row.setdefault((c.site, hour_of(c.start)), [0, 0])
                row[0] += c.checks
                row[1] += min(c.hits, c.checks)
        if not by_row:
            return 0
        with self._file.lock, self._file.writing(), self._file.transaction() as db:
            db.executemany(
                "INSERT INTO cache_hits (site, hour, checks, hits) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (site, hour) DO UPDATE SET checks = checks + excluded.checks, "
                "hits = hits + excluded.hits",
                [(site, hour, n, hits) for (site, hour), (n, hits) in by_row.items()],
            )
        return len(by_row)

    def ratio(self, site: str, *, since: datetime) -> float | None:
        """Share (0..1) of the site's visitor checks from the hour of `since` on that were
        served from cache; None when none had a cache verdict."""
        with self._file.lock:
            rows = self._file.query(
                "SELECT sum(checks), sum(hits) FROM cache_hits WHERE site = ? AND hour >= ?",
                [site, hour_of(since)],
            )
        checks, hits = rows[0] if rows else (None, None)
        if not checks:
            return None
        return float(hits or 0) / float(checks)

    def ratios(self, *, since: datetime) -> dict[str, float]:
        """`ratio` for every site with a verdict since then, in one read."""
        with self._file.lock:
            rows = self._file.query(
                "SELECT site, sum(checks), sum(hits) FROM cache_hits WHERE hour >= ? GROUP BY site",
                [hour_of(since)],
            )
        return {str(site): float(hits or 0) / float(n) for site, n, hits in rows if n}


def read_cache_hit_ratios(path: Path, *, since: datetime) -> dict[str, float]:
    """Each site's visitor cache-hit share since then, read without writing: no file
    created, none migrated (for `lifeline check`, which writes nothing). A missing,
    older, locked or unreadable file gives {}: the share is then simply unknown."""
    if not path.exists():
        return {}
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            rows = db.execute(
                "SELECT site, sum(checks), sum(hits) FROM cache_hits WHERE hour >= ? GROUP BY site",
                (hour_of(since),),
            ).fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return {}
    return {str(site): float(hits or 0) / float(n) for site, n, hits in rows if n}
