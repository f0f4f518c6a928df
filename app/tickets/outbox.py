"""Ticket drafts on disk, so a crash, a kill or a power cut while sending loses nothing.

SQLite in the data dir with synchronous=FULL: a commit is on disk when it returns. Every
draft carries its idempotency key from birth, so each retry (from the form, the tray or
`lifeline outbox send`, in this process or after a restart) reuses it and the service can
drop duplicates. A draft moves draft -> sending -> filed; `handled_by_phone` and `dropped`
end it too. A filed, handled or dropped draft is never sent again: the claim that starts
an attempt is one conditional UPDATE.

Blocking (fsync): call from a worker thread or the CLI, never from the GUI thread.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.tickets.builder import sanitize


class DraftState(StrEnum):
    DRAFT = "draft"
    SENDING = "sending"
    FILED = "filed"
    HANDLED_BY_PHONE = "handled_by_phone"
    DROPPED = "dropped"


OPEN_STATES = (DraftState.DRAFT, DraftState.SENDING)


class OutboxError(Exception):
    """A draft cannot be changed the way asked (one line, for the CLI and the form)."""


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

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

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
        }


_SCHEMA = """
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


class Outbox:
    """The drafts database. Opens a connection per operation: safe from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10.0)) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute(_SCHEMA)
                with conn:  # one transaction, committed (and fsynced) on success
                    yield conn
            self.path.chmod(0o600)
        except (sqlite3.Error, OSError) as exc:
            # A corrupt, foreign or unwritable file: one line, never a traceback.
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise OutboxError(f"the outbox {self.path} cannot be used ({detail})") from exc

    # -- writing ---------------------------------------------------------------------

    def create(self, body: Mapping[str, Any]) -> Draft:
        clean = sanitize(dict(body))
        now = _now()
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
                " WHERE id = ? AND state IN (?, ?)",
                (
                    json.dumps(clean, ensure_ascii=False),
                    str(clean.get("subject", "")),
                    _iso(_now()),
                    draft_id,
                    *OPEN_STATES,
                ),
            )
            changed = cursor.rowcount
        if not changed:
            draft = self.get(draft_id)
            raise OutboxError(f"draft {draft_id} is {_state_words(draft.state)}; it cannot change")
        return self.get(draft_id)

    def claim(self, draft_id: int) -> Draft | None:
        """Start an attempt: mark sending, count it. None when the draft is no longer open."""
        now = _iso(_now())
        with self._db() as db:
            cursor = db.execute(
                "UPDATE drafts SET state = ?, attempts = attempts + 1, last_attempt_at = ?,"
                " updated_at = ? WHERE id = ? AND state IN (?, ?)",
                (DraftState.SENDING.value, now, now, draft_id, *OPEN_STATES),
            )
            claimed = cursor.rowcount == 1
        return self.get(draft_id) if claimed else None

    def mark_filed(self, draft_id: int, ticket_id: str, url: str = "") -> Draft:
        # Recorded even after "filed by phone": the service did file it, and that is the truth.
        with self._db() as db:
            db.execute(
                "UPDATE drafts SET state = ?, ticket_id = ?, ticket_url = ?, last_error = '',"
                " updated_at = ? WHERE id = ? AND state != ?",
                (
                    DraftState.FILED.value,
                    ticket_id,
                    url,
                    _iso(_now()),
                    draft_id,
                    DraftState.DROPPED.value,
                ),
            )
        return self.get(draft_id)

    def mark_failed(self, draft_id: int, reason: str) -> Draft:
        """The attempt failed: back to draft (unless the user settled it meanwhile)."""
        with self._db() as db:
            db.execute(
                "UPDATE drafts SET state = CASE WHEN state = ? THEN ? ELSE state END,"
                " last_error = ?, updated_at = ? WHERE id = ?",
                (
                    DraftState.SENDING.value,
                    DraftState.DRAFT.value,
                    sanitize(reason),
                    _iso(_now()),
                    draft_id,
                ),
            )
        return self.get(draft_id)

    def mark_handled(self, draft_id: int) -> Draft:
        """The user filed it by phone: never send it again."""
        return self._settle(draft_id, DraftState.HANDLED_BY_PHONE)

    def drop(self, draft_id: int) -> Draft:
        return self._settle(draft_id, DraftState.DROPPED)

    def _settle(self, draft_id: int, state: DraftState) -> Draft:
        with self._db() as db:
            cursor = db.execute(
                "UPDATE drafts SET state = ?, updated_at = ? WHERE id = ? AND state IN (?, ?)",
                (state.value, _iso(_now()), draft_id, *OPEN_STATES),
            )
            changed = cursor.rowcount
        draft = self.get(draft_id)
        if not changed and draft.state is not state:
            raise OutboxError(f"draft {draft_id} is already {_state_words(draft.state)}")
        return draft

    # -- reading ---------------------------------------------------------------------

    def get(self, draft_id: int) -> Draft:
        with self._db() as db:
            row = db.execute("SELECT * FROM drafts WHERE id = ?", (draft_id,)).fetchone()
            names = [d[0] for d in db.execute("SELECT * FROM drafts LIMIT 0").description]
        if row is None:
            raise OutboxError(f"no draft with id {draft_id} in the outbox")
        return _draft(dict(zip(names, row, strict=True)))

    def drafts(self, *, include_closed: bool = True) -> list[Draft]:
        query = "SELECT * FROM drafts"
        args: tuple[str, ...] = ()
        if not include_closed:
            query += " WHERE state IN (?, ?)"
            args = tuple(OPEN_STATES)
        with self._db() as db:
            cursor = db.execute(query + " ORDER BY id", args)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        return [_draft(dict(zip(names, row, strict=True))) for row in rows]

    def pending(self) -> list[Draft]:
        """Drafts that were meant to go out and did not: what the tray offers to send.

        Never-tried drafts (a form opened, edited and closed) are kept but not offered.
        """
        return [d for d in self.drafts(include_closed=False) if d.attempts > 0]


def pending_drafts(path: Path) -> list[Draft]:
    """For the tray: saved tickets to offer (never send them without asking)."""
    if not path.exists():
        return []
    return Outbox(path).pending()


def _draft(row: dict[str, Any]) -> Draft:
    try:
        body = json.loads(row["body"])
    except ValueError:
        body = {}
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
    )


def _state_words(state: DraftState) -> str:
    return {
        DraftState.DRAFT: "not sent yet",
        DraftState.SENDING: "being sent",
        DraftState.FILED: "filed",
        DraftState.HANDLED_BY_PHONE: "handled by phone",
        DraftState.DROPPED: "dropped",
    }[state]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)
