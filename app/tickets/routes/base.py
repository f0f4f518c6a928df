"""What every ticket route is: one destination that one click files through.

A route takes the built ticket and tries to get it to people: a provider's dashboard
(the text handed over, the page opened by the caller), an on-call service, a help desk,
a chat webhook, or the generic JSON ticket API. Each route answers with one
`RouteResult`, never an exception, within the deadline it is given; the ticket session
(app/tickets/session.py) runs every route of a draft and records each result, so a retry
resends only the routes that did not reach their destination.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from app.tickets.builder import Ticket


class RouteKind(StrEnum):
    DASHBOARD = "dashboard"
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"
    ZENDESK = "zendesk"
    WEBHOOK = "webhook"
    API = "api"


class RouteOutcome(StrEnum):
    FILED = "filed"  # the service took the ticket (it has an id)
    DASHBOARD = "dashboard"  # the dashboard is up: the text goes to the clipboard, the page opens
    HOTLINE = "hotline"  # the dashboard is down: the phone line, with the text to read out
    FAILED = "failed"  # the route did not reach its destination (see reason, retryable)

    @property
    def reached(self) -> bool:
        """The ticket got to people (or to the place where the user hands it over)."""
        return self in (RouteOutcome.FILED, RouteOutcome.DASHBOARD)


@dataclass(frozen=True)
class RouteResult:
    name: str  # the route's unique name ([[route]] name, defaults to the kind)
    kind: RouteKind
    outcome: RouteOutcome
    reason: str = ""  # one line, redacted, safe to show, store and log
    id: str | None = None  # the service's id for the ticket or alert
    url: str | None = None  # an https link to it (or the dashboard's support page)
    retryable: bool = False  # a failure that a later attempt may cure (timeout, 429, 5xx)
    status: int | None = None  # the HTTP status, when there was one
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "outcome": self.outcome.value,
            "id": self.id,
            "url": self.url,
            "reason": self.reason,
        }


class Route(Protocol):
    """One destination. Implementations never raise: every failure is a RouteResult."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> RouteKind: ...

    async def file(self, ticket: Ticket, *, dedup_key: str, timeout: float) -> RouteResult:
        """Send `ticket` once, within `timeout` seconds in total; `dedup_key` is the
        draft's idempotency key, the same on every retry of the same draft."""
        ...
