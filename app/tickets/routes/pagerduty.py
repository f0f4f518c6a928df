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

import json
import ssl
from typing import Any

from app import __version__
from app.redact import register_secret
from app.tickets.builder import Ticket
from app.tickets.routes.base import RouteKind, RouteResult
from app.tickets.routes.common import (
    failed,
    filed,
    from_failure,
    guarded,
    json_object,
    site_line,
    status_failure,
    text_of,
)
from app.tickets.transport import Answer, insecure_reason, is_https_link, post

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


class PagerDutyRoute:
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
        self.name = name
        self.endpoint = endpoint or DEFAULT_ENDPOINT
        self.provider = provider
        self._routing_key = routing_key
        self._verify = verify
        register_secret(routing_key)

    async def file(self, ticket: Ticket, *, dedup_key: str, timeout: float) -> RouteResult:
        return await guarded(
            self.name, self.kind, SERVICE, timeout, lambda: self._send(ticket, dedup_key, timeout)
        )

    async def _send(self, ticket: Ticket, dedup_key: str, timeout: float) -> RouteResult:
        insecure = insecure_reason(self.endpoint, SERVICE)
        if insecure:
            return failed(self.name, self.kind, insecure)
        body = event(
            ticket, routing_key=self._routing_key, dedup_key=dedup_key, provider=self.provider
        )
        outcome = await post(
            self.endpoint,
            content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": f"lifeline/{__version__}",
            },
            timeout=timeout,
            service=SERVICE,
            verify=self._verify,
        )
        if not isinstance(outcome, Answer):
            return from_failure(self.name, self.kind, outcome)
        return self._interpret(outcome, dedup_key)

    def _interpret(self, answer: Answer, dedup_key: str) -> RouteResult:
        data = json_object(answer.body)
        if answer.status == 202:
            return filed(
                self.name,
                self.kind,
                "PagerDuty accepted the event",
                id=dedup_key,
                status=answer.status,
            )
        if answer.status == 400:
            said = "; ".join(
                part for part in (text_of(data.get("message")), text_of(data.get("errors"))) if part
            )
            return failed(
                self.name,
                self.kind,
                f"PagerDuty rejected the event (400): {said or 'no reason given'}",
                status=400,
            )
        return status_failure(
            self.name, self.kind, SERVICE, answer.status, text_of(data.get("message"))
        )
