"""The `opsgenie` route: a P1 alert through Opsgenie's Alert API.

Wire format (docs.opsgenie.com, "Alert API", Create Alert): POST {api}/v2/alerts with
`Authorization: GenieKey <API integration key>`; the API lives at
https://api.opsgenie.com, or https://api.eu.opsgenie.com for EU accounts. Field limits
from the same page: message 130 characters, alias 512, description 15000, entity 512,
source 100, at most 20 tags of 50 characters, details (string values) 8000 in total.
`alias` is the draft's idempotency key: Opsgenie de-duplicates open alerts with the
same alias, so a retry of the same draft cannot page twice. Creation is asynchronous:
202 with {"result": "Request will be processed", "requestId": ...}; errors carry
{"message": ...}.
"""

from __future__ import annotations

import ssl
from typing import Any

from app.redact import register_secret
from app.tickets.builder import Ticket, plain_text
from app.tickets.routes.base import RouteKind, RouteResult
from app.tickets.routes.common import JsonRoute, json_object, text_of
from app.tickets.transport import Answer

DEFAULT_ENDPOINT = "https://api.opsgenie.com"
EU_ENDPOINT = "https://api.eu.opsgenie.com"
MESSAGE_MAX = 130
DESCRIPTION_MAX = 15000
TAGS_MAX = 20
TAG_MAX = 50
DETAILS_MAX = 8000
SERVICE = "Opsgenie"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alert(ticket: Ticket, *, alias: str, hotline: str = "") -> dict[str, Any]:
    """The Create Alert request body for `ticket`."""
    tags = ["lifeline", "emergency", f"site:{ticket.site}", ticket.impact, ticket.point_of_failure]
    details = {
        "site": ticket.site,
        "environment": ticket.environment,
        "url": ticket.url,
        "impact": ticket.impact,
        "point_of_failure": ticket.point_of_failure,
        "started_at": ticket.started_at,
        "detected_at": ticket.detected_at,
        **{f"contact_{key}": value for key, value in ticket.contact.items() if value},
    }
    kept: dict[str, str] = {}
    used = 0
    for key, value in details.items():
        used += len(key) + len(value)
        if value and used <= DETAILS_MAX:
            kept[key] = value
    return {
        "message": _cut(ticket.subject or f"EMERGENCY: {ticket.site} {ticket.impact}", MESSAGE_MAX),
        "alias": alias[:512],
        "description": _cut(plain_text(ticket, hotline=hotline), DESCRIPTION_MAX),
        "priority": "P1",
        "source": "Lifeline",
        "entity": ticket.site[:512],
        "tags": [_cut(tag, TAG_MAX) for tag in tags if tag][:TAGS_MAX],
        "details": kept,
    }


class OpsgenieRoute(JsonRoute):
    kind = RouteKind.OPSGENIE

    def __init__(
        self,
        name: str,
        api_key: str,
        *,
        endpoint: str = "",
        region: str = "",
        verify: ssl.SSLContext | None = None,
    ) -> None:
        base = endpoint or (EU_ENDPOINT if region == "eu" else DEFAULT_ENDPOINT)
        super().__init__(name, base.rstrip("/") + "/v2/alerts", service=SERVICE, verify=verify)
        self._api_key = api_key
        register_secret(api_key)

    def headers(self, dedup_key: str) -> dict[str, str]:
        return {"Authorization": f"GenieKey {self._api_key}"}

    def document(self, ticket: Ticket, dedup_key: str) -> dict[str, Any]:
        return alert(ticket, alias=dedup_key)

    def interpret(self, answer: Answer, dedup_key: str) -> RouteResult:
        data = json_object(answer.body)
        if answer.status == 202:
            request_id = text_of(data.get("requestId"))
            if not request_id:
                return self.failed("Opsgenie answered 202 without a requestId", status=202)
            return self.filed("Opsgenie accepted the alert", id=request_id, status=202)
        return self.status_failure(answer.status, text_of(data.get("message")))
