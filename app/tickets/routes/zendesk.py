"""The `zendesk` route: an urgent incident ticket in an agency's own Zendesk.

Wire format (developer.zendesk.com, Ticketing API "Tickets", Create Ticket): POST
{https://<subdomain>.zendesk.com}/api/v2/tickets.json with {"ticket": {...}}; API token
authentication is HTTP Basic with "{email}/token:{api_token}". The `Idempotency-Key`
header (Ticketing API introduction, "Idempotency") makes a retry of the same draft
return the first ticket instead of creating a second one; reusing a key with a different
body answers 400 IdempotentRequestError. 201 with {"ticket": {"id": ..., ...}} is
success; 422 RecordInvalid and 400 are refusals with {"error", "description", "details"}.
"""

from __future__ import annotations

import base64
import re
import ssl
from typing import Any

from app.redact import register_secret
from app.tickets.builder import Ticket, plain_text
from app.tickets.routes.base import RouteKind, RouteResult
from app.tickets.routes.common import JsonRoute, json_object, text_of
from app.tickets.transport import Answer, is_https_link

SERVICE = "Zendesk"
_TAG_CHARS = re.compile(r"[^a-z0-9_/-]+")


def ticket_request(ticket: Ticket) -> dict[str, Any]:
    """The Create Ticket request body for `ticket`."""
    # Zendesk tags are single lower-case words: a space would split one into two.
    site_tag = "site_" + _TAG_CHARS.sub("_", ticket.site.lower()).strip("_")
    return {
        "ticket": {
            "subject": ticket.subject or f"EMERGENCY: {ticket.site} {ticket.impact}",
            "comment": {"body": plain_text(ticket)},
            "priority": "urgent",
            "type": "incident",
            "tags": ["lifeline", "emergency", site_tag[:80]],
        }
    }


def basic_auth(email: str, api_token: str) -> str:
    raw = f"{email}/token:{api_token}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class ZendeskRoute(JsonRoute):
    kind = RouteKind.ZENDESK

    def __init__(
        self,
        name: str,
        api_token: str,
        *,
        endpoint: str,
        email: str,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        self.base = endpoint.rstrip("/")
        super().__init__(name, self.base + "/api/v2/tickets.json", service=SERVICE, verify=verify)
        self.email = email
        self._authorization = basic_auth(email, api_token)
        register_secret(api_token)
        register_secret(self._authorization.split(" ", 1)[1])

    def refusal(self) -> str:
        return "" if self.email else f'Route "{self.name}" has no email (config)'

    def headers(self, dedup_key: str) -> dict[str, str]:
        return {"Authorization": self._authorization, "Idempotency-Key": dedup_key}

    def document(self, ticket: Ticket, dedup_key: str) -> dict[str, Any]:
        return ticket_request(ticket)

    def interpret(self, answer: Answer, dedup_key: str) -> RouteResult:
        data = json_object(answer.body)
        status = answer.status
        if status in (200, 201):
            created = data.get("ticket")
            ticket_id = created.get("id") if isinstance(created, dict) else None
            if isinstance(ticket_id, bool) or not isinstance(ticket_id, int | str) or not ticket_id:
                return self.failed(f"Zendesk answered {status} without a ticket id", status=status)
            link = f"{self.base}/agent/tickets/{ticket_id}"
            return self.filed(
                f"Zendesk ticket #{ticket_id} created",
                id=str(ticket_id),
                url=link if is_https_link(link) else None,
                status=status,
            )
        said = "; ".join(
            part
            for part in (
                text_of(data.get("error")),
                text_of(data.get("description")),
                text_of(data.get("details")),
            )
            if part
        )
        if status == 409:  # the same key still in flight: the first one will answer
            return self.failed(
                "Zendesk is still processing this ticket (409); a later attempt will tell",
                retryable=True,
                status=409,
            )
        if status in (400, 422):
            return self.failed(
                f"Zendesk refused the ticket ({status}): {said or 'no reason given'}",
                status=status,
            )
        return self.status_failure(status, said)
