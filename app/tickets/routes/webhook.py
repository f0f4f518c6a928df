"""The `webhook` route: a chat message (Slack incoming webhook) or the ticket document.

The webhook URL is the secret (whoever has a Slack incoming-webhook URL can post to the
channel), so it lives in the keyring like any key and never appears in a reason.

`format = "slack"` (api.slack.com, "Sending messages using incoming webhooks"): POST
{"text": ...} as JSON; Slack answers 200 with the body `ok`, and errors as a short
string (400 invalid_payload, 403 action_prohibited, 404 channel_not_found or
no_service, 410 channel_is_archived, 429 rate limited, 500 rollup_error).
`format = "json"`: POST the ticket document (the same body as the `api` route) with an
Idempotency-Key header; any 2xx is delivered, with an "id" and an https "url" taken
when the receiver gives them.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

from app.redact import register_secret
from app.tickets.builder import Ticket
from app.tickets.routes.base import RouteKind, RouteResult
from app.tickets.routes.common import JsonRoute, json_object, one_line, site_line, text_of
from app.tickets.transport import Answer, is_https_link

FORMATS = ("slack", "json")


def _slack_escape(text: str) -> str:
    # Slack's three control characters in message text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(ticket: Ticket) -> dict[str, Any]:
    """A short summary with the site, its state and a link."""
    headline = _slack_escape(one_line(ticket.subject or f"EMERGENCY: {site_line(ticket)}"))
    state = _slack_escape(f"{ticket.impact}, point of failure: {ticket.point_of_failure}")
    if is_https_link(ticket.url) or ticket.url.startswith("http://"):
        site = f"<{ticket.url.replace('|', '%7C')}|{_slack_escape(site_line(ticket))}>"
    else:
        site = _slack_escape(site_line(ticket))
    return {"text": f":rotating_light: *{headline}*\n{site} is {state}. Sent by Lifeline."}


class WebhookRoute(JsonRoute):
    kind = RouteKind.WEBHOOK

    def __init__(
        self,
        name: str,
        url: str,
        *,
        format: str = "slack",
        verify: ssl.SSLContext | None = None,
    ) -> None:
        service = "Slack" if format == "slack" else f'The webhook of route "{name}"'
        super().__init__(name, url, service=service, verify=verify)
        self.format = format
        register_secret(url)
        # A chat webhook's secret is its path; a service that echoes the path must not
        # show it either (a short path like "/hook" is no secret and stays readable).
        parts = urlsplit(url)
        secret_part = parts.path + (f"?{parts.query}" if parts.query else "")
        if len(secret_part) >= 16:
            register_secret(secret_part)

    def refusal(self) -> str:
        return "" if self.format in FORMATS else f"Unknown webhook format {self.format!r}"

    def headers(self, dedup_key: str) -> dict[str, str]:
        return {"Idempotency-Key": dedup_key} if self.format == "json" else {}

    def document(self, ticket: Ticket, dedup_key: str) -> dict[str, Any]:
        return slack_message(ticket) if self.format == "slack" else ticket.to_body()

    def interpret(self, answer: Answer, dedup_key: str) -> RouteResult:
        if self.format == "slack":
            return self._slack_outcome(answer)
        return self._json_outcome(answer)

    def _slack_outcome(self, answer: Answer) -> RouteResult:
        said = text_of(answer.body[:500].decode("utf-8", "replace"))
        if answer.status == 200 and said == "ok":
            return self.filed("Posted to Slack", id=None, status=200)
        if answer.status == 200:
            return self.failed(
                f"Slack answered 200 without ok: {said or 'an empty answer'}", status=200
            )
        return self.status_failure(answer.status, said)

    def _json_outcome(self, answer: Answer) -> RouteResult:
        data = json_object(answer.body)
        if 200 <= answer.status < 300:
            url = data.get("url")
            return self.filed(
                "The webhook took the ticket",
                id=text_of(data.get("id")) or None,
                url=url if isinstance(url, str) and is_https_link(url) else None,
                status=answer.status,
            )
        return self.status_failure(answer.status, text_of(data.get("message")))
