"""Send a ticket body to the provider: a small interface, and the generic JSON backend.

Every failure, whatever its kind, comes back as a `SendResult` with one line a person can
read ("The ticket service answered 503"), never as an exception, and always within the
configured `ticket_timeout`: httpx2's timeouts are per phase (connect, write, each read),
so a server dripping bytes could otherwise hold the user far longer than promised. The
whole exchange therefore runs under one asyncio deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx2

from app import __version__
from app.config import ProviderConfig
from app.credentials import ENV_OVERRIDES, TICKET_TOKEN, CredentialError, CredentialStore
from app.redact import redact
from app.tickets.transport import (
    MAX_ANSWER_BYTES,
    Answer,
    FailureKind,
    default_tls_context,
    is_https_link,
    is_loopback,
    post,
)

__all__ = [
    "MAX_ANSWER_BYTES",
    "FailureKind",
    "JsonTicketSender",
    "SendResult",
    "TicketSender",
    "UnavailableSender",
    "api_reachable",
    "default_tls_context",
    "failed",
    "is_loopback",
    "sender_for",
]

log = logging.getLogger(__name__)
SERVICE = "The ticket service"


@dataclass(frozen=True)
class SendResult:
    filed: bool
    ticket_id: str = ""
    url: str = ""  # only ever an https link
    reason: str = ""  # one line, safe to show and store
    failure: FailureKind | None = None
    status: int | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "filed": self.filed,
            "id": self.ticket_id or None,
            "url": self.url or None,
            "reason": self.reason or None,
            "failure": self.failure.value if self.failure else None,
            "status": self.status,
            "seconds": round(self.seconds, 3),
        }


def failed(kind: FailureKind, reason: str, *, status: int | None = None) -> SendResult:
    return SendResult(filed=False, reason=redact(reason), failure=kind, status=status)


class TicketSender(Protocol):
    """A ticket backend. Implementations never raise; they return a SendResult."""

    async def send(self, body: Mapping[str, Any], *, idempotency_key: str) -> SendResult: ...


class UnavailableSender:
    """The backend when none can be used (no API configured, no token): fails at once."""

    def __init__(self, kind: FailureKind, reason: str) -> None:
        self.kind = kind
        self.reason = reason

    async def send(self, body: Mapping[str, Any], *, idempotency_key: str) -> SendResult:
        return failed(self.kind, self.reason)


class JsonTicketSender:
    """POST {api}/tickets with the JSON body of Lifeline's ticket contract."""

    def __init__(
        self,
        api: str,
        token: str,
        *,
        timeout: float,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        self.endpoint = api.rstrip("/") + "/tickets"
        self._token = token
        self.timeout = timeout
        # Verification is never switched off; a context is only passed to trust a
        # private CA (a company's ticket gateway, or the tests' own CA).
        self._verify: ssl.SSLContext = verify if verify is not None else default_tls_context()
        self._host = urlsplit(self.endpoint).hostname or "?"

    async def send(self, body: Mapping[str, Any], *, idempotency_key: str) -> SendResult:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                result = await self._post(body, idempotency_key)
        except TimeoutError:
            result = failed(
                FailureKind.TIMEOUT,
                f"The ticket service did not answer within {self.timeout:g} s",
            )
        except Exception as exc:  # a sender never raises: the hotline must still show
            log.warning("The ticket sender failed unexpectedly (%s)", type(exc).__name__)
            result = failed(
                FailureKind.UNEXPECTED,
                f"The ticket could not be sent (unexpected {type(exc).__name__})",
            )
        return _timed(result, time.monotonic() - started)

    async def _post(self, body: Mapping[str, Any], idempotency_key: str) -> SendResult:
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Idempotency-Key": idempotency_key,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"lifeline/{__version__}",
        }
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        outcome = await post(
            self.endpoint,
            content=content,
            headers=headers,
            timeout=self.timeout,
            service=SERVICE,
            verify=self._verify,
        )
        if isinstance(outcome, Answer):
            return self._interpret(outcome.status, outcome.headers, outcome.body)
        return failed(outcome.kind, outcome.reason)

    def _interpret(self, status: int, headers: httpx2.Headers, raw: bytes) -> SendResult:
        if status in (200, 201):
            return _parse_filed(status, raw)
        if 300 <= status < 400:
            return failed(
                FailureKind.REDIRECT,
                f"The ticket service answered {status} (a redirect; Lifeline does not follow "
                "redirects with the token)",
                status=status,
            )
        if status in (401, 403):
            return failed(
                FailureKind.TOKEN_REJECTED,
                f"The ticket service rejected the token ({status})",
                status=status,
            )
        if status == 404:
            return failed(
                FailureKind.NOT_FOUND,
                "The ticket service answered 404 (check [provider] ticket_api)",
                status=status,
            )
        if status >= 500:
            return failed(
                FailureKind.SERVER_ERROR, f"The ticket service answered {status}", status=status
            )
        return failed(FailureKind.HTTP, f"The ticket service answered {status}", status=status)


def _parse_filed(status: int, raw: bytes) -> SendResult:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # garbage, or nested deeper than the parser goes
        data = None
    ticket_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(ticket_id, bool) or not isinstance(ticket_id, str | int) or ticket_id == "":
        return failed(
            FailureKind.BAD_ANSWER,
            f"The ticket service answered {status} without a ticket id",
            status=status,
        )
    url = data.get("url") if isinstance(data, dict) else None
    link = url if isinstance(url, str) and is_https_link(url) else ""
    shown_id = redact(str(ticket_id))[:200]
    return SendResult(filed=True, ticket_id=shown_id, url=redact(link), status=status)


def _timed(result: SendResult, seconds: float) -> SendResult:
    return SendResult(
        filed=result.filed,
        ticket_id=result.ticket_id,
        url=result.url,
        reason=result.reason,
        failure=result.failure,
        status=result.status,
        seconds=seconds,
    )


# --------------------------------------------------------------------------- reachability


async def api_reachable(provider: ProviderConfig) -> bool:
    """Whether the ticket service accepts a connection (TLS verified), sending nothing.

    No request, so no token and no ticket: this only tells the tray that offering the
    saved tickets now makes sense.
    """
    if not provider.ticket_api:
        return False
    parts = urlsplit(provider.ticket_api)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    try:
        port = parts.port or (443 if https else 80)
    except ValueError:
        return False
    try:
        async with asyncio.timeout(provider.ticket_timeout):
            _reader, writer = await asyncio.open_connection(
                host, port, ssl=default_tls_context() if https else None
            )
    except (OSError, TimeoutError, ssl.SSLError):
        return False
    writer.close()
    # Closing is best effort: the connection did succeed.
    with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
        async with asyncio.timeout(1.0):
            await writer.wait_closed()
    return True


# --------------------------------------------------------------------------- choosing one


def sender_for(
    provider: ProviderConfig,
    credentials: CredentialStore,
    *,
    verify: ssl.SSLContext | None = None,
) -> TicketSender:
    """The backend for this provider, with its token. Blocking (keyring): worker thread only."""
    if not provider.ticket_api:
        return UnavailableSender(
            FailureKind.NOT_CONFIGURED,
            "No ticket service is configured ([provider] ticket_api is empty)",
        )
    parts = urlsplit(provider.ticket_api)
    if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
        return UnavailableSender(
            FailureKind.INSECURE,
            "The ticket service must use https (the token would travel in clear text)",
        )
    try:
        token = credentials.get(TICKET_TOKEN)
    except CredentialError as exc:
        return UnavailableSender(FailureKind.NO_TOKEN, f"The ticket token is unavailable: {exc}")
    if not token:
        return UnavailableSender(
            FailureKind.NO_TOKEN,
            "No ticket API token is set (Settings, or "
            f"{ENV_OVERRIDES[TICKET_TOKEN]} for headless use)",
        )
    return JsonTicketSender(
        provider.ticket_api, token, timeout=provider.ticket_timeout, verify=verify
    )
