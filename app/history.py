"""The history of state changes, in SQLite (WAL) in the user data dir.

Only transitions are stored, never individual checks, each with compact evidence (probe
status, error, detail, request id; the platform's state and open incidents). Reasons
repeat endlessly (a flapping site says the same sentence a thousand times), so they are
stored once in a small text table and referenced. Coverage spans record when the monitor
was actually watching; time outside them (the app closed, the machine asleep, the user's
network down) is neither uptime nor downtime. Response times are kept per site and
5-minute bucket (count, min, mean, max of each probe), packed twelve to an hourly row
(`add_timings`, `timings`). The visitor probes' cache verdicts are counted per site and
hour (`add_cache_counts`, `cache_hit_ratio`). `prune(days)` bounds the file.

One connection, guarded by a lock, so the monitor's history thread and a reader on another
thread can share an instance. Opening is lazy: constructing a History touches no disk.

The file's schema version is SQLite's `user_version`, read at open. `MIGRATIONS[n]`
turns a version n-1 file into version n (0 is a new, empty file) and all the steps a file
needs run in one transaction, so a failed upgrade leaves the file as it was. A new schema
is one new step at the end (an old step is never edited: files in the field went through
it). A file from a newer Lifeline is refused with one message and left untouched.
"""

from __future__ import annotations

import contextlib
import json
import operator
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from app.clock import iso
from app.events import (
    Event,
    MaintenanceChanged,
    NetworkChanged,
    PlatformStateChanged,
    SiteStateChanged,
)
from app.models import PlatformStatus, ProbeResult, SiteState
from app.storage_errors import explain

DETAIL_MAX = 120
REASON_MAX = 300
INCIDENTS_MAX = 3
DOWNTIME_STATES = frozenset({SiteState.DOWN.value})  # visitors get an error
# A site's maintenance spans (kind "maintenance"): neither uptime nor downtime.
MAINTENANCE, MAINTENANCE_ENDED = "maintenance", "ended"
MAX_PER_SITE = 10_000  # transitions kept per site whatever their age: bounds the worst case

# Version 1, as first released. IF NOT EXISTS: files from before versioning (user_version
# 0, the same tables) are adopted as they are.
_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS texts (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    site TEXT,
    previous TEXT,
    state TEXT NOT NULL,
    pof TEXT NOT NULL DEFAULT 'none',
    flapping INTEGER NOT NULL DEFAULT 0,
    reason INTEGER REFERENCES texts(id),
    evidence TEXT
);
CREATE INDEX IF NOT EXISTS transitions_site_at ON transitions (site, at);
CREATE INDEX IF NOT EXISTS transitions_at ON transitions (at);
CREATE TABLE IF NOT EXISTS coverage (
    id INTEGER PRIMARY KEY,
    start REAL NOT NULL,
    end REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS coverage_end ON coverage (end);
"""

Migration = Callable[[sqlite3.Connection], None]


def _create_v1(db: sqlite3.Connection) -> None:
    # One statement at a time: executescript would commit the migration's transaction.
    for statement in _SCHEMA_V1.split(";"):
        if statement.strip():
            db.execute(statement)


def _add_timings(db: sqlite3.Connection) -> None:
    # Response times per site and hour: one blob of TIMING_SLOTS 5-minute buckets x 2 probes
    # x (count, min, mean, max) as little-endian uint16 (milliseconds, capped): 192 bytes an
    # hour, about half of what a row per bucket costs (see tests/test_history.py's size test).
    db.execute(
        "CREATE TABLE timings (site TEXT NOT NULL, hour INTEGER NOT NULL, data BLOB NOT NULL, "
        "PRIMARY KEY (site, hour)) WITHOUT ROWID"
    )


def _add_cache_hits(db: sqlite3.Connection) -> None:
    # The visitor checks with a cache verdict (hit or miss) per site and hour, and how many
    # were hits: the site's cache-hit share, i.e. how protected its visitors are when the
    # origin fails.
    db.execute(
        "CREATE TABLE cache_hits (site TEXT NOT NULL, hour INTEGER NOT NULL, "
        "checks INTEGER NOT NULL, hits INTEGER NOT NULL, PRIMARY KEY (site, hour)) WITHOUT ROWID"
    )


MIGRATIONS: Mapping[int, Migration] = MappingProxyType(
    {1: _create_v1, 2: _add_timings, 3: _add_cache_hits}
)
SCHEMA_VERSION = max(MIGRATIONS)  # the version this code reads and writes


BUCKET_SECONDS = 300  # one response-time bucket
TIMING_SLOTS = 12  # buckets an hour
PROBES = ("anonymous", "backend")
_TIMING = struct.Struct(f"<{TIMING_SLOTS * len(PROBES) * 4}H")
_U16 = 65535


@dataclass(frozen=True)
class CacheCount:
    """A site's visitor checks with a cache verdict over one bucket, and how many hit."""

    site: str
    start: datetime
    checks: int
    hits: int


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


@dataclass(frozen=True)
class Transition:
    at: datetime
    kind: str  # site | platform | network | maintenance (state "maintenance" or "ended")
    site: str | None
    previous: str | None
    state: str
    point_of_failure: str
    reason: str
    flapping: bool = False
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "kind": self.kind,
            "site": self.site,
            "from": self.previous,
            "to": self.state,
            "point_of_failure": self.point_of_failure,
            "reason": self.reason,
            "flapping": self.flapping,
            "evidence": self.evidence,
        }


class HistoryError(Exception):
    """The history file cannot be opened or read (corrupt, not SQLite, no permission)."""


class History:
    def __init__(self, path: Path, *, migrations: Mapping[int, Migration] = MIGRATIONS) -> None:
        self.path = path
        self._migrations = migrations
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._span: int | None = None  # the coverage span this process is extending

    # ------------------------------------------------------------------ connection

    def _db(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not self.path.exists()
            conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=5.0
            )
            try:
                self._refuse_newer(_user_version(conn))  # before anything writes to it
                if fresh:
                    self.path.chmod(0o600)
                    # Only takes effect before the first table exists; lets prune give pages back.
                    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                # Every heartbeat rewrites a page into the WAL: checkpoint every 256 pages
                # (1 MiB) and trim the file back, so the WAL stays small as well.
                conn.execute("PRAGMA wal_autocheckpoint = 256")
                conn.execute("PRAGMA journal_size_limit = 1048576")
                self._migrate(conn)
            except BaseException:
                conn.close()
                raise
        except (sqlite3.Error, OSError) as exc:
            raise HistoryError(
                f"cannot open the history file {self.path}: {explain(self.path, str(exc))}"
            ) from exc
        self._conn = conn
        return conn

    def _refuse_newer(self, version: int) -> None:
        known = max(self._migrations)
        if version > known:
            raise HistoryError(
                f"the history file {self.path} was written by a newer Lifeline (schema "
                f"version {version}; this one reads up to {known}). It was left untouched: "
                "update Lifeline, or move the file away to start a new history."
            )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        target = max(self._migrations)
        if _user_version(conn) == target:
            return
        conn.execute("BEGIN IMMEDIATE")  # another process opening the file waits here
        try:
            version = _user_version(conn)  # as it is now that no one else can write
            self._refuse_newer(version)
            for step in range(version + 1, target + 1):
                try:
                    self._migrations[step](conn)
                except sqlite3.Error as exc:
                    raise HistoryError(
                        f"cannot upgrade the history file {self.path} from schema version "
                        f"{version} to {step}: {exc}. The file was left as it was."
                    ) from exc
            conn.execute(f"PRAGMA user_version = {target}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """The open file's schema version (opens it)."""
        with self._lock:
            return _user_version(self._db())

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                # A busy reader keeps the WAL; it is checkpointed on the next open.
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._conn.close()
                self._conn = None
            self._span = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def record(self, event: Event) -> None:
        """Store a state change with its evidence; other events are ignored."""
        row = _row(event)
        if row is None:
            return
        with self._lock, self._writing():
            self._insert(self._db(), row)

    def record_many(self, events: Iterable[Event]) -> int:
        """Store a round's state changes in ONE transaction; returns how many were stored.

        One commit per round instead of one per change: a first round of 200 sites is
        one job for the history thread, not 200 that each take the GIL in turn."""
        rows = [row for row in map(_row, events) if row is not None]
        if not rows:
            return 0
        with self._lock, self._writing():
            db = self._db()
            db.execute("BEGIN")
            try:
                # Few distinct reasons in a round; then one executemany: every statement
                # gives up the GIL and waits to get it back from the busy threads.
                ids = {
                    text: self._text_id(db, text)
                    for text in {row[7][:REASON_MAX] for row in rows if row[7]}
                }
                db.executemany(_INSERT, [_values(row, ids) for row in rows])
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return len(rows)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A full disk, a read-only or locked file: one HistoryError that says which file
        and why, instead of sqlite3's bare "database or disk is full"."""
        try:
            yield
        except sqlite3.Error as exc:
            raise HistoryError(
                f"cannot write to the history file {self.path}: {explain(self.path, str(exc))}"
            ) from exc

    def _insert(self, db: sqlite3.Connection, row: _Row) -> None:
        reason = row[7][:REASON_MAX]
        ids = {reason: self._text_id(db, reason)} if reason else {}
        db.execute(_INSERT, _values(row, ids))

    def mark_observed(self, at: datetime, continuous: bool = True) -> None:
        """The monitor was watching at `at`. `continuous=False` starts a new span: after
        a start, a sleep or a network outage, the gap before it is not covered."""
        ts = _ts(at)
        with self._lock:
            db = self._db()
            if continuous and self._span is not None:
                db.execute("UPDATE coverage SET end = max(end, ?) WHERE id = ?", (ts, self._span))
                return
            cur = db.execute("INSERT INTO coverage (start, end) VALUES (?, ?)", (ts, ts))
            self._span = cur.lastrowid

    def add_timings(self, buckets: Iterable[TimingBucket]) -> int:
        """Merge 5-minute buckets into the hourly rows, in one transaction (a bucket
        already there, from before a restart, is combined with it); returns how many."""
        by_row: dict[tuple[str, int], list[TimingBucket]] = {}
        for b in buckets:
            if b.count > 0 and b.probe in PROBES:
                by_row.setdefault((b.site, _hour(b.start)), []).append(b)
        if not by_row:
            return 0
        with self._lock, self._writing():
            db = self._db()
            db.execute("BEGIN")
            try:
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
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return sum(len(items) for items in by_row.values())

    def add_cache_counts(self, counts: Iterable[CacheCount]) -> int:
        """Add visitor checks and cache hits to their hourly rows, in one transaction."""
        by_row: dict[tuple[str, int], list[int]] = {}
        for c in counts:
            if c.checks > 0:
                row = by_row.setdefault((c.site, _hour(c.start)), [0, 0])
                row[0] += c.checks
                row[1] += min(c.hits, c.checks)
        if not by_row:
            return 0
        with self._lock, self._writing():
            db = self._db()
            db.execute("BEGIN")
            try:
                db.executemany(
                    "INSERT INTO cache_hits (site, hour, checks, hits) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (site, hour) DO UPDATE SET checks = checks + excluded.checks, "
                    "hits = hits + excluded.hits",
                    [(site, hour, n, hits) for (site, hour), (n, hits) in by_row.items()],
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return len(by_row)

    def cache_hit_ratio(self, site: str, *, since: datetime) -> float | None:
        """Share (0..1) of the site's visitor checks from the hour of `since` on that were
        served from cache; None when none had a cache verdict."""
        with self._lock:
            rows = self._query(
                "SELECT sum(checks), sum(hits) FROM cache_hits WHERE site = ? AND hour >= ?",
                [site, _hour(since)],
            )
        checks, hits = rows[0] if rows else (None, None)
        if not checks:
            return None
        return float(hits or 0) / float(checks)

    def cache_hit_ratios(self, *, since: datetime) -> dict[str, float]:
        """cache_hit_ratio for every site with a verdict since then, in one read."""
        with self._lock:
            rows = self._query(
                "SELECT site, sum(checks), sum(hits) FROM cache_hits WHERE hour >= ? "
                "GROUP BY site",
                [_hour(since)],
            )
        return {str(site): float(hits or 0) / float(n) for site, n, hits in rows if n}

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
            params.append(_ts(since))
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
                at=_dt(at),
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
        low, high = _ts(since), _ts(until) if until is not None else float("inf")
        with self._lock:
            rows = self._query(
                "SELECT hour, data FROM timings WHERE site = ? AND hour >= ? AND hour < ? "
                "ORDER BY hour",
                [site, int(low // 3600), high // 3600 + 1 if high != float("inf") else 2**62],
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
                                site, _dt(start), name, count, lo / 1000, mean / 1000, hi / 1000
                            )
                        )
        return out

    def timing_rows(
        self, site: str, *, since: datetime, until: datetime, probe: str, hourly: bool
    ) -> list[tuple[float, int, float, float, float]]:
        """Like `timings` (or `hourly_timings`) for one probe, as plain (epoch seconds,
        count, min, mean, max) tuples: what a sparkline of 200 sites reads quickly."""
        low, high = _ts(since), _ts(until)
        p = PROBES.index(probe)
        stride = len(PROBES) * 4
        with self._lock:
            rows = self._query(
                "SELECT hour, data FROM timings WHERE site = ? AND hour >= ? AND hour < ? "
                "ORDER BY hour",
                [site, int(low // 3600), int(high // 3600) + 1],
            )
        out: list[tuple[float, int, float, float, float]] = []
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
                    out.append((at, n, values[i + 1] / 1000, values[i + 2] / 1000,
                                values[i + 3] / 1000))
        return out

    def hourly_timings(
        self, site: str, *, since: datetime, until: datetime, probe: str = "anonymous"
    ) -> list[TimingBucket]:
        """One bucket per hour in [since, until), its twelve merged: a week or a month
        for a sparkline without a Python object per 5 minutes."""
        p = PROBES.index(probe)
        stride = len(PROBES) * 4
        with self._lock:
            rows = self._query(
                "SELECT hour, data FROM timings WHERE site = ? AND hour >= ? AND hour < ? "
                "ORDER BY hour",
                [site, int(_ts(since) // 3600), int(_ts(until) // 3600) + 1],
            )
        out: list[TimingBucket] = []
        for hour, data in rows:
            values = _unpack(data)
            counts = values[p * 4 :: stride]
            total = sum(counts)
            if not total or not _ts(since) <= hour * 3600 < _ts(until):
                continue
            means = values[p * 4 + 2 :: stride]
            lows = [low for n, low in zip(counts, values[p * 4 + 1 :: stride], strict=True) if n]
            out.append(
                TimingBucket(
                    site,
                    _dt(hour * 3600),
                    probe,
                    total,
                    min(lows) / 1000,
                    sum(map(operator.mul, counts, means)) / total / 1000,
                    max(values[p * 4 + 3 :: stride]) / 1000,
                )
            )
        return out

    def state_changes(
        self, site: str, *, since: datetime, until: datetime
    ) -> list[tuple[datetime, str, str]]:
        """(at, state, reason) of the site's changes in [since, until], preceded by the
        last one before `since` (the state the range starts in), oldest first."""
        start, end = _ts(since), _ts(until)
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
        return [(_dt(at), str(state), reason or "") for at, state, reason in [*prior, *rows]]

    def coverage(self, *, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """The spans the monitor was watching that reach into [since, until], by start."""
        with self._lock:
            rows = self._query(
                "SELECT start, end FROM coverage WHERE end > ? AND start < ? ORDER BY start",
                [_ts(since), _ts(until)],
            )
        return [(_dt(a), _dt(b)) for a, b in rows]

    def maintenance_spans(self, site: str, *, until: datetime) -> list[tuple[datetime, datetime]]:
        """The site's recorded maintenance windows up to `until` (one left open ends at
        its planned end, at most `until`)."""
        end = _ts(until)
        with self._lock:
            rows = self._query(
                "SELECT at, state, evidence FROM transitions WHERE kind = 'maintenance' "
                "AND site = ? AND at <= ? ORDER BY at, id",
                [site, end],
            )
        return [(_dt(a), _dt(b)) for a, b in _maintenance(rows, end)]

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
        end = _ts(now or datetime.now(UTC))
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
        watched = _minus([(float(a), float(b)) for a, b in spans], _maintenance(windows, end))
        known = down = 0.0
        for span_start, span_end in watched:
            for seg_start, seg_end, state in _segments(timeline, span_start, span_end):
                if state is None or state == SiteState.UNKNOWN.value:
                    continue
                known += seg_end - seg_start
                if state in DOWNTIME_STATES:
                    down += seg_end - seg_start
        if known <= 0:
            return None
        return max(0.0, min(1.0, 1.0 - down / known))

    def _query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        try:
            return list(self._db().execute(sql, params).fetchall())
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"cannot read the history file {self.path}: {exc}") from exc

    # ------------------------------------------------------------------ bounding

    def prune(self, days: int, *, now: datetime | None = None) -> int:
        """Forget what is older than `days`; returns the number of rows removed.

        The last transition of each site (and of the platform and the network) before
        the cut is kept, so the state at the start of the kept period is still known. A site
        that changed state more than MAX_PER_SITE times in that period keeps the most recent
        ones: a year of a misbehaving site cannot grow the file without bound.
        """
        cutoff = _ts(now or datetime.now(UTC)) - days * 86400.0
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


# ---------------------------------------------------------------------- rows and evidence

_Row = tuple[float, str, str | None, str | None, str, str, bool, str, dict[str, Any]]


_INSERT = (
    "INSERT INTO transitions (at, kind, site, previous, state, pof, flapping, reason, "
    "evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


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
                "SELECT site, sum(checks), sum(hits) FROM cache_hits WHERE hour >= ? "
                "GROUP BY site",
                (_hour(since),),
            ).fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return {}
    return {str(site): float(hits or 0) / float(n) for site, n, hits in rows if n}


def _values(row: _Row, text_ids: dict[str, int]) -> tuple[Any, ...]:
    at, kind, site, previous, state, pof, flapping, reason, evidence = row
    return (
        at,
        kind,
        site,
        previous,
        state,
        pof,
        int(flapping),
        text_ids[reason[:REASON_MAX]] if reason else None,
        _dumps(evidence) if evidence else None,
    )


def _row(event: Event) -> _Row | None:
    if isinstance(event, SiteStateChanged):
        evidence: dict[str, Any] = {}
        # Evidence of what failed; a recovery's "200 OK" is not worth its bytes.
        if event.result is not None and not event.state.is_good:
            evidence["anonymous"] = probe_evidence(event.result.anonymous)
            evidence["backend"] = probe_evidence(event.result.backend)
        if event.platform is not None and not event.state.is_good:
            evidence["platform"] = platform_evidence(event.platform)
        return (
            _ts(event.at),
            "site",
            event.site,
            event.previous.value if event.previous else None,
            event.state.value,
            event.point_of_failure.value,
            event.flapping,
            event.reason,
            evidence,
        )
    if isinstance(event, PlatformStateChanged):
        return (
            _ts(event.at),
            "platform",
            None,
            event.previous.value if event.previous else None,
            event.state.value,
            "platform" if event.state.value in ("degraded", "outage") else "none",
            False,
            event.platform.error or event.platform.description,
            {"platform": platform_evidence(event.platform)},
        )
    if isinstance(event, MaintenanceChanged):
        until = f" until {iso(event.until)}" if event.until else ""
        return (
            _ts(event.at),
            "maintenance",
            event.site,
            None if event.active else MAINTENANCE,
            MAINTENANCE if event.active else MAINTENANCE_ENDED,
            "none",
            False,
            f"In a maintenance window{until}" if event.active else "The maintenance window ended",
            # Its end, so a span left open (Lifeline stopped inside it) closes there.
            {"until": iso(event.until)} if event.active and event.until else {},
        )
    if isinstance(event, NetworkChanged):
        return (
            _ts(event.at),
            "network",
            None,
            "online" if not event.available else "offline",
            "online" if event.available else "offline",
            "none" if event.available else "network",
            False,
            event.reason,
            {},
        )
    return None


def probe_evidence(probe: ProbeResult) -> dict[str, Any]:
    """What a ticket or a post-mortem needs from one probe, and nothing more."""
    out: dict[str, Any] = {"status": probe.status, "seconds": round(probe.seconds, 2)}
    if probe.error is not None:
        out["error"] = probe.error.value
    if probe.detail:
        out["detail"] = probe.detail[:DETAIL_MAX]
    if probe.request_id:
        out["request_id"] = probe.request_id
    if probe.styx_hostname:
        out["styx"] = probe.styx_hostname
    if probe.cache.value != "unknown":
        out["cache"] = probe.cache.value
    return out


def platform_evidence(platform: PlatformStatus) -> dict[str, Any]:
    out: dict[str, Any] = {"state": platform.state.value}
    if platform.incidents:
        out["incidents"] = [
            {"name": i.name[:DETAIL_MAX], "impact": i.impact, "status": i.status, "url": i.url}
            for i in platform.incidents[:INCIDENTS_MAX]
        ]
    if platform.error:
        out["error"] = platform.error[:DETAIL_MAX]
    return out


def _segments(
    timeline: list[tuple[float, str]], start: float, end: float
) -> Iterator[tuple[float, float, str | None]]:
    """(from, to, state) pieces of [start, end] from a sorted list of (time, new state)."""
    state: str | None = None
    cursor = start
    for at, new_state in timeline:
        if at <= start:
            state = new_state
            continue
        if at >= end:
            break
        if at > cursor:
            yield cursor, at, state
            cursor = at
        state = new_state
    if end > cursor:
        yield cursor, end, state


def _maintenance(rows: list[tuple[Any, ...]], end: float) -> list[tuple[float, float]]:
    """The maintenance spans from a site's sorted (at, state, evidence) maintenance rows.
    A span not closed by an "ended" row (Lifeline stopped inside it) lasts until the end
    its window had, at most `end`."""
    spans: list[tuple[float, float]] = []
    opened: float | None = None
    planned_end = end
    for at, state, evidence in rows:
        if state == MAINTENANCE:
            if opened is not None and float(at) > planned_end:
                spans.append((opened, planned_end))  # the earlier one ran out unrecorded
                opened = None
            opened = float(at) if opened is None else opened
            planned_end = _until(evidence, end)
        elif opened is not None:
            spans.append((opened, min(float(at), planned_end)))
            opened = None
    if opened is not None:
        spans.append((opened, min(end, planned_end)))
    return spans


def _until(evidence: Any, default: float) -> float:
    try:
        until = json.loads(evidence)["until"] if evidence else None
        return _ts(datetime.fromisoformat(str(until).replace("Z", "+00:00"))) if until else default
    except (ValueError, TypeError, KeyError):
        return default


def _minus(
    spans: list[tuple[float, float]], holes: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The parts of `spans` outside every hole (both sorted by start)."""
    out: list[tuple[float, float]] = []
    for start, stop in spans:
        cursor = start
        for hole_start, hole_stop in holes:
            if hole_stop <= cursor or hole_start >= stop:
                continue
            if hole_start > cursor:
                out.append((cursor, hole_start))
            cursor = max(cursor, hole_stop)
        if cursor < stop:
            out.append((cursor, stop))
    return out


def _hour(at: datetime) -> int:
    return int(_ts(at) // 3600)


def _unpack(data: bytes) -> tuple[int, ...]:
    return _TIMING.unpack(data) if len(data) == _TIMING.size else (0,) * (_TIMING.size // 2)


def _merge_bucket(values: list[int], b: TimingBucket, hour: int) -> None:
    slot = min(TIMING_SLOTS - 1, int((_ts(b.start) - hour * 3600) // BUCKET_SECONDS))
    i = (slot * len(PROBES) + PROBES.index(b.probe)) * 4
    count, lo, mean, hi = values[i : i + 4]
    new_lo, new_mean, new_hi = (min(_U16, max(0, round(x * 1000))) for x in (b.min, b.mean, b.max))
    total = min(_U16, count + b.count)
    if count:
        new_lo, new_hi = min(lo, new_lo), max(hi, new_hi)
        new_mean = round((mean * count + new_mean * b.count) / (count + b.count))
    values[i : i + 4] = [total, new_lo, new_mean, new_hi]


def _user_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _ts(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
