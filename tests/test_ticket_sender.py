"""The JSON ticket backend against a real HTTP(S) server on 127.0.0.1, in every failure mode."""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from typing import Any

import pytest

from app.credentials import CredentialStore
from app.tickets.sender import (
    FailureKind,
    JsonTicketSender,
    SendResult,
    sender_for,
)
from tests.loopback import Close, Drip, Hang, LoopbackServer, Reply, free_port
from tests.ticket_samples import PLANTED_TOKEN, provider, sample_ticket

KEY = "0b5c9d3e-8a5f-4c57-9f0e-2d8e6f1a7b42"


def send(api: str, *, timeout: float = 2.0, verify: ssl.SSLContext | None = None) -> SendResult:
    sender = JsonTicketSender(api, PLANTED_TOKEN, timeout=timeout, verify=verify)
    return asyncio.run(sender.send(sample_ticket().to_body(), idempotency_key=KEY))


def test_filed_with_the_contract_headers_and_body(server: LoopbackServer) -> None:
    server.route(
        "/tickets", Reply.json({"id": "T-1042", "url": "https://help.example/T-1042"}, 201)
    )

    result = send(server.url)

    assert result.filed
    assert (result.ticket_id, result.url, result.status) == (
        "T-1042",
        "https://help.example/T-1042",
        201,
    )
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/tickets")
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["authorization"] == f"Bearer {PLANTED_TOKEN}"
    assert headers["idempotency-key"] == KEY
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "lifeline/0.1.0"
    body = request.json()
    assert body == sample_ticket().to_body()
    assert set(body) == {
        "site",
        "environment",
        "url",
        "impact",
        "point_of_failure",
        "subject",
        "description",
        "started_at",
        "detected_at",
        "contact",
        "diagnostics",
    }
    assert set(body["diagnostics"]) == {"check", "platform", "history"}
    assert PLANTED_TOKEN not in request.body.decode()


def test_api_path_prefix_and_plain_200_without_url(server: LoopbackServer) -> None:
    server.route("/v2/tickets", Reply.json({"id": 77}))
    result = send(server.url + "/v2/")
    assert result.filed and result.ticket_id == "77" and result.url == ""


def test_a_non_https_ticket_link_is_not_shown(server: LoopbackServer) -> None:
    server.route("/tickets", Reply.json({"id": "T-1", "url": "http://help.example/T-1"}, 201))
    result = send(server.url)
    assert result.filed and result.url == ""


@pytest.mark.parametrize(
    ("status", "kind", "reason"),
    [
        (500, FailureKind.SERVER_ERROR, "The ticket service answered 500"),
        (503, FailureKind.SERVER_ERROR, "The ticket service answered 503"),
        (401, FailureKind.TOKEN_REJECTED, "The ticket service rejected the token (401)"),
        (403, FailureKind.TOKEN_REJECTED, "The ticket service rejected the token (403)"),
        (422, FailureKind.HTTP, "The ticket service answered 422"),
    ],
)
def test_error_statuses(
    server: LoopbackServer, status: int, kind: FailureKind, reason: str
) -> None:
    server.route("/tickets", Reply.json({"error": "nope"}, status))
    result = send(server.url)
    assert not result.filed
    assert (result.failure, result.reason, result.status) == (kind, reason, status)


def test_404_points_at_the_config(server: LoopbackServer) -> None:
    result = send(server.url + "/wrong")  # nothing routed: the server answers 404
    assert result.failure is FailureKind.NOT_FOUND
    assert "404" in result.reason and "ticket_api" in result.reason


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, "ok, thanks"),
        Reply.json({"ticket": "T-1"}),
        Reply.json({"id": ""}),
        Reply.json({"id": True}),
        Reply.json(["T-1"], 201),
    ],
)
def test_an_answer_that_is_not_the_contract(server: LoopbackServer, reply: Reply) -> None:
    server.route("/tickets", reply)
    result = send(server.url)
    assert not result.filed and result.failure is FailureKind.BAD_ANSWER


def test_a_redirect_is_not_followed_with_the_token(make_server: Any) -> None:
    api, elsewhere = make_server(), make_server()
    elsewhere.route("/tickets", Reply.json({"id": "stolen"}, 201))
    api.route("/tickets", Reply(307, "", {"Location": elsewhere.url + "/tickets"}))

    result = send(api.url)

    assert not result.filed and result.failure is FailureKind.REDIRECT
    assert "307" in result.reason
    assert elsewhere.requests == []


def test_hang_gives_up_within_the_timeout(server: LoopbackServer) -> None:
    server.route("/tickets", Hang())
    started = time.monotonic()
    result = send(server.url, timeout=0.5)
    elapsed = time.monotonic() - started
    assert result.failure is FailureKind.TIMEOUT
    assert result.reason == "The ticket service did not answer within 0.5 s"
    assert 0.4 < elapsed < 1.5


def test_a_dripping_answer_is_cut_by_the_total_deadline(server: LoopbackServer) -> None:
    # Each byte arrives well within a per-read timeout; only a total deadline stops it.
    server.route("/tickets", Drip(interval=0.1))
    started = time.monotonic()
    result = send(server.url, timeout=0.6)
    assert result.failure is FailureKind.TIMEOUT
    assert time.monotonic() - started < 1.5


def test_refused_fails_at_once() -> None:
    started = time.monotonic()
    result = send(f"http://127.0.0.1:{free_port()}", timeout=5.0)
    assert result.failure is FailureKind.REFUSED
    assert result.reason == "The ticket service refused the connection"
    assert time.monotonic() - started < 1.0


def test_connection_closed_without_an_answer(server: LoopbackServer) -> None:
    server.route("/tickets", Close())
    result = send(server.url)
    assert not result.filed and result.failure is FailureKind.CONNECTION


def test_dns_failure() -> None:
    result = send("https://ticket-api.invalid", timeout=5.0)
    assert result.failure is FailureKind.DNS
    assert "ticket-api.invalid" in result.reason


def test_tls_is_verified(tls_server: LoopbackServer, tls_ca: Any) -> None:
    tls_server.route("/tickets", Reply.json({"id": "T-9"}, 201))

    untrusted = send(tls_server.url)
    assert untrusted.failure is FailureKind.TLS
    assert tls_server.requests == []

    context = ssl.create_default_context()
    tls_ca.configure_trust(context)
    trusted = send(tls_server.url, verify=context)
    assert trusted.filed and trusted.ticket_id == "T-9"


# --------------------------------------------------------------------------- sender_for


def test_no_ticket_api_configured() -> None:
    sender = sender_for(provider(ticket_api=""), CredentialStore())
    result = asyncio.run(sender.send({}, idempotency_key=KEY))
    assert result.failure is FailureKind.NOT_CONFIGURED
    assert "ticket_api" in result.reason


def test_no_token(server: LoopbackServer) -> None:
    sender = sender_for(provider(ticket_api=server.url), CredentialStore())
    result = asyncio.run(sender.send({}, idempotency_key=KEY))
    assert result.failure is FailureKind.NO_TOKEN
    assert "LIFELINE_TICKET_TOKEN" in result.reason
    assert server.requests == []


def test_plain_http_is_refused_for_a_remote_host() -> None:
    sender = sender_for(provider(ticket_api="http://tickets.example.com"), CredentialStore())
    result = asyncio.run(sender.send({}, idempotency_key=KEY))
    assert result.failure is FailureKind.INSECURE


def test_token_from_the_keyring_and_from_the_environment(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("/tickets", Reply.json({"id": "T-1"}, 201))
    store = CredentialStore()
    store.set("ticket_api_token", "from-the-keyring-123")
    key = str(uuid.uuid4())
    asyncio.run(sender_for(provider(ticket_api=server.url), store).send({}, idempotency_key=key))
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", "from-the-env-456")
    asyncio.run(sender_for(provider(ticket_api=server.url), store).send({}, idempotency_key=key))
    auth = [r.headers["Authorization"] for r in server.requests]
    assert auth == ["Bearer from-the-keyring-123", "Bearer from-the-env-456"]


def test_reachability_sends_nothing(server: LoopbackServer, tls_server: LoopbackServer) -> None:
    from app.tickets.sender import api_reachable

    assert asyncio.run(api_reachable(provider(ticket_api=server.url)))
    assert server.requests == []  # a connection, not a request: no token, no ticket
    assert not asyncio.run(api_reachable(provider(ticket_api=f"http://127.0.0.1:{free_port()}")))
    assert not asyncio.run(api_reachable(provider(ticket_api="")))
    # An https service whose certificate is not trusted is not "reachable" for tickets.
    assert not asyncio.run(api_reachable(provider(ticket_api=tls_server.url)))
    assert tls_server.requests == []
