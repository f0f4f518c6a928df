"""The outbox: drafts on disk, per-route outcomes, leases, one key per draft across retries."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.paths import Paths
from app.tickets.filing import file_routes
from app.tickets.outbox import (
    LEASE_SLACK,
    SCHEMA_VERSION,
    DraftState,
    Outbox,
    OutboxError,
    pending_drafts,
)
from app.tickets.routes.api import ApiRoute
from app.tickets.routes.base import RouteKind, RouteOutcome, RouteResult
from app.tickets.routes.dashboard import DashboardRoute
from tests.loopback import LoopbackServer, Reply
from tests.ticket_samples import PLANTED_TOKEN, sample_ticket

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(paths: Paths, clock: Clock) -> Outbox:
    return Outbox(paths.outbox_db, clock=clock)


def filed(name: str = "api", ticket_id: str = "T-1") -> RouteResult:
    return RouteResult(name, RouteKind.API, RouteOutcome.FILED, id=ticket_id)


def failed(name: str = "api", reason: str = "The ticket service answered 503") -> RouteResult:
    return RouteResult(name, RouteKind.API, RouteOutcome.FAILED, reason=reason)


def api_route(server: LoopbackServer, name: str = "api") -> ApiRoute:
    return ApiRoute(name, PLANTED_TOKEN, endpoint=server.url)


def test_a_new_draft_is_on_disk_with_its_own_key(outbox: Outbox) -> None:
    draft = outbox.create(sample_ticket().to_body())
    other = outbox.create(sample_ticket().to_body())
    assert draft.state is DraftState.DRAFT and draft.attempts == 0 and draft.routes == ()
    assert uuid.UUID(draft.idempotency_key).version == 4
    assert draft.idempotency_key != other.idempotency_key
    # Read back through a separate connection, as another process would.
    again = Outbox(outbox.path).get(draft.id)
    assert again.body == sample_ticket().to_body()
    assert again.subject.startswith("EMERGENCY: shop (live) down")
    assert again.created_at == T0


def test_full_sync_private_file_and_schema_version(outbox: Outbox) -> None:
    outbox.create(sample_ticket().to_body())
    with outbox._db() as db:
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert outbox.path.stat().st_mode & 0o077 == 0


def test_edits_are_saved_until_the_draft_is_settled(outbox: Outbox) -> None:
    draft = outbox.create(sample_ticket().to_body())
    body = {**draft.body, "description": "Checkout is broken too."}
    assert outbox.update_body(draft.id, body).body["description"] == "Checkout is broken too."
    outbox.mark_handled(draft.id)
    with pytest.raises(OutboxError, match="handled by phone"):
        outbox.update_body(draft.id, body)


def test_per_route_outcomes_and_what_is_pending(outbox: Outbox) -> None:
    untried = outbox.create(sample_ticket().to_body())
    partly = outbox.create(sample_ticket().to_body())
    done = outbox.create(sample_ticket().to_body())
    handed = outbox.create(sample_ticket().to_body())
    for draft in (partly, done, handed):
        assert outbox.claim(draft.id, lease=10) is not None
    dashboard = RouteResult("dashboard", RouteKind.DASHBOARD, RouteOutcome.DASHBOARD)
    after = outbox.record(partly.id, [filed("pagerduty", "k-1"), failed("api")])
    assert after.state is DraftState.DRAFT and after.ticket_id == "k-1"
    assert after.last_error == "The ticket service answered 503"
    assert outbox.record(done.id, [filed("api", "T-1")]).state is DraftState.FILED
    assert outbox.record(handed.id, [dashboard, filed()]).state is DraftState.HANDED

    pending = outbox.pending()
    assert [d.id for d in pending] == [partly.id]  # never tried, filed, handed: not offered
    assert [(r.name, r.outcome) for r in pending[0].routes] == [
        ("pagerduty", RouteOutcome.FILED),
        ("api", RouteOutcome.FAILED),
    ]
    assert [d.id for d in pending_drafts(outbox.path)] == [partly.id]
    assert outbox.claim(done.id, lease=10) is None  # a filed draft is never claimed again
    with pytest.raises(OutboxError, match="already filed"):
        outbox.drop(done.id)
    assert outbox.mark_filed_by_user(handed.id).state is DraftState.FILED_BY_USER
    assert outbox.drop(untried.id).state is DraftState.DROPPED
    assert outbox.claim(untried.id, lease=10) is None

    # A retry's outcome replaces the route's previous one and counts its attempts.
    outbox.claim(partly.id, lease=10)
    final = outbox.record(partly.id, [filed("api", "T-2")])
    assert final.state is DraftState.FILED
    assert [(r.name, r.attempts) for r in final.routes] == [("pagerduty", 1), ("api", 2)]


def test_a_claim_is_a_lease(outbox: Outbox, clock: Clock) -> None:
    """Issue 12 defect 2: a draft being sent is not claimed again until its lease ends."""
    draft = outbox.create(sample_ticket().to_body())
    assert outbox.claim(draft.id, lease=8 + LEASE_SLACK) is not None
    assert outbox.claim(draft.id, lease=8 + LEASE_SLACK) is None
    assert outbox.pending() == []  # nor offered by the tray meanwhile
    clock.now += timedelta(seconds=8 + LEASE_SLACK - 1)
    assert outbox.claim(draft.id, lease=8 + LEASE_SLACK) is None
    clock.now += timedelta(seconds=2)  # the sender died: its lease ran out
    assert [d.id for d in outbox.pending()] == [draft.id]
    again = outbox.claim(draft.id, lease=8 + LEASE_SLACK)
    assert again is not None and again.attempts == 2
    outbox.release(draft.id, "Sending was interrupted")
    assert outbox.claim(draft.id, lease=1) is not None  # released: free at once


def test_filed_by_phone_while_sending_is_not_undone_by_the_failure(outbox: Outbox) -> None:
    draft = outbox.create(sample_ticket().to_body())
    outbox.claim(draft.id, lease=10)
    outbox.mark_handled(draft.id)  # the user gave up waiting and called
    after = outbox.record(draft.id, [failed(reason="No answer within 8 s")])
    assert after.state is DraftState.HANDLED_BY_PHONE
    assert outbox.pending() == []


def test_todays_format_is_migrated(paths: Paths) -> None:
    """An outbox written before routes and leases (format 0) opens and keeps its meaning."""
    paths.outbox_db.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(paths.outbox_db) as db:
        db.execute(
            "CREATE TABLE drafts (id INTEGER PRIMARY KEY AUTOINCREMENT, idempotency_key TEXT"
            " NOT NULL UNIQUE, site TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,"
            " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT"
            " NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
            " last_attempt_at TEXT, ticket_id TEXT NOT NULL DEFAULT '', ticket_url TEXT NOT"
            " NULL DEFAULT '')"
        )
        rows: list[tuple[Any, ...]] = [
            ("k-1", "draft", 1, "The ticket service answered 503", "", ""),
            ("k-2", "filed", 1, "", "T-9", "https://help.example/T-9"),
            ("k-3", "draft", 0, "", "", ""),
            ("k-4", "sending", 1, "", "", ""),
        ]
        for key, state, attempts, error, ticket_id, url in rows:
            db.execute(
                "INSERT INTO drafts (idempotency_key, site, subject, body, state, attempts,"
                " last_error, created_at, updated_at, ticket_id, ticket_url)"
                " VALUES (?, 'shop', 'EMERGENCY', '{}', ?, ?, ?, ?, ?, ?, ?)",
                (key, state, attempts, error, T0.isoformat(), T0.isoformat(), ticket_id, url),
            )
    outbox = Outbox(paths.outbox_db)
    drafts = outbox.drafts()
    assert [d.state.value for d in drafts] == ["draft", "filed", "draft", "sending"]
    assert [[(r.name, r.outcome.value) for r in d.routes] for d in drafts] == [
        [("api", "failed")],
        [("api", "filed")],
        [],
        [("api", "failed")],
    ]
    assert drafts[1].routes[0].ticket_id == "T-9"
    # A sending draft of the old format has no lease: the sender that held it is gone.
    assert [d.id for d in outbox.pending()] == [1, 4]
    with sqlite3.connect(paths.outbox_db) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_newer_format_is_one_clear_error(paths: Paths) -> None:
    Outbox(paths.outbox_db).create(sample_ticket().to_body())
    with sqlite3.connect(paths.outbox_db) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(OutboxError, match="written by a newer Lifeline"):
        Outbox(paths.outbox_db).drafts()


def test_no_outbox_file_means_nothing_pending(tmp_path: Path) -> None:
    assert pending_drafts(tmp_path / "absent.sqlite3") == []
    assert not (tmp_path / "absent.sqlite3").exists()


def test_unknown_draft(outbox: Outbox) -> None:
    with pytest.raises(OutboxError, match="no draft with id 42"):
        outbox.get(42)


def test_retries_resend_only_failed_routes_with_the_same_key(
    outbox: Outbox, make_server: Any
) -> None:
    good, flaky = make_server(), make_server()
    good.route("/tickets", Reply.json({"id": "G-1"}, 201))
    answers = iter([Reply.json({"error": "busy"}, 503), Reply.json({"id": "T-7"}, 201)])
    flaky.route("/tickets", lambda _req: next(answers))

    routes = [api_route(good, "good"), api_route(flaky, "flaky")]
    draft = outbox.create(sample_ticket().to_body())

    first = asyncio.run(file_routes(outbox, draft.id, routes, timeout=2.0))
    assert [(r.name, r.outcome.value) for r in first.results] == [
        ("good", "filed"),
        ("flaky", "failed"),
    ]
    assert outbox.get(draft.id).state is DraftState.DRAFT
    second = asyncio.run(file_routes(outbox, draft.id, routes, timeout=2.0))
    assert second.sent == ("flaky",)
    assert [(r.name, r.id) for r in second.results] == [("good", "G-1"), ("flaky", "T-7")]
    third = asyncio.run(file_routes(outbox, draft.id, routes, timeout=2.0))
    assert third.sent == () and "is filed; it is not sent again" in third.skipped

    assert len(good.requests) == 1 and len(flaky.requests) == 2
    keys = {r.headers["Idempotency-Key"] for r in [*good.requests, *flaky.requests]}
    assert keys == {draft.idempotency_key}
    final = outbox.get(draft.id)
    assert (final.state, final.attempts) == (DraftState.FILED, 2)


def test_a_draft_handled_by_phone_is_never_sent(outbox: Outbox, server: LoopbackServer) -> None:
    server.route("/tickets", Reply.json({"id": "T-8"}, 201))
    draft = outbox.create(sample_ticket().to_body())
    outbox.mark_handled(draft.id)
    result = asyncio.run(file_routes(outbox, draft.id, [api_route(server)], timeout=2.0))
    assert result.sent == () and "handled by phone" in result.skipped
    assert server.requests == []


def test_a_filed_ticket_is_reported_filed_when_the_record_fails(
    paths: Paths, server: LoopbackServer
) -> None:
    """Issue 12 defect 3: the service filed it, then the outbox was locked. The ticket is
    reported filed (not the hotline), the record is retried, and it is never resent."""
    outbox = Outbox(paths.outbox_db, busy_timeout=0.05)
    draft = outbox.create(sample_ticket().to_body())
    locked = threading.Event()
    release = threading.Event()

    def lock_then_answer(_req: Any) -> Reply:
        # Another process takes the database's write lock while the ticket is filed.
        def hold() -> None:
            db = sqlite3.connect(paths.outbox_db, isolation_level=None)
            db.execute("BEGIN EXCLUSIVE")
            locked.set()
            release.wait(30)
            db.execute("ROLLBACK")
            db.close()

        threading.Thread(target=hold, daemon=True).start()
        locked.wait(10)
        return Reply.json({"id": "T-5"}, 201)

    server.route("/tickets", lock_then_answer)
    route = api_route(server)
    first = asyncio.run(file_routes(outbox, draft.id, [route], timeout=2.0))
    assert first.recorded is False
    assert [(r.outcome, r.id) for r in first.results] == [(RouteOutcome.FILED, "T-5")]
    release.set()

    # The caller keeps what it knows: the next attempt sends nothing and records it.
    known = {r.name: r for r in first.results}
    server.route("/tickets", Reply.json({"id": "T-6"}, 201))
    second = asyncio.run(file_routes(outbox, draft.id, [route], timeout=2.0, known=known))
    assert len(server.requests) == 1
    assert second.recorded and second.state is DraftState.FILED
    assert outbox.get(draft.id).ticket_id == "T-5"


def test_a_route_that_raises_is_a_failure_not_an_exception(outbox: Outbox) -> None:
    class Broken:
        name = "broken"
        kind = RouteKind.WEBHOOK

        async def file(self, ticket: Any, *, dedup_key: str, timeout: float) -> RouteResult:
            raise UnicodeEncodeError("ascii", "\xa0", 0, 1, "no")

    draft = outbox.create(sample_ticket().to_body())
    result = asyncio.run(file_routes(outbox, draft.id, [Broken()], timeout=1.0))
    (only,) = result.results
    assert only.outcome is RouteOutcome.FAILED and "UnicodeEncodeError" in only.reason


def test_the_dashboard_route_is_not_resent_once_handed(
    outbox: Outbox, server: LoopbackServer
) -> None:
    server.route("*", Reply(302, "", {"Location": "/login"}))
    route = DashboardRoute(support_url=f"{server.url}/#support")
    draft = outbox.create(sample_ticket().to_body())
    first = asyncio.run(file_routes(outbox, draft.id, [route], timeout=2.0))
    assert [r.outcome for r in first.results] == [RouteOutcome.DASHBOARD]
    assert first.state is DraftState.HANDED
    again = asyncio.run(file_routes(outbox, draft.id, [route], timeout=2.0))
    assert again.sent == () and len(server.requests) == 1


def test_the_outbox_holds_no_secret(outbox: Outbox) -> None:
    from app.redact import register_secret

    register_secret(PLANTED_TOKEN)
    body = sample_ticket().to_body()
    body["description"] += f"\nmy token is {PLANTED_TOKEN}, url https://x.example/?token=abc123456"
    draft = outbox.create(body)
    outbox.claim(draft.id, lease=10)
    outbox.record(draft.id, [failed(reason=f"failed with Bearer {PLANTED_TOKEN}")])
    raw = b"".join(p.read_bytes() for p in outbox.path.parent.glob("outbox.sqlite3*"))
    assert PLANTED_TOKEN.encode() not in raw
    assert b"abc123456" not in raw
    rows = sqlite3.connect(outbox.path).execute("SELECT body, last_error FROM drafts").fetchall()
    assert PLANTED_TOKEN not in repr(rows)


def test_a_corrupt_outbox_is_one_clear_error(outbox: Outbox) -> None:
    outbox.path.parent.mkdir(parents=True, exist_ok=True)
    outbox.path.write_bytes(b"this is not a database\n" * 100)
    with pytest.raises(
        OutboxError, match=r"the outbox .*outbox.sqlite3 cannot be used \(file is not a database\)"
    ):
        outbox.create(sample_ticket().to_body())
    with pytest.raises(OutboxError):
        pending_drafts(outbox.path)
