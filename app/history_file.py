"""The history's SQLite file: opened lazily, brought up to date at open, one connection.

Opening creates the folder and the file (private, 0600), switches to WAL with a small
journal, and runs the `app.history_schema` steps the file needs in one transaction, so a
failed upgrade leaves the file as it was. A file from a newer Lifeline is refused with one
message and left untouched. Every SQLite or OS error becomes one HistoryError that names
the file and why. The connection is shared by threads behind `lock` (re-entrant, so a
caller can hold it across several statements).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.history_schema import MIGRATIONS, Migration, user_version
from app.storage_errors import explain


class HistoryError(Exception):
    """The history file cannot be opened or read (corrupt, not SQLite, no permission)."""


class HistoryFile:
    def __init__(self, path: Path, *, migrations: Mapping[int, Migration] = MIGRATIONS) -> None:
        self.path = path
        self._migrations = migrations
        self.lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    def connection(self) -> sqlite3.Connection:
        """The open connection (opening the file on first use)."""
        if self._conn is not None:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not self.path.exists()
            conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=5.0
            )
            try:
                self._refuse_newer(user_version(conn))  # before anything writes to it
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
        if user_version(conn) == target:
            return
        conn.execute("BEGIN IMMEDIATE")  # another process opening the file waits here
        try:
            version = user_version(conn)  # as it is now that no one else can write
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
        with self.lock:
            return user_version(self.connection())

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                # A busy reader keeps the WAL; it is checkpointed on the next open.
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._conn.close()
                self._conn = None

    def query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        try:
            return list(self.connection().execute(sql, params).fetchall())
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"cannot read the history file {self.path}: {exc}") from exc

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """A full disk, a read-only or locked file: one HistoryError that says which file
        and why, instead of sqlite3's bare "database or disk is full"."""
        try:
            yield
        except sqlite3.Error as exc:
            raise HistoryError(
                f"cannot write to the history file {self.path}: {explain(self.path, str(exc))}"
            ) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Several writes as one (hold `lock` and `writing()` around it)."""
        db = self.connection()
        db.execute("BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


# Times are stored as epoch seconds (UTC), response times and cache counts per hour.


def ts(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def hour_of(at: datetime) -> int:
    return int(ts(at) // 3600)
