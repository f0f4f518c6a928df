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
import functools
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx2

from app import __version__
from app.config import ProviderConfig
from app.credentials import ENV_OVERRIDES, TICKET_TOKEN, CredentialError, CredentialStore
from app.redact import redact

MAX_ANSWER_BYTES = 256 * 1024  # a ticket id and a link; anything bigger is not the contract


class FailureKind(StrEnum):
    NOT_CONFIGURED = "not_configured"
    NO_TOKEN = "no_token"
    INSECURE = "insecure"
    REFUSED = "refused"
    DNS = "dns"
    TLS = "tls"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    SERVER_ERROR = "server_error"
    TOKEN_REJECTED = "token_rejected"
    NOT_FOUND = "not_found"
    REDIRECT = "redirect"
    HTTP = "http"
    BAD_ANSWER = "bad_answer"
    ALREADY_DONE = "already_done"


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


@functools.cache
def default_tls_context() -> ssl.SSLContext:
    """httpx2's default verifying context, built once: loading the CA store takes ~0.2 s,
    which would otherwise delay even an instant "connection refused" fallback."""
    return httpx2.create_ssl_context()


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
        try:
            async with (
                httpx2.AsyncClient(
                    verify=self._verify,
                    follow_redirects=False,
                    timeout=httpx2.Timeout(self.timeout),
                ) as client,
                client.stream("POST", self.endpoint, content=content, headers=headers) as answer,
            ):
                raw = await _read_capped(answer)
                return self._interpret(answer.status_code, answer.headers, raw)
        except httpx2.TimeoutException:
            return failed(
                FailureKind.TIMEOUT,
                f"The ticket service did not answer within {self.timeout:g} s",
            )
        except httpx2.ConnectError as exc:
            return self._connect_failure(exc)
        except httpx2.HTTPError as exc:
            return failed(
                FailureKind.CONNECTION,
                f"The connection to the ticket service failed ({type(exc).__name__})",
            )
        except _AnswerTooLarge:
            return failed(FailureKind.BAD_ANSWER, "The ticket service's answer is too large")

    def _connect_failure(self, exc: httpx2.ConnectError) -> SendResult:
        chain = _causes(exc)
        text = " ".join(str(item) for item in chain).lower()
        if any(isinstance(item, ssl.SSLError) for item in chain) or "ssl" in text:
            verify_errors = [i for i in chain if isinstance(i, ssl.SSLCertVerificationError)]
            detail = str(verify_errors[0].verify_message) if verify_errors else ""
            extra = f" ({detail})" if detail else ""
            return failed(
                FailureKind.TLS,
                f"The ticket service's TLS certificate could not be verified{extra}",
            )
        if any(isinstance(item, socket.gaierror) for item in chain) or (
            "name or service not known" in text
            or "nodename nor servname" in text
            or "getaddrinfo" in text
            or "temporary failure in name resolution" in text
        ):
            return failed(
                FailureKind.DNS, f"The ticket service's name {self._host} does not resolve"
            )
        if any(isinstance(item, ConnectionRefusedError) for item in chain) or "refused" in text:
            return failed(FailureKind.REFUSED, "The ticket service refused the connection")
        return failed(
            FailureKind.CONNECTION, f"The ticket service could not be reached ({self._host})"
        )

    def _interpret(
        self, status: int, headers: httpx2.Headers, raw: bytes
    ) -> SendResult:
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
    except ValueError:
        data = None
    ticket_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(ticket_id, bool) or not isinstance(ticket_id, str | int) or ticket_id == "":
        return failed(
            FailureKind.BAD_ANSWER,
            f"The ticket service answered {status} without a ticket id",
            status=status,
        )
    url = data.get("url") if isinstance(data, dict) else None
    link = url if isinstance(url, str) and _is_https(url) else ""
    shown_id = redact(str(ticket_id))[:200]
    return SendResult(filed=True, ticket_id=shown_id, url=redact(link), status=status)


def _is_https(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and not any(
        ch.isspace() for ch in url
    )


class _AnswerTooLarge(Exception):
    pass


async def _read_capped(answer: httpx2.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in answer.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise _AnswerTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
