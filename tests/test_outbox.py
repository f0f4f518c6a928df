"""The outbox: drafts on disk, their states, one idempotency key per draft across retries."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import pytest

from app.paths import Paths
from app.tickets.filing import file_draft
from app.tickets.outbox import DraftState, Outbox, OutboxError, pending_drafts
from app.tickets.sender import FailureKind, JsonTicketSender
from tests.loopback import LoopbackServer, Reply
from tests.ticket_samples import PLANTED_TOKEN, sample_ticket


@pytest.fixture
def outbox(paths: Paths) -> Outbox:
    return Outbox(paths.outbox_db)


def test_a_new_draft_is_on_disk_with_its_own_key(outbox: Outbox) -> None:
    draft = outbox.create(sample_ticket().to_body())
    other = outbox.create(sample_ticket().to_body())
    assert draft.state is DraftState.DRAFT and draft.attempts == 0
    assert uuid.UUID(draft.idempotency_key).version == 4
    assert draft.idempotency_key != other.idempotency_key
    # Read back through a separate connection, as another process would.
    again = Outbox(outbox.path).get(draft.id)
    assert again.body == sample_ticket().to_body()
    assert again.subject.startswith("EMERGENCY: shop (live) down")


def test_full_sync_and_private_file(outbox: Outbox) -> None:
    outbox.create(sample_ticket().to_body())
    with outbox._db() as db:
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert outbox.path.stat().st_mode & 0o077 == 0


def test_edits_are_saved_until_the_draft_is_settled(outbox: Outbox) -> None:
    draft = outbox.create(sample_ticket().to_body())
    body = {**draft.body, "description": "Checkout is broken too."}
    assert outbox.update_body(draft.id, body).body["description"] == "Checkout is broken too."
    outbox.mark_handled(draft.id)
    with pytest.raises(OutboxError, match="handled by phone"):
        outbox.update_body(draft.id, body)


def test_states_and_what_is_pending(outbox: Outbox) -> None:
    untried = outbox.create(sample_ticket().to_body())
    failed = outbox.create(sample_ticket().to_body())
    filed = outbox.create(sample_ticket().to_body())
    assert outbox.claim(failed.id) is not None
    outbox.mark_failed(failed.id, "The ticket service answered 503")
    assert outbox.claim(filed.id) is not None
    outbox.mark_filed(filed.id, "T-1", "https://help.example/T-1")

    pending = outbox.pending()
    assert [d.id for d in pending] == [failed.id]  # never-tried drafts are not offered
    assert pending[0].last_error == "The ticket service answered 503"
    assert pending[0].attempts == 1
    assert [d.id for d in pending_drafts(outbox.path)] == [failed.id]
    assert outbox.claim(filed.id) is None  # a filed draft is never claimed again
    with pytest.raises(OutboxError, match="already filed"):
        outbox.drop(filed.id)
    assert outbox.drop(untried.id).state is DraftState.DROPPED
    assert outbox.claim(untried.id) is None


def test_filed_by_phone_while_sending_is_not_undone_by_the_failure(outbox: Outbox) -> None:
    draft = outbox.create(sample_ticket().to_body())
    outbox.claim(draft.id)
    outbox.mark_handled(draft.id)  # the user gave up waiting and called
    after = outbox.mark_failed(draft.id, "The ticket service did not answer within 8 s")
    assert after.state is DraftState.HANDLED_BY_PHONE
    assert outbox.pending() == []


def test_no_outbox_file_means_nothing_pending(tmp_path: Path) -> None:
    assert pending_drafts(tmp_path / "absent.sqlite3") == []
    assert not (tmp_path / "absent.sqlite3").exists()


def test_unknown_draft(outbox: Outbox) -> None:
    with pytest.raises(OutboxError, match="no draft with id 42"):
        outbox.get(42)


def test_retries_reuse_the_key_and_a_filed_draft_is_not_sent_again(
    outbox: Outbox, server: LoopbackServer
) -> None:
    answers = iter([Reply.json({"error": "busy"}, 503), Reply.json({"id": "T-7"}, 201)])
    server.route("/tickets", lambda _req: next(answers))
    sender = JsonTicketSender(server.url, PLANTED_TOKEN, timeout=2.0)
    draft = outbox.create(sample_ticket().to_body())

    first = asyncio.run(file_draft(outbox, draft.id, sender))
    assert first.failure is FailureKind.SERVER_ERROR
    assert outbox.get(draft.id).state is DraftState.DRAFT
    second = asyncio.run(file_draft(outbox, draft.id, sender))
    assert second.filed and second.ticket_id == "T-7"
    third = asyncio.run(file_draft(outbox, draft.id, sender))
    assert third.filed and third.ticket_id == "T-7"

    assert len(server.requests) == 2
    keys = {r.headers["Idempotency-Key"] for r in server.requests}
    assert keys == {draft.idempotency_key}
    final = outbox.get(draft.id)
    assert (final.state, final.attempts, final.ticket_id) == (DraftState.FILED, 2, "T-7")


def test_a_draft_handled_by_phone_is_never_sent(outbox: Outbox, server: LoopbackServer) -> None:
    server.route("/tickets", Reply.json({"id": "T-8"}, 201))
    draft = outbox.create(sample_ticket().to_body())
    outbox.mark_handled(draft.id)
    result = asyncio.run(
        file_draft(outbox, draft.id, JsonTicketSender(server.url, "t0ken-x", timeout=2.0))
    )
    assert not result.filed and result.failure is FailureKind.ALREADY_DONE
    assert "filed by phone" in result.reason
    assert server.requests == []


def test_the_outbox_holds_no_secret(outbox: Outbox) -> None:
    from app.redact import register_secret

    register_secret(PLANTED_TOKEN)
    body = sample_ticket().to_body()
    body["description"] += f"\nmy token is {PLANTED_TOKEN}, url https://x.example/?token=abc123456"
    draft = outbox.create(body)
    outbox.claim(draft.id)
    outbox.mark_failed(draft.id, f"failed with Bearer {PLANTED_TOKEN}")
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
