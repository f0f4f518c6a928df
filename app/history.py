"""The history of state changes, in SQLite (WAL) in the user data dir.

Only transitions are stored, never individual checks, each with compact evidence
(`app.history_rows`). Reasons repeat endlessly (a flapping site says the same sentence a
thousand times), so they are stored once in a small text table and referenced. Coverage
spans record when the monitor was actually watching; time outside them (the app closed,
the machine asleep, the user's network down) is neither uptime nor downtime
(`app.history_uptime`). Response times are kept per site and 5-minute bucket
(`add_timings`, `timings`: `app.history_timings`). The visitor probes' cache verdicts are
counted per site and hour (`add_cache_counts`, `cache_hit_ratio`: `app.history_cache`).
`prune(days)` bounds the file.

One connection, guarded by a lock, so the monitor's history thread and a reader on another
thread can share an instance. Opening is lazy: constructing a History touches no disk.
Opening, the schema version and its migrations: `app.history_file`, `app.history_schema`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.events import Event
from app.history_cache import CacheCount, CacheTable, read_cache_hit_ratios
from app.history_file import HistoryError, HistoryFile, dt, ts
from app.history_rows import (
    INSERT,
    MAINTENANCE,
    MAINTENANCE_ENDED,
    REASON_MAX,
    SNOOZED,
    Row,
    Transition,
    insert_values,
    repeats_open_span,
    row_of,
)
from app.history_schema import MIGRATIONS, SCHEMA_VERSION, Migration
from app.history_timings import (
    _TIMING,
    BUCKET_SECONDS,
    PROBES,
    TIMING_SLOTS,
    TimingBucket,
    TimingRow,
    TimingTable,
)
from app.history_uptime import maintenance_spans as maintenance_spans_of
from app.history_uptime import served_share

# The names callers import from here (the parts live in the app.history_* modules).
__all__ = [
    "_TIMING",
    "BUCKET_SECONDS",
    "MAINTENANCE",
    "MAINTENANCE_ENDED",
    "MAX_PER_SITE",
    "MIGRATIONS",
    "PROBES",
    "SCHEMA_VERSION",
    "TIMING_SLOTS",
    "CacheCount",
    "History",
    "HistoryError",
    "Migration",
    "TimingBucket",
    "Transition",
    "read_cache_hit_ratios",
]

MAX_PER_SITE = 10_000  # transitions kept per site whatever their age: bounds the worst case


class History:
    def __init__(self, path: Path, *, migrations: Mapping[int, Migration] = MIGRATIONS) -> None:
        self.path = path
        self._file = HistoryFile(path, migrations=migrations)
        self._lock = self._file.lock
        self._timings = TimingTable(self._file)
        self._cache = CacheTable(self._file)
        self._span: int | None = None  # the coverage span this process is extending

    # ------------------------------------------------------------------ connection

    def _db(self) -> sqlite3.Connection:
        return self._file.connection()

    @property
    def schema_version(self) -> int:
        """The open file's schema version (opens it)."""
        return self._file.schema_version

    def close(self) -> None:
        with self._lock:
            self._file.close()
            self._span = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def record(self, event: Event) -> None:
        """Store a state change with its evidence; other events are ignored."""
        row = row_of(event)
        if row is None:
            return
        with self._lock, self._file.writing():
            db = self._db()
            if not repeats_open_span(db, row):
                self._insert(db, row)

    def record_many(self, events: Iterable[Event]) -> int:
        """Store a round's state changes in ONE transaction; returns how many were stored.

        One commit per round instead of one per change: a first round of 200 sites is
        one job for the history thread, not 200 that each take the GIL in turn."""
        rows = [row for row in map(row_of, events) if row is not None]
        if not rows:
            return 0
        with self._lock, self._file.writing(), self._file.transaction() as db:
            rows = [row for row in rows if not repeats_open_span(db, row)]
            # Few distinct reasons in a round; then one executemany: every statement
            # gives up the GIL and waits to get it back from the busy threads.
            ids = {
                text: self._text_id(db, text)
                for text in {row[7][:REASON_MAX] for row in rows if row[7]}
            }
            db.executemany(INSERT, [insert_values(row, ids) for row in rows])
        return len(rows)

    def _insert(self, db: sqlite3.Connection, row: Row) -> None:
        reason = row[7][:REASON_MAX]
        ids = {reason: self._text_id(db, reason)} if reason else {}
        db.execute(INSERT, insert_values(row, ids))

    def mark_observed(self, at: datetime, continuous: bool = True) -> None:
        """The monitor was watching at `at`. `continuous=False` starts a new span: after
        a start, a sleep or a network outage, the gap before it is not covered."""
        at_s = ts(at)
        with self._lock:
            db = self._db()
            if continuous and self._span is not None:
                db.execute("UPDATE coverage SET end = max(end, ?) WHERE id = ?", (at_s, self._span))
                return
            cur = db.execute("INSERT INTO coverage (start, end) VALUES (?, ?)", (at_s, at_s))
            self._span = cur.lastrowid

    def add_timings(self, buckets: Iterable[TimingBucket]) -> int:
        """Merge 5-minute buckets into the hourly rows, in one transaction (a bucket
        already there, from before a restart, is combined with it); returns how many."""
        return self._timings.add(buckets)

    def add_cache_counts(self, counts: Iterable[CacheCount]) -> int:
        """Add visitor checks and cache hits to their hourly rows, in one transaction."""
        return self._cache.add(counts)

    def cache_hit_ratio(self, site: str, *, since: datetime) -> float | None:
        """Share (0..1) of the site's visitor checks from the hour of `since` on that were
        served from cache; None when none had a cache verdict."""
        return self._cache.ratio(site, since=since)

    def cache_hit_ratios(self, *, since: datetime) -> dict[str, float]:
        """cache_hit_ratio for every site with a verdict since then, in one read."""
        return self._cache.ratios(since=since)

    @staticmethod
    def _text_id(db: sqlite3.Connection, text: str) -> int:
        db.execute("INSERT OR IGNORE INTO texts (text) VALUES (?)", (text,))
        found = db.execute("SELECT id FROM texts WHERE text = ?", (text,)).fetchone()
        return int(found[0])

    # ------------------------------------------------------------------ reading

    def transitions(
        self,
        *,
        site: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        kinds: tuple[str, ...] | None = None,
    ) -> list[Transition]:
        """Oldest first; with `limit`, the most recent `limit` of them."""
        where: list[str] = []
        params: list[Any] = []
        if site is not None:
            where.append("t.site = ?")
            params.append(site)
        if since is not None:
            where.append("t.at >= ?")
            params.append(ts(since))
        if kinds:
            where.append(f"t.kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(kinds)
        sql = (
            "SELECT t.at, t.kind, t.site, t.previous, t.state, t.pof, t.flapping, x.text, "
            "t.evidence FROM transitions t LEFT JOIN texts x ON x.id = t.reason"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY t.at DESC, t.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, limit))
        with self._lock:
            rows = self._query(sql, params)
        out = [
            Transition(
                at=dt(at),
                kind=kind,
                site=site_name,
                previous=previous,
                state=state,
                point_of_failure=pof,
                reason=reason or "",
                flapping=bool(flapping),
                evidence=json.loads(evidence) if evidence else {},
            )
            for at, kind, site_name, previous, state, pof, flapping, reason, evidence in rows
        ]
        out.reverse()
        return out

    def timings(
        self,
        site: str,
        *,
        since: datetime,
        until: datetime | None = None,
        probe: str | None = None,
    ) -> list[TimingBucket]:
        """The site's 5-minute buckets starting in [since, until) (of one probe, or
        both), oldest first."""
        return self._timings.buckets(site, since=since, until=until, probe=probe)

    def timing_rows(
        self, site: str, *, since: datetime, until: datetime, probe: str, hourly: bool
    ) -> list[TimingRow]:
        """Like `timings` (or `hourly_timings`) for one probe, as plain (epoch seconds,
        count, min, mean, max) tuples: what a sparkline of 200 sites reads quickly."""
        return self._timings.rows(site, since=since, until=until, probe=probe, hourly=hourly)

    def hourly_timings(
        self, site: str, *, since: datetime, until: datetime, probe: str = "anonymous"
    ) -> list[TimingBucket]:
        """One bucket per hour in [since, until), its twelve merged: a week or a month
        for a sparkline without a Python object per 5 minutes."""
        return self._timings.hourly(site, since=since, until=until, probe=probe)

    def state_changes(
        self, site: str, *, since: datetime, until: datetime
    ) -> list[tuple[datetime, str, str]]:
        """(at, state, reason) of the site's changes in [since, until], preceded by the
        last one before `since` (the state the range starts in), oldest first."""
        start, end = ts(since), ts(until)
        sql = (
            "SELECT t.at, t.state, x.text FROM transitions t LEFT JOIN texts x "
            "ON x.id = t.reason WHERE t.kind = 'site' AND t.site = ? "
        )
        with self._lock:
            prior = self._query(
                sql + "AND t.at < ? ORDER BY t.at DESC, t.id DESC LIMIT 1", [site, start]
            )
            rows = self._query(
                sql + "AND t.at >= ? AND t.at <= ? ORDER BY t.at, t.id", [site, start, end]
            )
        return [(dt(at), str(state), reason or "") for at, state, reason in [*prior, *rows]]

    def coverage(self, *, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """The spans the monitor was watching that reach into [since, until], by start."""
        with self._lock:
            rows = self._query(
                "SELECT start, end FROM coverage WHERE end > ? AND start < ? ORDER BY start",
                [ts(since), ts(until)],
            )
        return [(dt(a), dt(b)) for a, b in rows]

    def maintenance_spans(
        self, site: str, *, until: datetime, kind: str = "maintenance"
    ) -> list[tuple[datetime, datetime]]:
        """The site's recorded maintenance windows (kind "snooze": its snoozes) up to
        `until`; one left open ends at its planned end, at most `until`."""
        end = ts(until)
        with self._lock:
            rows = self._query(
                "SELECT at, state, evidence FROM transitions WHERE kind = ? "
                "AND site = ? AND at <= ? ORDER BY at, id",
                [kind, site, end],
            )
        opening = SNOOZED if kind == "snooze" else MAINTENANCE
        return [(dt(a), dt(b)) for a, b in maintenance_spans_of(rows, end, opening)]

    def sites(self) -> list[str]:
        with self._lock:
            rows = self._query(
                "SELECT site FROM transitions WHERE kind = 'site' GROUP BY site ORDER BY site", []
            )
        return [str(r[0]) for r in rows]

    def uptime(self, site: str, window: timedelta, *, now: datetime | None = None) -> float | None:
        """Share of the watched time in `window` during which visitors were served (0..1).

        Only time inside coverage spans counts, and only once the site's state is known:
        None when nothing of the window was watched.
        """
        end = ts(now or datetime.now(UTC))
        start = end - window.total_seconds()
        with self._lock:
            spans = self._query(
                "SELECT max(start, ?), min(end, ?) FROM coverage "
                "WHERE end > ? AND start < ? ORDER BY start",
                [start, end, start, end],
            )
            if not spans:
                return None
            prior = self._query(
                "SELECT at, state FROM transitions WHERE kind = 'site' AND site = ? "
                "AND at < ? ORDER BY at DESC, id DESC LIMIT 1",
                [site, start],
            )
            changes = self._query(
                "SELECT at, state FROM transitions WHERE kind = 'site' AND site = ? "
                "AND at >= ? AND at <= ? ORDER BY at, id",
                [site, start, end],
            )
            windows = self._query(
                "SELECT at, state, evidence FROM transitions WHERE kind = 'maintenance' "
                "AND site = ? AND at <= ? ORDER BY at, id",
                [site, end],
            )
        timeline = [(float(a), str(s)) for a, s in [*prior, *changes]]
        watched = [(float(a), float(b)) for a, b in spans]
        return served_share(watched, timeline, maintenance_spans_of(windows, end))

    def _query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return self._file.query(sql, params)

    # ------------------------------------------------------------------ bounding

    def prune(self, days: int, *, now: datetime | None = None) -> int:
        """Forget what is older than `days`; returns the number of rows removed.

        The last transition of each site (and of the platform and the network) before
        the cut is kept, so the state at the start of the kept period is still known. A site
        that changed state more than MAX_PER_SITE times in that period keeps the most recent
        ones: a year of a misbehaving site cannot grow the file without bound.
        """
        cutoff = ts(now or datetime.now(UTC)) - days * 86400.0
        with self._lock:
            db = self._db()
            db.execute("BEGIN")
            try:
                removed = db.execute(
                    "DELETE FROM transitions WHERE at < ? AND id NOT IN ("
                    "SELECT max(id) FROM transitions WHERE at < ? GROUP BY kind, site)",
                    (cutoff, cutoff),
                ).rowcount
                # Counted on the (site, at) index; platform and network rows share site NULL.
                crowded = db.execute(
                    "SELECT site FROM transitions GROUP BY site HAVING count(*) > ?",
                    (MAX_PER_SITE,),
                ).fetchall()
                for (site,) in crowded:
                    oldest_kept = db.execute(
                        "SELECT at FROM transitions WHERE site IS ? ORDER BY at DESC "
                        "LIMIT 1 OFFSET ?",
                        (site, MAX_PER_SITE - 1),
                    ).fetchone()[0]
                    removed += db.execute(
                        "DELETE FROM transitions WHERE site IS ? AND at < ?", (site, oldest_kept)
                    ).rowcount
                removed += db.execute("DELETE FROM coverage WHERE end < ?", (cutoff,)).rowcount
                removed += db.execute(
                    "DELETE FROM timings WHERE hour < ?", (int(cutoff // 3600),)
                ).rowcount
                removed += db.execute(
                    "DELETE FROM cache_hits WHERE hour < ?", (int(cutoff // 3600),)
                ).rowcount
                if removed:
                    db.execute(
                        "DELETE FROM texts WHERE id NOT IN "
                        "(SELECT reason FROM transitions WHERE reason IS NOT NULL)"
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            if removed:
                db.execute("PRAGMA incremental_vacuum")
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def size_bytes(self) -> int:
        """The database file plus its WAL, as it sits on disk."""
        total = 0
        for suffix in ("", "-wal"):
            p = self.path.with_name(self.path.name + suffix)
            if p.exists():
                total += p.stat().st_size
        return total
