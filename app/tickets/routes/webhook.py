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

import json
import ssl
from typing import Any
from urllib.parse import urlsplit

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
    one_line,
    site_line,
    status_failure,
    text_of,
)
from app.tickets.transport import Answer, insecure_reason, is_https_link, post

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


class WebhookRoute:
    kind = RouteKind.WEBHOOK

    def __init__(
        self,
        name: str,
        url: str,
        *,
        format: str = "slack",
        verify: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.format = format
        self._url = url
        self._verify = verify
        register_secret(url)
        # A chat webhook's secret is its path; a service that echoes the path must not
        # show it either (a short path like "/hook" is no secret and stays readable).
        parts = urlsplit(url)
        secret_part = parts.path + (f"?{parts.query}" if parts.query else "")
        if len(secret_part) >= 16:
            register_secret(secret_part)
        self._service = "Slack" if format == "slack" else f'The webhook of route "{name}"'

    async def file(self, ticket: Ticket, *, dedup_key: str, timeout: float) -> RouteResult:
        return await guarded(
            self.name,
            self.kind,
            self._service,
            timeout,
            lambda: self._send(ticket, dedup_key, timeout),
        )

    async def _send(self, ticket: Ticket, dedup_key: str, timeout: float) -> RouteResult:
        if self.format not in FORMATS:
            return failed(self.name, self.kind, f"Unknown webhook format {self.format!r}")
        insecure = insecure_reason(self._url, self._service)
        if insecure:
            return failed(self.name, self.kind, insecure)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"lifeline/{__version__}",
        }
        if self.format == "slack":
            body = slack_message(ticket)
        else:
            body = ticket.to_body()
            headers["Idempotency-Key"] = dedup_key
            headers["Accept"] = "application/json"
        outcome = await post(
            self._url,
            content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers=headers,
            timeout=timeout,
            service=self._service,
            verify=self._verify,
        )
        if not isinstance(outcome, Answer):
            return from_failure(self.name, self.kind, outcome)
        if self.format == "slack":
            return self._slack_outcome(outcome)
        return self._json_outcome(outcome)

    def _slack_outcome(self, answer: Answer) -> RouteResult:
        said = text_of(answer.body[:500].decode("utf-8", "replace"))
        if answer.status == 200 and said == "ok":
            return filed(self.name, self.kind, "Posted to Slack", id=None, status=200)
        if answer.status == 200:
            return failed(
                self.name,
                self.kind,
                f"Slack answered 200 without ok: {said or 'an empty answer'}",
                status=200,
            )
        return status_failure(self.name, self.kind, self._service, answer.status, said)

    def _json_outcome(self, answer: Answer) -> RouteResult:
        data = json_object(answer.body)
        if 200 <= answer.status < 300:
            ticket_id = text_of(data.get("id")) or None
            url = data.get("url")
            return filed(
                self.name,
                self.kind,
                "The webhook took the ticket",
                id=ticket_id,
                url=url if isinstance(url, str) and is_https_link(url) else None,
                status=answer.status,
            )
        return status_failure(
            self.name, self.kind, self._service, answer.status, text_of(data.get("message"))
        )
