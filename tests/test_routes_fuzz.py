"""Property tests: whatever a ticket service answers (any status, any bytes, any JSON),
each route's reading of it is a RouteResult with one printable line, never an exception."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.tickets.routes.api import route_result
from app.tickets.routes.base import RouteOutcome, RouteResult
from app.tickets.routes.common import text_of
from app.tickets.routes.opsgenie import OpsgenieRoute
from app.tickets.routes.pagerduty import PagerDutyRoute
from app.tickets.routes.webhook import WebhookRoute
from app.tickets.routes.zendesk import ZendeskRoute
from app.tickets.sender import JsonTicketSender
from app.tickets.transport import Answer, is_https_link
from tests.loopback import LoopbackServer, Reply

KEY = "2f0e1d2c-3b4a-5968-7a6b-8c9d0e1f2a3b"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)
# What the services' own fields look like, so the success branches are reached too.
shaped = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "url": st.text() | st.just("https://x.example/1"),
        "requestId": json_values,
        "message": json_values,
        "errors": json_values,
        "error": json_values,
        "description": json_values,
        "details": json_values,
        "ticket": st.fixed_dictionaries({}, optional={"id": json_values}) | json_values,
    },
)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | shaped.map(lambda v: json.dumps(v).encode())
    | st.just(b"[" * 5000 + b"]" * 5000)  # deeper than the JSON parser's recursion
    | st.just(b"ok")
)
statuses = st.sampled_from([200, 201, 202, 204, 301, 400, 401, 404, 409, 422, 429, 500]) | (
    st.integers(min_value=100, max_value=599)
)

api_sender = JsonTicketSender("https://tickets.example", "token-123456", timeout=1.0)
READERS: dict[str, Callable[[Answer], RouteResult]] = {
    "pagerduty": lambda a: PagerDutyRoute("p", "k" * 32).interpret(a, KEY),
    "opsgenie": lambda a: OpsgenieRoute("o", "genie-key").interpret(a, KEY),
    "zendesk": lambda a: ZendeskRoute(
        "z", "tok", endpoint="https://a.zendesk.com", email="e@x"
    ).interpret(a, KEY),
    "slack": lambda a: WebhookRoute("s", "https://hooks.example/services/x").interpret(a, KEY),
    "json": lambda a: WebhookRoute("j", "https://hooks.example/j", format="json").interpret(
        a, KEY
    ),
    "api": lambda a: route_result("api", api_sender._interpret(a.status, a.headers, a.body)),
}


def assert_well_formed(result: RouteResult) -> None:
    assert isinstance(result, RouteResult)
    assert result.reason and result.reason.isprintable()
    assert result.id is None or (isinstance(result.id, str) and len(result.id) <= 200)
    assert result.url is None or is_https_link(result.url)
    if result.outcome is RouteOutcome.FILED:
        assert 200 <= (result.status or 0) < 300
    json.dumps(result.to_json())


@pytest.mark.parametrize("reader", list(READERS), ids=list(READERS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=statuses, body=bodies)
def test_any_answer_is_read_as_a_result(reader: str, status: int, body: bytes) -> None:
    answer = Answer(status, httpx2.Headers({"content-type": "application/json"}), body)
    assert_well_formed(READERS[reader](answer))


@settings(max_examples=100, deadline=None)
@given(value=json_values)
def test_a_services_message_is_one_bounded_printable_line(value: Any) -> None:
    text = text_of(value)
    assert isinstance(text, str) and len(text) <= 300
    assert text == "" or text.isprintable()


def test_kept_example_a_201_nested_deeper_than_the_parser_is_a_bad_answer(
    server: LoopbackServer,
) -> None:
    # Found by the property above: json.loads raised RecursionError out of the sender.
    from app.tickets.sender import FailureKind

    server.route(
        "/tickets", Reply(201, b"[" * 5000 + b"]" * 5000, {"Content-Type": "application/json"})
    )
    sender = JsonTicketSender(server.url, "token-123456", timeout=2.0)
    result = asyncio.run(sender.send({}, idempotency_key=KEY))
    assert result.failure is FailureKind.BAD_ANSWER
    assert result.reason == "The ticket service answered 201 without a ticket id"
