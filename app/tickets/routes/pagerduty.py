"""The `pagerduty` route: a trigger event through PagerDuty's Events API v2.

Wire format (developer.pagerduty.com, "Send an Alert Event"): POST a JSON event to
https://events.pagerduty.com/v2/enqueue with the integration's routing key in the body
(no auth header). `dedup_key` is the draft's idempotency key, so a retry of the same
draft updates the same alert instead of paging twice. The API answers 202 with
{"status": "success", "message": "Event processed", "dedup_key": ...}; 400 with
{"status": "invalid event", "message": ..., "errors": [...]} (resending cannot help);
429 when throttled and 5xx on its side (both worth a later attempt).
"""

from __future__ import annotations

import ssl
from typing import Any

from app.redact import register_secret
from app.tickets.builder import Ticket
from app.tickets.routes.base import RouteKind, RouteResult
from app.tickets.routes.common import JsonRoute, json_object, site_line, text_of
from app.tickets.transport import Answer, is_https_link

DEFAULT_ENDPOINT = "https://events.pagerduty.com/v2/enqueue"
SUMMARY_MAX = 1024
SERVICE = "PagerDuty"


def event(ticket: Ticket, *, routing_key: str, dedup_key: str, provider: str) -> dict[str, Any]:
    """The Events API v2 trigger event for `ticket`."""
    summary = ticket.subject or f"EMERGENCY: {site_line(ticket)} {ticket.impact}"
    if len(summary) > SUMMARY_MAX:
        summary = summary[: SUMMARY_MAX - 1] + "…"
    payload: dict[str, Any] = {
        "summary": summary,
        "source": ticket.url or ticket.site,
        "severity": "critical",
        "component": ticket.site,
        "group": provider,
        "class": ticket.impact,
        "custom_details": {
            "description": ticket.description,
            "environment": ticket.environment,
            "point_of_failure": ticket.point_of_failure,
            "started_at": ticket.started_at,
            "detected_at": ticket.detected_at,
            "contact": dict(ticket.contact),
            "diagnostics": ticket.diagnostics,
        },
    }
    if ticket.detected_at:
        payload["timestamp"] = ticket.detected_at
    links = [{"href": ticket.url, "text": f"{site_line(ticket)}: the site"}]
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": payload,
        "client": "Lifeline",
        "links": [link for link in links if is_https_link(link["href"])],
    }


class PagerDutyRoute(JsonRoute):
    kind = RouteKind.PAGERDUTY

    def __init__(
        self,
        name: str,
        routing_key: str,
        *,
        endpoint: str = "",
        provider: str = "Pantheon",
        verify: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(name, endpoint or DEFAULT_ENDPOINT, service=SERVICE, verify=verify)
        self.provider = provider
        self._routing_key = routing_key  # in the body: Events API v2 has no auth header
        register_secret(routing_key)

    def document(self, ticket: Ticket, dedup_key: str) -> dict[str, Any]:
        return event(
            ticket, routing_key=self._routing_key, dedup_key=dedup_key, provider=self.provider
        )

    def interpret(self, answer: Answer, dedup_key: str) -> RouteResult:
        data = json_object(answer.body)
        if answer.status == 202:
            return self.filed("PagerDuty accepted the event", id=dedup_key, status=202)
        if answer.status == 400:
            said = "; ".join(
                part for part in (text_of(data.get("message")), text_of(data.get("errors"))) if part
            )
            return self.failed(
                f"PagerDuty rejected the event (400): {said or 'no reason given'}", status=400
            )
        return self.status_failure(answer.status, text_of(data.get("message")))
