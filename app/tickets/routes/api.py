"""The `api` route: Lifeline's generic JSON ticket API (app/tickets/sender.py) as a route.

The wire format and every failure wording stay the sender's: POST {api}/tickets with a
Bearer token and an Idempotency-Key; this module only turns its SendResult into a
RouteResult, with the route's deadline.
"""

from __future__ import annotations

import ssl

from app.redact import register_secret
from app.tickets.builder import Ticket
from app.tickets.routes.base import RouteKind, RouteOutcome, RouteResult
from app.tickets.routes.common import failed, guarded
from app.tickets.sender import JsonTicketSender, SendResult
from app.tickets.transport import RETRYABLE, insecure_reason

SERVICE = "The ticket service"


class ApiRoute:
    kind = RouteKind.API

    def __init__(
        self,
        name: str,
        token: str,
        *,
        endpoint: str,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.endpoint = endpoint
        self._token = token
        self._verify = verify
        register_secret(token)

    async def file(self, ticket: Ticket, *, dedup_key: str, timeout: float) -> RouteResult:
        return await guarded(
            self.name, self.kind, SERVICE, timeout, lambda: self._send(ticket, dedup_key, timeout)
        )

    async def _send(self, ticket: Ticket, dedup_key: str, timeout: float) -> RouteResult:
        insecure = insecure_reason(self.endpoint, SERVICE)
        if insecure:
            return failed(self.name, self.kind, insecure)
        sender = JsonTicketSender(self.endpoint, self._token, timeout=timeout, verify=self._verify)
        result = await sender.send(ticket.to_body(), idempotency_key=dedup_key)
        return route_result(self.name, result)


def route_result(name: str, result: SendResult) -> RouteResult:
    """The sender's result in the route contract's terms."""
    if result.filed:
        return RouteResult(
            name=name,
            kind=RouteKind.API,
            outcome=RouteOutcome.FILED,
            reason="The ticket service filed the ticket",
            id=result.ticket_id or None,
            url=result.url or None,
            status=result.status,
            seconds=result.seconds,
        )
    retryable = result.failure in RETRYABLE or result.status == 429
    return RouteResult(
        name=name,
        kind=RouteKind.API,
        outcome=RouteOutcome.FAILED,
        reason=result.reason,
        retryable=retryable,
        status=result.status,
        seconds=result.seconds,
    )
