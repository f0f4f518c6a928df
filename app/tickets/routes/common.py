"""What the API routes share: one deadline, one JSON exchange, results from failures.

Every route's `file` runs its exchange through `guarded`, so the promise of the Route
protocol (a RouteResult within the deadline, never an exception) is kept in one place;
`JsonRoute` is the exchange the HTTP routes have in common (the https rule, one POST of
a JSON document, transport failures as results), so a route module says only what it
sends and what the service's answer means.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, ClassVar

from app import __version__
from app.redact import redact
from app.tickets.builder import Ticket
from app.tickets.routes.base import RouteKind, RouteOutcome, RouteResult
from app.tickets.transport import RETRYABLE, Answer, Failure, insecure_reason, post

log = logging.getLogger(__name__)

MESSAGE_MAX = 300  # a service's own words in a reason: enough to act on, one line


def failed(
    name: str,
    kind: RouteKind,
    reason: str,
    *,
    retryable: bool = False,
    status: int | None = None,
) -> RouteResult:
    return RouteResult(
        name=name,
        kind=kind,
        outcome=RouteOutcome.FAILED,
        reason=redact(one_line(reason)),
        retryable=retryable,
        status=status,
    )


def from_failure(name: str, kind: RouteKind, failure: Failure) -> RouteResult:
    return failed(name, kind, failure.reason, retryable=failure.kind in RETRYABLE)


def filed(
    name: str,
    kind: RouteKind,
    reason: str,
    *,
    id: str | None,
    url: str | None = None,
    status: int | None = None,
) -> RouteResult:
    return RouteResult(
        name=name,
        kind=kind,
        outcome=RouteOutcome.FILED,
        reason=redact(one_line(reason)),
        id=redact(one_line(id))[:200] if id else None,
        url=url,
        status=status,
    )


async def guarded(
    name: str,
    kind: RouteKind,
    service: str,
    timeout: float,
    attempt: Callable[[], Awaitable[RouteResult]],
) -> RouteResult:
    """Run one attempt under one total deadline; whatever goes wrong is a failed result."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            result = await attempt()
    except TimeoutError:
        result = failed(
            name, kind, f"{service} did not answer within {timeout:g} s", retryable=True
        )
    except Exception as exc:  # the protocol: a route never raises, the hotline must show
        log.warning("Ticket route %s failed unexpectedly (%s)", name, type(exc).__name__)
        result = failed(
            name, kind, f"{service}: the ticket could not be sent (unexpected {type(exc).__name__})"
        )
    return replace(result, seconds=time.monotonic() - started)


def status_failure(
    name: str, kind: RouteKind, service: str, status: int, message: str = ""
) -> RouteResult:
    """The common reading of an HTTP status that is not the service's success."""
    said = f": {message}" if message else ""
    if 300 <= status < 400:
        return failed(
            name,
            kind,
            f"{service} answered {status} (a redirect; Lifeline does not follow redirects "
            "with a secret)",
            status=status,
        )
    if status in (401, 403):
        return failed(name, kind, f"{service} rejected the key ({status}){said}", status=status)
    if status == 404:
        return failed(
            name, kind, f"{service} answered 404 (check the route's endpoint){said}", status=status
        )
    if status == 429:
        return failed(
            name,
            kind,
            f"{service} is limiting requests (429); a later attempt may pass",
            retryable=True,
            status=status,
        )
    if status >= 500:
        return failed(
            name, kind, f"{service} answered {status}{said}", retryable=True, status=status
        )
    return failed(name, kind, f"{service} answered {status}{said}", status=status)


def json_object(raw: bytes) -> dict[str, Any]:
    """The answer as a JSON object, or {} (garbage, a list, HTML from a proxy)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def text_of(value: Any) -> str:
    """A service's message field, whatever its type, as one short safe line."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, list):
        text = "; ".join(text_of(item) for item in value[:5] if text_of(item))
    elif isinstance(value, dict):
        text = "; ".join(
            f"{key}: {text_of(item)}" for key, item in list(value.items())[:5] if text_of(item)
        )
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        text = ""
    return redact(one_line(text))[:MESSAGE_MAX]


def one_line(text: str) -> str:
    """Every character that is not printable (terminal escapes, line breaks, code points
    not yet assigned) becomes a space; not shortened (callers cut to their own limits).
    Stricter than app.text.one_line, because a service's answer is anyone's text."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(cleaned.split())


def site_line(ticket: Ticket) -> str:
    return f"{ticket.site} ({ticket.environment or 'live'})"


class JsonRoute:
    """An HTTP route: POST one JSON document to `endpoint`, read what the service says.

    A subclass gives `kind`, what to send (`document`, `headers`) and what the answer
    means (`interpret`); `refusal` names a reason not to send at all (an incomplete
    route). The secret goes only where `insecure_reason` allows (https, or loopback).
    """

    kind: ClassVar[RouteKind]

    def __init__(
        self, name: str, endpoint: str, *, service: str, verify: ssl.SSLContext | None
    ) -> None:
        self.name = name
        self.endpoint = endpoint
        self.service = service
        self._verify = verify

    async def file(self, ticket: Ticket, *, dedup_key: str, timeout: float) -> RouteResult:
        return await guarded(
            self.name,
            self.kind,
            self.service,
            timeout,
            lambda: self._exchange(ticket, dedup_key, timeout),
        )

    async def _exchange(self, ticket: Ticket, dedup_key: str, timeout: float) -> RouteResult:
        refusal = self.refusal() or insecure_reason(self.endpoint, self.service)
        if refusal:
            return self.failed(refusal)
        outcome = await post(
            self.endpoint,
            content=json.dumps(self.document(ticket, dedup_key), ensure_ascii=False).encode(),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": f"lifeline/{__version__}",
                **self.headers(dedup_key),
            },
            timeout=timeout,
            service=self.service,
            verify=self._verify,
        )
        if not isinstance(outcome, Answer):
            return from_failure(self.name, self.kind, outcome)
        return self.interpret(outcome, dedup_key)

    def refusal(self) -> str:
        return ""

    def headers(self, dedup_key: str) -> dict[str, str]:
        return {}

    def document(self, ticket: Ticket, dedup_key: str) -> dict[str, Any]:
        raise NotImplementedError

    def interpret(self, answer: Answer, dedup_key: str) -> RouteResult:
        raise NotImplementedError

    # -- results in this route's name ------------------------------------------------

    def failed(self, reason: str, **kwargs: Any) -> RouteResult:
        return failed(self.name, self.kind, reason, **kwargs)

    def filed(self, reason: str, **kwargs: Any) -> RouteResult:
        return filed(self.name, self.kind, reason, **kwargs)

    def status_failure(self, status: int, message: str = "") -> RouteResult:
        return status_failure(self.name, self.kind, self.service, status, message)
