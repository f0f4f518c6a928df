"""The history file's tables, and the steps that bring an older file up to date.

The schema version is SQLite's `user_version`. `MIGRATIONS[n]` turns a version n-1 file
into version n (0 is a new, empty file); `app.history_file` runs all the steps a file
needs in one transaction at open. A new schema is one new step at the end: an old step
is never edited, since files in the field went through it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from types import MappingProxyType

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


def user_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])
