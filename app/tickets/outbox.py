"""Ticket drafts on disk, so a crash, a kill or a power cut while sending loses nothing.

SQLite in the data dir with synchronous=FULL: a commit is on disk when it returns. Every
draft carries its idempotency key from birth, so each retry (from the form, the tray or
`lifeline outbox send`, in this process or after a restart) reuses it and every route's
service can drop duplicates. Each route's outcome is recorded on its own, so a retry
resends only the routes that did not reach their destination.

A draft moves draft -> sending -> filed (every route filed) or handed_to_dashboard (the
text was handed to the provider's dashboard; it stays there until the user says they
filed it); `filed_by_user`, `handled_by_phone` and `dropped` end it too. The claim that
starts an attempt is a lease: one conditional UPDATE that takes a draft only when nobody
holds it, or when the holder's lease (the route deadline plus slack) has run out because
it was killed. So two senders (the form and `lifeline outbox send`, or two CLI runs)
never send the same draft at once.

Blocking (fsync): call from a worker thread or the CLI, never from the GUI thread.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.storage_errors import explain
from app.tickets.builder import sanitize
from app.tickets.routes.base import RouteOutcome, RouteResult

SCHEMA_VERSION = 2  # PRAGMA user_version; 0 is the first format (no routes, no leases)
LEASE_SLACK = 15.0  # seconds on top of the route deadline before a claim counts as dead


class DraftState(StrEnum):
    DRAFT = "draft"
    SENDING = "sending"
    FILED = "filed"
    HANDED = "handed_to_dashboard"
    FILED_BY_USER = "filed_by_user"
    HANDLED_BY_PHONE = "handled_by_phone"
    DROPPED = "dropped"


OPEN_STATES = (DraftState.DRAFT, DraftState.SENDING, DraftState.HANDED)


class OutboxError(Exception):
    """A draft cannot be changed the way asked (one line, for the CLI and the form)."""


@dataclass(frozen=True)
class RouteRecord:
    """The last outcome of one route for one draft."""

    name: str
    kind: str
    outcome: RouteOutcome
    ticket_id: str
    url: str
    reason: str
    attempts: int
    updated_at: datetime

    @property
    def reached(self) -> bool:
        return self.outcome.reached

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "outcome": self.outcome.value,
            "id": self.ticket_id or None,
            "url": self.url or None,
            "reason": self.reason,
            "attempts": self.attempts,
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class Draft:
    id: int
    idempotency_key: str
    site: str
    subject: str
    body: dict[str, Any]
    state: DraftState
    attempts: int
    last_error: str
    created_at: datetime
    updated_at: datetime
    last_attempt_at: datetime | None
    ticket_id: str
    ticket_url: str
    routes: tuple[RouteRecord, ...] = ()
    lease_until: float | None = None  # epoch seconds; a sending draft's claim ends then

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def route(self, name: str) -> RouteRecord | None:
        return next((r for r in self.routes if r.name == name), None)

    def reached(self, name: str) -> bool:
        record = self.route(name)
        return record is not None and record.reached

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "idempotency_key": self.idempotency_key,
            "site": self.site,
            "subject": self.subject,
            "state": self.state.value,
            "attempts": self.attempts,
            "last_error": self.last_error or None,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "last_attempt_at": _iso(self.last_attempt_at) if self.last_attempt_at else None,
            "ticket_id": self.ticket_id or None,
            "ticket_url": self.ticket_url or None,
            "routes": [r.to_json() for r in self.routes],
        }


_DRAFTS = """
CREATE TABLE IF NOT EXISTS drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    site TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_attempt_at TEXT,
    ticket_id TEXT NOT NULL DEFAULT '',
    ticket_url TEXT NOT NULL DEFAULT ''
)
"""

_ROUTES = """
CREATE TABLE IF NOT EXISTS routes (
    draft_id INTEGER NOT NULL REFERENCES drafts(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    ticket_id TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (draft_id, name)
)
"""


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring any earlier format up to SCHEMA_VERSION, in one transaction."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise OutboxError(
            f"the outbox was written by a newer Lifeline (format {version}, this one "
            f"reads up to {SCHEMA_VERSION}); upgrade Lifeline to send its drafts"
        )
    with conn:
        conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then skip
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version >= SCHEMA_VERSION:
            return
        conn.execute(_DRAFTS)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(drafts)")}
        if "lease_until" not in columns:
            conn.execute("ALTER TABLE drafts ADD COLUMN lease_until REAL")
        conn.execute(_ROUTES)
        # Format 0 had one destination, the generic ticket API: its outcome becomes
        # the `api` route's, so a retry still resends only what was not filed.
        conn.execute(
            "INSERT OR IGNORE INTO routes (draft_id, name, kind, outcome, ticket_id, url,"
            " reason, attempts, updated_at)"
            " SELECT id, 'api', 'api', CASE WHEN state = 'filed' THEN 'filed' ELSE 'failed' END,"
            " ticket_id, ticket_url, last_error, attempts, updated_at FROM drafts"
            " WHERE attempts > 0 OR state = 'filed'"
        )
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


class Outbox:
    """The drafts database. Opens a connection per operation: safe from any thread."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = path
        self._clock = clock
        self._busy_timeout = busy_timeout

    @contextmanager
    def _db(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(
                sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
            ) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                _migrate(conn)
                # Writers take the lock up front: a claim is one check-and-set.
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")  # committed (and fsynced) on success
            self.path.chmod(0o600)
        except (sqlite3.Error, OSError) as exc:
            # A corrupt, foreign, locked or unwritable file: one line, never a traceback.
            detail = explain(self.path, " ".join(str(exc).split()) or type(exc).__name__)
            raise OutboxError(f"the outbox {self.path} cannot be used ({detail})") from exc

    # -- writing ---------------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> Draft:
        clean = sanitize(dict(body))
        now = self._clock()
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO drafts (idempotency_key, site, subject, body, state, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    str(uuid.uuid4()),
                    str(clean.get("site", "")),
                    str(clean.get("subject", "")),
                    json.dumps(clean, ensure_ascii=False),
                    DraftState.DRAFT.value,
                    _iso(now),
                    _iso(now),
                ),
            )
            draft_id = cursor.lastrowid
        assert draft_id is not None
        return self.get(draft_id)

    def update_body(self, draft_id: int, body: Mapping[str, Any]) -> Draft:
        """Save the user's edits. Only an open draft can change."""
        clean = sanitize(dict(body))
        with self._db() as db:
            cursor = db.execute(
                "UPDATE drafts SET body = ?, subject = ?, updated_at = ?"
                " WHERE id = ? AND state IN (?, ?, ?)",
                (
                    json.dumps(clean, ensure_ascii=False),
                    str(clean.get("subject", "")),
                    _iso(self._clock()),
                    draft_id,
                    *OPEN_STATES,
                ),
            )
            changed = cursor.rowcount
        if not changed:
            draft = self.get(draft_id)
            raise OutboxError(f"draft {draft_id} is {_state_words(draft.state)}; it cannot change")
        return self.get(draft_id)

    def claim(self, draft_id: int, *, lease: float) -> Draft | None:
        """Start an attempt: take the draft for `lease` seconds, count it.

        None when the draft is settled, or another sender holds a lease that has not run
        out (it is sending right now, or was killed less than `lease` seconds ago).
        """
        now = self._clock()
        stamp = now.timestamp()
        with self._db() as db:
            cursor = db.execute(
                "UPDATE drafts SET state = ?, attempts = attempts + 1, last_attempt_at = ?,"
                " updated_at = ?, lease_until = ? WHERE id = ? AND (state IN (?, ?)"
                " OR (state = ? AND (lease_until IS NULL OR lease_until <= ?)))",
                (
                    DraftState.SENDING.value,
                    _iso(now),
                    _iso(now),
                    stamp + lease,
                    draft_id,
                    DraftState.DRAFT.value,
                    DraftState.HANDED.value,
                    DraftState.SENDING.value,
                    stamp,
                ),
            )
            claimed = cursor.rowcount == 1
        return self.get(draft_id) if claimed else None

    def record(self, draft_id: int, results: Sequence[RouteResult]) -> Draft:
        """Record each route's outcome of an attempt and end the lease.

        The draft becomes filed when every route filed, handed_to_dashboard when every
        route reached its destination and one of them is the dashboard, draft again
        otherwise; a draft the user settled meanwhile (by phone, dropped) stays settled.
        """
        now = _iso(self._clock())
        with self._db() as db:
            for result in results:
                db.execute(
                    "INSERT INTO routes (draft_id, name, kind, outcome, ticket_id, url, reason,"
                    " attempts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)"
                    " ON CONFLICT (draft_id, name) DO UPDATE SET kind = excluded.kind,"
                    " outcome = excluded.outcome, ticket_id = excluded.ticket_id,"
                    " url = excluded.url, reason = excluded.reason,"
                    " attempts = routes.attempts + 1, updated_at = excluded.updated_at",
                    (
                        draft_id,
                        result.name,
                        result.kind.value,
                        result.outcome.value,
                        sanitize(result.id or ""),
                        sanitize(result.url or ""),
                        sanitize(result.reason),
                        now,
                    ),
                )
            rows = db.execute(
                "SELECT outcome, ticket_id, url, reason FROM routes WHERE draft_id = ?"
                " ORDER BY rowid",
                (draft_id,),
            ).fetchall()
            outcomes = [RouteOutcome(row[0]) for row in rows]
            if outcomes and all(o is RouteOutcome.FILED for o in outcomes):
                state = DraftState.FILED
            elif outcomes and all(o.reached for o in outcomes):
                state = DraftState.HANDED
            else:
                state = DraftState.DRAFT
            filed = next((row for row in rows if row[0] == RouteOutcome.FILED.value), None)
            errors = "; ".join(row[3] for row in rows if not RouteOutcome(row[0]).reached)
            db.execute(
                "UPDATE drafts SET state = CASE WHEN state IN (?, ?) THEN ? ELSE state END,"
                " ticket_id = ?, ticket_url = ?, last_error = ?, lease_until = NULL,"
                " updated_at = ? WHERE id = ?",
                (
                    DraftState.SENDING.value,
                    DraftState.DRAFT.value,
                    state.value,
                    filed[1] if filed else "",
                    filed[2] if filed else "",
                    errors,
                    now,
                    draft_id,
                ),
            )
        return self.get(draft_id)

    def release(self, draft_id: int, reason: str) -> Draft:
        """The attempt stopped before any route answered: back to draft, lease ended."""
        with self._db() as db:
            db.execute(
                "UPDATE drafts SET state = CASE WHEN state = ? THEN ? ELSE state END,"
                " last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?",
                (
                    DraftState.SENDING.value,
                    DraftState.DRAFT.value,
                    sanitize(reason),
                    _iso(self._clock()),
                    draft_id,
                ),
            )
        return self.get(draft_id)

    def mark_handled(self, draft_id: int) -> Draft:
        """The user filed it by phone: never send it again."""
        return self._settle(draft_id, DraftState.HANDLED_BY_PHONE)

    def mark_filed_by_user(self, draft_id: int) -> Draft:
        """The user filed it on the dashboard ("I filed it"): never send it again."""
        return self._settle(draft_id, DraftState.FILED_BY_USER)

    def drop(self, draft_id: int) -> Draft:
        return self._settle(draft_id, DraftState.DROPPED)

    def _settle(self, draft_id: int, state: DraftState) -> Draft:
        with self._db() as db:
            cursor = db.execute(
                "UPDATE drafts SET state = ?, lease_until = NULL, updated_at = ?"
                " WHERE id = ? AND state IN (?, ?, ?)",
                (state.value, _iso(self._clock()), draft_id, *OPEN_STATES),
            )
            changed = cursor.rowcount
        draft = self.get(draft_id)
        if not changed and draft.state is not state:
            raise OutboxError(f"draft {draft_id} is already {_state_words(draft.state)}")
        return draft

    # -- reading ---------------------------------------------------------------------

    def get(self, draft_id: int) -> Draft:
        with self._db(write=False) as db:
            cursor = db.execute("SELECT * FROM drafts WHERE id = ?", (draft_id,))
            names = [d[0] for d in cursor.description]
            row = cursor.fetchone()
            routes = _routes(db, [draft_id])
        if row is None:
            raise OutboxError(f"no draft with id {draft_id} in the outbox")
        return _draft(dict(zip(names, row, strict=True)), routes.get(draft_id, ()))

    def drafts(self, *, include_closed: bool = True) -> list[Draft]:
        query = "SELECT * FROM drafts"
        args: tuple[str, ...] = ()
        if not include_closed:
            query += " WHERE state IN (?, ?, ?)"
            args = tuple(OPEN_STATES)
        with self._db(write=False) as db:
            cursor = db.execute(query + " ORDER BY id", args)
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            routes = _routes(db, [int(row["id"]) for row in rows])
        return [_draft(row, routes.get(int(row["id"]), ())) for row in rows]

    def pending(self) -> list[Draft]:
        """Drafts that were meant to go out and did not: what the tray offers to send.

        Never-tried drafts (a form opened, edited and closed) are kept but not offered;
        nor is a draft another sender holds right now, nor one handed to the dashboard
        (nothing is left to send: it waits for the user's "I filed it").
        """
        now = self._clock().timestamp()
        return [
            d
            for d in self.drafts(include_closed=False)
            if d.attempts > 0
            and (
                d.state is DraftState.DRAFT
                or (d.state is DraftState.SENDING and _lease_over(d, now))
            )
        ]


def pending_drafts(path: Path) -> list[Draft]:
    """For the tray: saved tickets to offer (never send them without asking)."""
    if not path.exists():
        return []
    return Outbox(path).pending()


def _lease_over(draft: Draft, now: float) -> bool:
    return draft.lease_until is None or draft.lease_until <= now


def _routes(db: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[RouteRecord, ...]]:
    found: dict[int, list[RouteRecord]] = {}
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    cursor = db.execute(
        "SELECT draft_id, name, kind, outcome, ticket_id, url, reason, attempts, updated_at"
        f" FROM routes WHERE draft_id IN ({marks}) ORDER BY rowid",
        ids,
    )
    for row in cursor.fetchall():
        try:
            outcome = RouteOutcome(row[3])
        except ValueError:
            outcome = RouteOutcome.FAILED
        found.setdefault(int(row[0]), []).append(
            RouteRecord(
                name=str(row[1]),
                kind=str(row[2]),
                outcome=outcome,
                ticket_id=str(row[4]),
                url=str(row[5]),
                reason=str(row[6]),
                attempts=int(row[7]),
                updated_at=_parse(row[8]),
            )
        )
    return {key: tuple(value) for key, value in found.items()}


def _draft(row: dict[str, Any], routes: tuple[RouteRecord, ...]) -> Draft:
    try:
        body = json.loads(row["body"])
    except ValueError:
        body = {}
    lease = row.get("lease_until")
    return Draft(
        id=int(row["id"]),
        idempotency_key=str(row["idempotency_key"]),
        site=str(row["site"]),
        subject=str(row["subject"]),
        body=body if isinstance(body, dict) else {},
        state=DraftState(row["state"]),
        attempts=int(row["attempts"]),
        last_error=str(row["last_error"]),
        created_at=_parse(row["created_at"]),
        updated_at=_parse(row["updated_at"]),
        last_attempt_at=_parse(row["last_attempt_at"]) if row["last_attempt_at"] else None,
        ticket_id=str(row["ticket_id"]),
        ticket_url=str(row["ticket_url"]),
        routes=routes,
        lease_until=float(lease) if lease is not None else None,
    )


def _state_words(state: DraftState) -> str:
    return {
        DraftState.DRAFT: "not sent yet",
        DraftState.SENDING: "being sent",
        DraftState.FILED: "filed",
        DraftState.HANDED: "handed to the dashboard",
        DraftState.FILED_BY_USER: "filed by you on the dashboard",
        DraftState.HANDLED_BY_PHONE: "handled by phone",
        DraftState.DROPPED: "dropped",
    }[state]


def state_words(state: DraftState) -> str:
    """How the CLI and the tray say a draft's state."""
    return _state_words(state)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)
