"""One POST to a ticket service, the way every ticket route and the JSON sender need it.

The rules are the same for every destination, so they live here once:
- verified TLS (a context is only ever passed to trust a private CA), never switched off;
- no redirect followed: the request carries a secret (a header, the body or the URL);
- no proxy for loopback: a local gateway is reached directly, so a token meant for it
  never travels to whatever HTTP_PROXY names;
- the answer is capped (a ticket id and a link; anything bigger is not the contract);
- every transport failure is one `Failure` with a line a person can read, naming the
  service ("PagerDuty refused the connection"), never an exception and never the secret.

The caller owns the total deadline (asyncio.timeout around the whole exchange):
httpx2's timeouts are per phase, so a server dripping bytes could otherwise hold a
stressed user far longer than promised.
"""

from __future__ import annotations

import functools
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import httpx2

# Re-exported: the one loopback rule (config validation uses it too), for the senders.
from app.config_rules import is_loopback as is_loopback
from app.redact import redact
from app.text import exception_chain

MAX_ANSWER_BYTES = 256 * 1024


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
    RATE_LIMITED = "rate_limited"
    REJECTED = "rejected"  # the service read the request and refused it for good
    UNEXPECTED = "unexpected"


# Failures that a later attempt may cure without the user changing anything.
RETRYABLE = frozenset(
    {
        FailureKind.REFUSED,
        FailureKind.DNS,
        FailureKind.TIMEOUT,
        FailureKind.CONNECTION,
        FailureKind.SERVER_ERROR,
        FailureKind.RATE_LIMITED,
    }
)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx2.Headers
    body: bytes


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    reason: str  # one line, redacted


@functools.cache
def default_tls_context() -> ssl.SSLContext:
    """httpx2's default verifying context, built once: loading the CA store takes ~0.2 s,
    which would otherwise delay even an instant "connection refused" fallback."""
    return httpx2.create_ssl_context()


def insecure_reason(url: str, what: str) -> str | None:
    """Why a secret must not go to `url` (None when it may): https, or plain http to
    this machine only. `what` names the secret's destination for the message."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return f"{what}: the address is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return f"{what}: the address must be an https:// URL"
    if parts.scheme != "https" and not is_loopback(host):
        return f"{what} must use https (the secret would travel in clear text)"
    return None


def is_https_link(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and not any(ch.isspace() or ch in '<>"' for ch in url)
    )


async def post(
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    timeout: float,
    service: str,
    verify: ssl.SSLContext | None = None,
) -> Answer | Failure:
    """POST once; an Answer for any HTTP status, a Failure when there was none.

    `service` starts every reason ("The ticket service", "PagerDuty")."""
    try:
        host = urlsplit(url).hostname or "?"
    except ValueError:
        return Failure(FailureKind.NOT_CONFIGURED, f"{service}'s address is not a valid URL")
    try:
        async with (
            httpx2.AsyncClient(
                verify=verify if verify is not None else default_tls_context(),
                follow_redirects=False,
                timeout=httpx2.Timeout(timeout),
                # The environment's proxy is for the outside world; loopback is reached
                # directly (a Bearer token for a local gateway must not reach a proxy).
                trust_env=not is_loopback(host),
            ) as client,
            client.stream("POST", url, content=content, headers=dict(headers)) as answer,
        ):
            body = await _read_capped(answer)
            return Answer(answer.status_code, answer.headers, body)
    except httpx2.TimeoutException:
        return Failure(FailureKind.TIMEOUT, f"{service} did not answer within {timeout:g} s")
    except httpx2.ConnectError as exc:
        return _connect_failure(exc, service, host)
    except httpx2.HTTPError as exc:
        return Failure(
            FailureKind.CONNECTION,
            redact(f"The connection to {_lower_first(service)} failed ({type(exc).__name__})"),
        )
    except _AnswerTooLarge:
        return Failure(FailureKind.BAD_ANSWER, f"{service}'s answer is too large")


def timeout_failure(service: str, timeout: float) -> Failure:
    return Failure(FailureKind.TIMEOUT, f"{service} did not answer within {timeout:g} s")


def _connect_failure(exc: httpx2.ConnectError, service: str, host: str) -> Failure:
    chain = exception_chain(exc)
    text = " ".join(str(item) for item in chain).lower()
    if any(isinstance(item, ssl.SSLError) for item in chain) or "ssl" in text:
        verify_errors = [i for i in chain if isinstance(i, ssl.SSLCertVerificationError)]
        detail = str(verify_errors[0].verify_message) if verify_errors else ""
        extra = f" ({detail})" if detail else ""
        return Failure(
            FailureKind.TLS, redact(f"{service}'s TLS certificate could not be verified{extra}")
        )
    if any(isinstance(item, socket.gaierror) for item in chain) or (
        "name or service not known" in text
        or "nodename nor servname" in text
        or "getaddrinfo" in text
        or "temporary failure in name resolution" in text
    ):
        return Failure(FailureKind.DNS, redact(f"{service}'s name {host} does not resolve"))
    if any(isinstance(item, ConnectionRefusedError) for item in chain) or "refused" in text:
        return Failure(FailureKind.REFUSED, f"{service} refused the connection")
    return Failure(FailureKind.CONNECTION, redact(f"{service} could not be reached ({host})"))


def _lower_first(text: str) -> str:
    # "The ticket service" reads as "the ticket service" mid-sentence; names stay as they are.
    return text[0].lower() + text[1:] if text.startswith("The ") else text


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
