"""One attempt to file a saved draft: claim it, send it with its key, record the outcome.

The draft is on disk before this runs (Outbox.create), so whatever happens here (a
crash, a kill, a hang) the next attempt finds it and sends it with the same key.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from app.tickets.builder import sanitize
from app.tickets.outbox import DraftState, Outbox
from app.tickets.sender import FailureKind, SendResult, TicketSender


async def file_draft(outbox: Outbox, draft_id: int, sender: TicketSender) -> SendResult:
    draft = outbox.claim(draft_id)
    if draft is None:
        return _settled(outbox, draft_id)
    try:
        result = await sender.send(draft.body, idempotency_key=draft.idempotency_key)
    except BaseException as exc:
        # Senders return failures rather than raise; this is a bug or a cancellation,
        # and the draft must still go back to the outbox as not sent.
        outbox.mark_failed(draft_id, f"Sending stopped ({type(exc).__name__})")
        raise
    if result.filed:
        outbox.mark_filed(draft_id, result.ticket_id, result.url)
    else:
        outbox.mark_failed(draft_id, result.reason)
    return result


def file_draft_blocking(
    outbox_path: Path, draft_id: int, make_sender: Callable[[], TicketSender]
) -> SendResult:
    """For a worker thread or the CLI: make the sender (keyring) and file, in a fresh loop."""
    sender = make_sender()
    return asyncio.run(file_draft(Outbox(outbox_path), draft_id, sender))


def file_unsaved_blocking(
    body: Mapping[str, Any], make_sender: Callable[[], TicketSender]
) -> SendResult:
    """Last resort when the outbox cannot be written: send once, with a key of its own.

    The ticket matters more than its draft. Without a draft, every call has a new key (a
    retry may duplicate), and nothing is kept: callers say so and keep the text on screen.
    """
    sender = make_sender()
    key = str(uuid.uuid4())
    return asyncio.run(sender.send(sanitize(dict(body)), idempotency_key=key))


def _settled(outbox: Outbox, draft_id: int) -> SendResult:
    draft = outbox.get(draft_id)
    if draft.state is DraftState.FILED:
        return SendResult(filed=True, ticket_id=draft.ticket_id, url=draft.ticket_url)
    words = {
        DraftState.HANDLED_BY_PHONE: "was filed by phone",
        DraftState.DROPPED: "was dropped",
    }.get(draft.state, "is not open")
    return SendResult(
        filed=False,
        reason=f"Draft {draft_id} {words}; it is not sent again",
        failure=FailureKind.ALREADY_DONE,
    )
