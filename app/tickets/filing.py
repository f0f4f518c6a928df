"""One attempt to file a saved draft through its routes: claim, send each, record each.

The draft is on disk before this runs (Outbox.create), so whatever happens here (a
crash, a kill, a hang) the next attempt finds it and sends it with the same key. Only the
routes that have not reached their destination are sent; the claim is a lease, so two
senders never send the same draft at once. A route that filed stays filed even when its
outcome cannot be recorded (a locked or full disk): the record is retried, the failure
logged, and the caller keeps the result so it is never sent again from there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from app.redact import redact
from app.tickets.builder import Ticket
from app.tickets.outbox import LEASE_SLACK, Draft, DraftState, Outbox, OutboxError, state_words
from app.tickets.routes.base import Route, RouteKind, RouteOutcome, RouteResult

log = logging.getLogger(__name__)

RECORD_ATTEMPTS = 4
RECORD_BACKOFF = 0.25  # seconds, doubled after each failed attempt to record
ROUTE_SLACK = 0.5  # on top of the deadline, before a route that ignores it is cut off


@dataclass(frozen=True)
class Filing:
    """What one attempt did: every route's latest result, sent now or recorded before."""

    draft_id: int | None
    results: tuple[RouteResult, ...] = ()
    sent: tuple[str, ...] = ()  # the routes sent in this attempt
    skipped: str = ""  # why nothing was sent (settled, or another sender holds it)
    recorded: bool = True  # False: a result could not be written (it is still true)
    state: DraftState | None = None


async def file_routes(
    outbox: Outbox,
    draft_id: int,
    routes: Sequence[Route],
    *,
    timeout: float,
    known: Mapping[str, RouteResult] | None = None,
) -> Filing:
    """Send draft `draft_id` through every route that has not reached its destination.

    `known`: results this caller already has but may not have recorded (a record that
    failed earlier); a reached one is never sent again and is recorded now if it can be.
    """
    known = dict(known or {})
    draft = await asyncio.to_thread(outbox.get, draft_id)
    if not _to_send(draft, routes, known):
        late = _unrecorded(draft, known)
        if late and draft.is_open:  # results this caller could not write before
            recorded, final = await _record(outbox, draft_id, late)
            draft = final or draft
            return replace(
                _from_records(draft, routes, known, skipped=_settled_words(draft)),
                recorded=recorded,
            )
        return _from_records(draft, routes, known, skipped=_settled_words(draft))
    claimed = await asyncio.to_thread(outbox.claim, draft_id, lease=timeout + LEASE_SLACK)
    if claimed is None:
        draft = await asyncio.to_thread(outbox.get, draft_id)
        return _from_records(draft, routes, known, skipped=_busy_words(draft))
    todo = _to_send(claimed, routes, known)
    ticket = Ticket.from_body(claimed.body)
    try:
        fresh = await send_all(todo, ticket, dedup_key=claimed.idempotency_key, timeout=timeout)
    except BaseException:
        # Cancelled (the app quits): the draft goes back to the outbox, not sending.
        await asyncio.shield(
            asyncio.to_thread(_release_quietly, outbox, draft_id, "Sending was interrupted")
        )
        raise
    unrecorded = _unrecorded(claimed, known)
    recorded, final = await _record(outbox, draft_id, [*fresh, *unrecorded])
    latest = {**{r.name: r for r in unrecorded}, **{r.name: r for r in fresh}}
    return Filing(
        draft_id=draft_id,
        results=_ordered(routes, final or claimed, latest),
        sent=tuple(r.name for r in todo),
        recorded=recorded,
        state=final.state if final else None,
    )


async def send_all(
    routes: Sequence[Route], ticket: Ticket, *, dedup_key: str, timeout: float
) -> list[RouteResult]:
    """Every route at once, each within `timeout`; a route that raises or overruns is a
    failed result, never an exception (the hotline must still show)."""
    return list(
        await asyncio.gather(
            *(_guarded(route, ticket, dedup_key, timeout) for route in routes)
        )
    )


async def _guarded(route: Route, ticket: Ticket, dedup_key: str, timeout: float) -> RouteResult:
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout + ROUTE_SLACK):
            return await route.file(ticket, dedup_key=dedup_key, timeout=timeout)
    except TimeoutError:
        reason = f"No answer within {timeout:g} s"
    except Exception as exc:  # a route bug: the user still gets the hotline
        log.error("ticket route %s failed", route.name, exc_info=exc)
        reason = f"Lifeline could not send it ({type(exc).__name__})"
    return RouteResult(
        route.name,
        route.kind,
        RouteOutcome.HOTLINE if route.kind is RouteKind.DASHBOARD else RouteOutcome.FAILED,
        reason=redact(reason),
        retryable=True,
        seconds=time.monotonic() - started,
    )


async def _record(
    outbox: Outbox, draft_id: int, results: Sequence[RouteResult]
) -> tuple[bool, Draft | None]:
    delay = RECORD_BACKOFF
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            return True, await asyncio.to_thread(outbox.record, draft_id, list(results))
        except OutboxError as exc:
            log.error(
                "could not record the outcome of draft %s (attempt %d of %d): %s",
                draft_id, attempt, RECORD_ATTEMPTS, exc,
            )
            if attempt < RECORD_ATTEMPTS:
                await asyncio.sleep(delay)
                delay *= 2
    return False, None


def _release_quietly(outbox: Outbox, draft_id: int, reason: str) -> None:
    try:
        outbox.release(draft_id, reason)
    except OutboxError as exc:  # the lease runs out by itself
        log.warning("could not release draft %s: %s", draft_id, exc)


def _unrecorded(draft: Draft, known: Mapping[str, RouteResult]) -> list[RouteResult]:
    return [r for name, r in known.items() if r.outcome.reached and not draft.reached(name)]


def _to_send(
    draft: Draft, routes: Sequence[Route], known: Mapping[str, RouteResult]
) -> list[Route]:
    if not draft.is_open:
        return []
    return [
        r
        for r in routes
        if not draft.reached(r.name) and not (r.name in known and known[r.name].outcome.reached)
    ]


def _from_records(
    draft: Draft, routes: Sequence[Route], known: Mapping[str, RouteResult], *, skipped: str
) -> Filing:
    return Filing(
        draft_id=draft.id,
        results=_ordered(routes, draft, known),
        skipped=skipped,
        state=draft.state,
    )


def _ordered(
    routes: Sequence[Route], draft: Draft, latest: Mapping[str, RouteResult]
) -> tuple[RouteResult, ...]:
    """One result per route of the draft: this attempt's, else the recorded one."""
    names = [r.name for r in routes] + [r.name for r in draft.routes]
    names += [name for name in latest if name not in names]
    out: list[RouteResult] = []
    for name in dict.fromkeys(names):
        if name in latest:
            out.append(latest[name])
            continue
        record = draft.route(name)
        if record is None:
            continue
        try:
            kind = RouteKind(record.kind)
        except ValueError:
            kind = RouteKind.API
        out.append(
            RouteResult(
                name, kind, record.outcome, reason=record.reason,
                id=record.ticket_id or None, url=record.url or None,
            )
        )
    return tuple(out)


def _settled_words(draft: Draft) -> str:
    if draft.is_open:
        return f"Draft {draft.id}: every route already reached its destination"
    return f"Draft {draft.id} is {state_words(draft.state)}; it is not sent again"


def _busy_words(draft: Draft) -> str:
    if draft.state is DraftState.SENDING:
        return f"Draft {draft.id} is being sent by another Lifeline right now; not sent twice"
    return _settled_words(draft)
