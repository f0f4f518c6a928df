"""Every API ticket route against a loopback fake of its service's real wire format.

One request per route per draft with the right auth and de-duplication key; a retry of
the same draft that the service de-duplicates; 400/429/5xx/timeout/refused; no redirect
followed with a secret; no secret to plain http; a planted secret absent from every
result and from the logs.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from app.logs import setup_logging
from app.paths import default_paths
from app.tickets.routes.api import ApiRoute
from app.tickets.routes.base import Route, RouteKind, RouteOutcome, RouteResult
from app.tickets.routes.opsgenie import OpsgenieRoute
from app.tickets.routes.pagerduty import PagerDutyRoute
from app.tickets.routes.webhook import WebhookRoute
from app.tickets.routes.zendesk import ZendeskRoute
from tests.loopback import Drip, Hang, LoopbackServer, Reply, free_port
from tests.route_fakes import OpsgenieFake, PagerDutyFake, SlackFake, ZendeskFake
from tests.ticket_samples import sample_ticket

KEY = "6c1f0d0e-3b5a-4e8b-9d67-0a1b2c3d4e5f"  # the draft's idempotency key
# Planted secrets: each must never come out of a route in any form.
PD_KEY = "R0UT1NGk3yPLANTED9f8e7d6c5b4a392"  # PagerDuty routing keys are 32 characters
GENIE_KEY = "genie-PLANTED-1b2c3d4e-5f60-7182-93a4"
ZENDESK_TOKEN = "zdPLANTEDtoken0x9f8e7d6c5b4a3928170"
ZENDESK_EMAIL = "oncall@agency.example"
API_TOKEN = "api-PLANTED-token-55aa66bb77cc88dd"
SLACK_SECRET_PATH = "/services/T0PLANTED/B0PLANTED/PLANTEDhooksecret9f8e7d6c"
PLANTED = (PD_KEY, GENIE_KEY, ZENDESK_TOKEN, API_TOKEN, SLACK_SECRET_PATH, "PLANTED")


def file(route: Route, *, timeout: float = 2.0, key: str = KEY) -> RouteResult:
    return asyncio.run(route.file(sample_ticket(), dedup_key=key, timeout=timeout))


@dataclass
class Case:
    """One route kind: how to stand up its fake and point a route at it."""

    kind: RouteKind
    fake: Callable[[LoopbackServer], Any]
    route: Callable[[Any], Route]
    path: str  # where its requests land
    secret: str  # the route's own secret


def _api_fake(server: LoopbackServer) -> Any:
    server.route("/tickets", Reply.json({"id": "T-77", "url": "https://help.example/T-77"}, 201))
    return server


CASES = [
    Case(
        RouteKind.PAGERDUTY,
        lambda s: PagerDutyFake(s, PD_KEY),
        lambda f: PagerDutyRoute("pager", PD_KEY, endpoint=f.endpoint),
        "/v2/enqueue",
        PD_KEY,
    ),
    Case(
        RouteKind.OPSGENIE,
        lambda s: OpsgenieFake(s, GENIE_KEY),
        lambda f: OpsgenieRoute("genie", GENIE_KEY, endpoint=f.endpoint),
        "/v2/alerts",
        GENIE_KEY,
    ),
    Case(
        RouteKind.ZENDESK,
        lambda s: ZendeskFake(s, ZENDESK_EMAIL, ZENDESK_TOKEN),
        lambda f: ZendeskRoute("desk", ZENDESK_TOKEN, endpoint=f.endpoint, email=ZENDESK_EMAIL),
        "/api/v2/tickets.json",
        ZENDESK_TOKEN,
    ),
    Case(
        RouteKind.WEBHOOK,
        lambda s: SlackFake(s, path=SLACK_SECRET_PATH),
        lambda f: WebhookRoute("chat", f.url, format="slack"),
        SLACK_SECRET_PATH,
        SLACK_SECRET_PATH,
    ),
    Case(
        RouteKind.API,
        _api_fake,
        lambda s: ApiRoute("api", API_TOKEN, endpoint=s.url),
        "/tickets",
        API_TOKEN,
    ),
]
IDS = [case.kind.value for case in CASES]


def assert_no_secret(result: RouteResult, *texts: str) -> None:
    shown = " ".join([repr(result), str(result.to_json()), *texts])
    for secret in PLANTED:
        assert secret not in shown


# --------------------------------------------------------------------------- the formats


def test_pagerduty_trigger_event(server: LoopbackServer) -> None:
    fake = PagerDutyFake(server, PD_KEY)
    result = file(PagerDutyRoute("pager", PD_KEY, endpoint=fake.endpoint, provider="Pantheon"))

    assert (result.outcome, result.id, result.status) == (RouteOutcome.FILED, KEY, 202)
    assert (result.name, result.kind, result.url) == ("pager", RouteKind.PAGERDUTY, None)
    (request,) = server.requests
    assert request.method == "POST" and request.path == "/v2/enqueue"
    assert "authorization" not in {k.lower() for k in request.headers}  # the key is in the body
    event = request.json()
    ticket = sample_ticket()
    assert event["routing_key"] == PD_KEY
    assert (event["event_action"], event["dedup_key"], event["client"]) == (
        "trigger",
        KEY,
        "Lifeline",
    )
    payload = event["payload"]
    assert payload["summary"] == ticket.subject
    assert (payload["source"], payload["severity"], payload["component"]) == (
        "https://shop.example.com",
        "critical",
        "shop",
    )
    assert (payload["group"], payload["class"]) == ("Pantheon", "down")
    assert payload["custom_details"]["diagnostics"] == ticket.diagnostics
    assert payload["custom_details"]["description"] == ticket.description
    assert event["links"] == [{"href": "https://shop.example.com", "text": "shop (live): the site"}]


def test_pagerduty_summary_is_cut_to_1024(server: LoopbackServer) -> None:
    fake = PagerDutyFake(server, PD_KEY)
    route = PagerDutyRoute("pager", PD_KEY, endpoint=fake.endpoint)
    ticket = replace(sample_ticket(), subject="S" * 5000)
    result = asyncio.run(route.file(ticket, dedup_key=KEY, timeout=2.0))
    assert result.outcome is RouteOutcome.FILED
    assert len(fake.events[0]["payload"]["summary"]) == 1024


def test_pagerduty_400_fails_for_good_with_its_message(server: LoopbackServer) -> None:
    PagerDutyFake(server, PD_KEY)
    result = file(PagerDutyRoute("pager", "too-short-key", endpoint=server.url + "/v2/enqueue"))
    assert result.outcome is RouteOutcome.FAILED and not result.retryable
    assert result.status == 400
    assert result.reason == (
        "PagerDuty rejected the event (400): Event object is invalid; "
        "Length of 'routing_key' is incorrect (should be 32 characters)"
    )


def test_opsgenie_alert(server: LoopbackServer) -> None:
    fake = OpsgenieFake(server, GENIE_KEY)
    result = file(OpsgenieRoute("genie", GENIE_KEY, endpoint=fake.endpoint))

    assert result.outcome is RouteOutcome.FILED and result.status == 202
    assert result.id and len(result.id) == 36  # the requestId
    (request,) = server.requests
    assert request.path == "/v2/alerts"
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["authorization"] == f"GenieKey {GENIE_KEY}"
    alert = request.json()
    ticket = sample_ticket()
    assert alert["message"] == ticket.subject[:129] + "…" or alert["message"] == ticket.subject
    assert len(alert["message"]) <= 130
    assert (alert["alias"], alert["priority"], alert["source"], alert["entity"]) == (
        KEY,
        "P1",
        "Lifeline",
        "shop",
    )
    assert ticket.subject in alert["description"] and len(alert["description"]) <= 15000
    assert "site:shop" in alert["tags"] and "emergency" in alert["tags"]
    assert alert["details"]["url"] == "https://shop.example.com"
    assert all(isinstance(v, str) for v in alert["details"].values())


def test_opsgenie_eu_region_and_default_endpoints() -> None:
    assert OpsgenieRoute("g", "k").endpoint == "https://api.opsgenie.com/v2/alerts"
    assert OpsgenieRoute("g", "k", region="eu").endpoint == "https://api.eu.opsgenie.com/v2/alerts"
    assert PagerDutyRoute("p", "k").endpoint == "https://events.pagerduty.com/v2/enqueue"


def test_opsgenie_long_subject_is_cut_to_130(server: LoopbackServer) -> None:
    fake = OpsgenieFake(server, GENIE_KEY)
    route = OpsgenieRoute("genie", GENIE_KEY, endpoint=fake.endpoint)
    result = asyncio.run(
        route.file(replace(sample_ticket(), subject="E" * 300), dedup_key=KEY, timeout=2)
    )
    assert result.outcome is RouteOutcome.FILED
    assert len(fake.alerts[KEY]["message"]) == 130


def test_opsgenie_key_rejected(server: LoopbackServer) -> None:
    fake = OpsgenieFake(server, GENIE_KEY)
    result = file(OpsgenieRoute("genie", "some-other-key", endpoint=fake.endpoint))
    assert result.outcome is RouteOutcome.FAILED and not result.retryable
    assert result.reason == "Opsgenie rejected the key (401): Could not authenticate"


def test_zendesk_ticket(server: LoopbackServer) -> None:
    fake = ZendeskFake(server, ZENDESK_EMAIL, ZENDESK_TOKEN)
    result = file(ZendeskRoute("desk", ZENDESK_TOKEN, endpoint=fake.endpoint, email=ZENDESK_EMAIL))

    assert (result.outcome, result.id, result.status) == (RouteOutcome.FILED, "35436", 201)
    assert result.url is None  # the loopback fake is plain http: no https link to show
    (request,) = server.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    user, _, token = base64.b64decode(headers["authorization"].split()[1]).decode().partition(":")
    assert (user, token) == (f"{ZENDESK_EMAIL}/token", ZENDESK_TOKEN)
    assert headers["idempotency-key"] == KEY
    body = request.json()["ticket"]
    ticket = sample_ticket()
    assert (body["subject"], body["priority"], body["type"]) == (
        ticket.subject,
        "urgent",
        "incident",
    )
    assert ticket.description.splitlines()[0] in body["comment"]["body"]
    assert body["tags"] == ["lifeline", "emergency", "site_shop"]


def test_zendesk_link_to_the_agent_view_over_https(tls_server: LoopbackServer, tls_ca: Any) -> None:
    ZendeskFake(tls_server, ZENDESK_EMAIL, ZENDESK_TOKEN)
    context = ssl.create_default_context()
    tls_ca.configure_trust(context)
    route = ZendeskRoute(
        "desk", ZENDESK_TOKEN, endpoint=tls_server.url, email=ZENDESK_EMAIL, verify=context
    )
    result = file(route)
    assert result.outcome is RouteOutcome.FILED
    assert result.url == f"{tls_server.url}/agent/tickets/35436"


def test_zendesk_refusal_carries_its_words(server: LoopbackServer) -> None:
    fake = ZendeskFake(server, ZENDESK_EMAIL, ZENDESK_TOKEN)
    route = ZendeskRoute("desk", ZENDESK_TOKEN, endpoint=fake.endpoint, email=ZENDESK_EMAIL)
    first = file(route)
    # The same key with another body (the user edited the draft): Zendesk refuses for good.
    changed = asyncio.run(
        route.file(replace(sample_ticket(), subject="edited"), dedup_key=KEY, timeout=2)
    )
    assert first.outcome is RouteOutcome.FILED
    assert changed.outcome is RouteOutcome.FAILED and not changed.retryable
    assert changed.reason.startswith("Zendesk refused the ticket (400): IdempotentRequestError")
    wrong = file(ZendeskRoute("desk", "not-the-token", endpoint=fake.endpoint, email=ZENDESK_EMAIL))
    assert wrong.reason == "Zendesk rejected the key (401): Couldn't authenticate you"


def test_slack_webhook_message(server: LoopbackServer) -> None:
    fake = SlackFake(server, path=SLACK_SECRET_PATH)
    result = file(WebhookRoute("chat", fake.url, format="slack"))

    assert (result.outcome, result.id, result.reason) == (
        RouteOutcome.FILED,
        None,
        "Posted to Slack",
    )
    (message,) = fake.messages
    assert set(message) == {"text"}
    text = message["text"]
    assert "shop" in text and "down" in text and "<https://shop.example.com|shop (live)>" in text
    assert len(text) < 600  # a short summary, not the ticket


def test_slack_error_string(server: LoopbackServer) -> None:
    fake = SlackFake(server, path=SLACK_SECRET_PATH, behaviour=Reply(404, "no_service"))
    result = file(WebhookRoute("chat", fake.url, format="slack"))
    assert result.outcome is RouteOutcome.FAILED
    assert result.reason == "Slack answered 404 (check the route's endpoint): no_service"


def test_a_200_without_ok_is_not_delivered(server: LoopbackServer) -> None:
    fake = SlackFake(server, path=SLACK_SECRET_PATH, behaviour=Reply(200, "<html>login</html>"))
    result = file(WebhookRoute("chat", fake.url, format="slack"))
    assert result.outcome is RouteOutcome.FAILED


def test_json_webhook_posts_the_ticket_document(server: LoopbackServer) -> None:
    server.route("/hook", Reply.json({"id": "evt-1", "url": "https://hooks.example/evt-1"}, 202))
    result = file(WebhookRoute("relay", server.url + "/hook", format="json"))
    assert (result.outcome, result.id, result.url) == (
        RouteOutcome.FILED,
        "evt-1",
        "https://hooks.example/evt-1",
    )
    (request,) = server.requests
    assert request.json() == sample_ticket().to_body()
    assert {k.lower(): v for k, v in request.headers.items()}["idempotency-key"] == KEY


def test_api_route_keeps_the_senders_contract(server: LoopbackServer) -> None:
    _api_fake(server)
    result = file(ApiRoute("api", API_TOKEN, endpoint=server.url))
    assert (result.outcome, result.id, result.url, result.kind) == (
        RouteOutcome.FILED,
        "T-77",
        "https://help.example/T-77",
        RouteKind.API,
    )
    (request,) = server.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["authorization"] == f"Bearer {API_TOKEN}"
    assert headers["idempotency-key"] == KEY
    assert request.json() == sample_ticket().to_body()


# --------------------------------------------------------------------------- every route


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_one_request_per_draft_and_a_retry_is_deduplicated(
    case: Case, server: LoopbackServer
) -> None:
    fake = case.fake(server)
    route = case.route(fake)
    first = file(route)
    assert first.outcome is RouteOutcome.FILED and first.kind is case.kind
    assert len(server.requests) == 1 and server.requests[0].path == case.path
    second = file(route)  # a retry of the same draft, same key
    assert second.outcome is RouteOutcome.FILED
    if isinstance(fake, PagerDutyFake):
        assert list(fake.alerts) == [KEY]
    if isinstance(fake, OpsgenieFake):
        assert list(fake.alerts) == [KEY]
    if isinstance(fake, ZendeskFake):
        assert len(fake.tickets) == 1 and second.id == first.id


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize(("status", "retryable"), [(400, False), (429, True), (503, True)])
def test_error_statuses(case: Case, status: int, retryable: bool, server: LoopbackServer) -> None:
    fake = case.fake(server)
    server.route(case.path, Reply.json({"message": "nope"}, status))
    result = file(case.route(fake))
    assert result.outcome is RouteOutcome.FAILED
    assert (result.status, result.retryable) == (status, retryable)
    assert str(status) in result.reason
    assert len(server.requests) == 1
    assert_no_secret(result)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_hanging_service_fails_within_the_deadline(case: Case, server: LoopbackServer) -> None:
    fake = case.fake(server)
    server.route(case.path, Hang())
    started = time.monotonic()
    result = file(case.route(fake), timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert result.outcome is RouteOutcome.FAILED and result.retryable
    assert "did not answer within 0.5 s" in result.reason
    assert 0.4 < result.seconds < 1.5


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_dripping_answer_is_cut_by_the_total_deadline(case: Case, server: LoopbackServer) -> None:
    fake = case.fake(server)
    server.route(case.path, Drip(interval=0.1))
    started = time.monotonic()
    result = file(case.route(fake), timeout=0.6)
    assert result.outcome is RouteOutcome.FAILED and result.retryable
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_refused(case: Case, make_server: Any) -> None:
    server = make_server()
    fake = case.fake(server)
    route = case.route(fake)
    server.close()  # nothing listens any more: the connection is refused
    started = time.monotonic()
    result = file(route, timeout=5.0)
    assert time.monotonic() - started < 1.0
    assert result.outcome is RouteOutcome.FAILED and result.retryable
    assert "refused the connection" in result.reason
    assert_no_secret(result)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_redirect_is_not_followed_with_the_secret(case: Case, make_server: Any) -> None:
    server, elsewhere = make_server(), make_server()
    fake = case.fake(server)
    elsewhere.route("*", Reply.json({"id": "stolen"}, 201))
    server.route(case.path, Reply(307, "", {"Location": elsewhere.url + case.path}))
    result = file(case.route(fake))
    assert result.outcome is RouteOutcome.FAILED and "307" in result.reason
    assert elsewhere.requests == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_tls_is_verified(case: Case, tls_server: LoopbackServer) -> None:
    fake = case.fake(tls_server)
    result = file(case.route(fake))  # the test CA is not trusted by default
    assert result.outcome is RouteOutcome.FAILED
    assert "TLS certificate could not be verified" in result.reason
    assert tls_server.requests == []


@pytest.mark.parametrize(
    "route",
    [
        PagerDutyRoute("pager", PD_KEY, endpoint="http://events.example.com/v2/enqueue"),
        OpsgenieRoute("genie", GENIE_KEY, endpoint="http://opsgenie.example.com"),
        ZendeskRoute("desk", ZENDESK_TOKEN, endpoint="http://agency.example", email="a@b.c"),
        WebhookRoute("chat", "http://hooks.example.com" + SLACK_SECRET_PATH),
        ApiRoute("api", API_TOKEN, endpoint="http://tickets.example.com"),
    ],
    ids=IDS,
)
def test_no_secret_over_plain_http_to_another_host(route: Route) -> None:
    started = time.monotonic()
    result = file(route, timeout=5.0)
    assert time.monotonic() - started < 0.5  # refused before any connection
    assert result.outcome is RouteOutcome.FAILED and not result.retryable
    assert "must use https" in result.reason
    assert_no_secret(result)


@pytest.fixture
def app_log() -> Iterator[Path]:
    """The app's own log file, with httpx2 at DEBUG: the worst case, every request logged."""
    log_file = default_paths().log_file
    root, http = logging.getLogger(), logging.getLogger("httpx2")
    saved = (root.level, list(root.handlers), http.level)
    setup_logging(log_file, level=logging.DEBUG)
    http.setLevel(logging.DEBUG)
    yield log_file
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(saved[0])
    for handler in saved[1]:
        root.addHandler(handler)
    http.setLevel(saved[2])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_planted_secret_is_in_no_output_and_no_log(
    case: Case, make_server: Any, app_log: Path
) -> None:
    server = make_server()
    fake = case.fake(server)
    # The service echoes what it got in its error: the route must not repeat its secret.
    echo = f"{case.secret}; key={case.secret}; Bearer {case.secret}"
    server.route(case.path, Reply.json({"message": echo, "error": echo}, 400))
    results = [file(case.route(fake))]
    server.route(case.path, Reply(500, echo))
    results.append(file(case.route(fake)))
    server.route(case.path, Hang())
    results.append(file(case.route(fake), timeout=0.3))
    logging.getLogger("lifeline.test").warning("results: %s", results)
    text = app_log.read_text()
    assert case.path.split("/")[1] in text or "HTTP Request" in text  # requests were logged
    for result in results:
        assert result.outcome is RouteOutcome.FAILED
        assert case.secret not in repr(result) + str(result.to_json())
    assert case.secret not in text


def test_a_secret_that_cannot_travel_in_a_header_is_a_failed_outcome(
    server: LoopbackServer,
) -> None:
    # A pasted no-break space inside the key: the header cannot be encoded. The route
    # must answer (so the hotline shows), not raise.
    fake = OpsgenieFake(server, GENIE_KEY)
    result = file(OpsgenieRoute("genie", "genie\u00a0key-123", endpoint=fake.endpoint))
    assert result.outcome is RouteOutcome.FAILED
    assert "unexpected" in result.reason
    assert server.requests == []


# --------------------------------------------------------------------------- proxies


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_loopback_is_never_reached_through_a_proxy(
    case: Case, make_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real "proxy" on loopback that records what reaches it (issue 12, defect 6).
    proxy, service = make_server(), make_server()
    proxy.route("*", Reply(502, "proxy"))
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, proxy.url)
    fake = case.fake(service)
    result = file(case.route(fake))
    assert result.outcome is RouteOutcome.FILED
    assert proxy.requests == []
    assert len(service.requests) == 1


def test_the_json_sender_bypasses_the_proxy_for_loopback(
    make_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.tickets.sender import JsonTicketSender

    proxy, service = make_server(), make_server()
    proxy.route("*", Reply(502, "proxy"))
    service.route("/tickets", Reply.json({"id": "T-1"}, 201))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("http_proxy", proxy.url)
    sender = JsonTicketSender(service.url, API_TOKEN, timeout=2.0)
    result = asyncio.run(sender.send(sample_ticket().to_body(), idempotency_key=KEY))
    assert result.filed
    assert proxy.requests == []
    assert service.requests[0].headers["Authorization"] == f"Bearer {API_TOKEN}"


def test_refused_port_is_fast_for_every_kind() -> None:
    port = free_port()
    route = PagerDutyRoute("pager", PD_KEY, endpoint=f"http://127.0.0.1:{port}/v2/enqueue")
    result = file(route, timeout=5.0)
    assert result.outcome is RouteOutcome.FAILED and result.retryable
