"""Route secrets (keyring under the route's name, LIFELINE_ROUTE_<NAME>), routes_for, and
secrets that cannot travel (issue 12 defect 5): stripped, checked, one line, no traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from app.config import Config, parse_config
from app.credentials import (
    TICKET_TOKEN,
    CredentialError,
    CredentialStore,
    route_env,
    route_secret,
)
from app.paths import Paths
from app.tickets.routes.api import ApiRoute
from app.tickets.routes.base import RouteKind, RouteOutcome, RouteResult
from app.tickets.routes.configured import UnavailableRoute, routes_for
from app.tickets.routes.opsgenie import OpsgenieRoute
from app.tickets.routes.pagerduty import PagerDutyRoute
from app.tickets.routes.webhook import WebhookRoute
from app.tickets.routes.zendesk import ZendeskRoute
from app.tickets.sender import FailureKind, JsonTicketSender, sender_for
from tests.loopback import LoopbackServer, Reply
from tests.memory_keyring import MemoryKeyring
from tests.route_fakes import PagerDutyFake, SlackFake
from tests.ticket_samples import provider, sample_ticket

KEY = "0d9c8b7a-6f5e-4d3c-2b1a-000000000042"
PD_KEY = "abcdefabcdefabcdefabcdef01234567"
NBSP = "\u00a0"

ALL_KINDS = """
[[route]]
name = "pantheon"
kind = "dashboard"

[[route]]
name = "on-call"
kind = "pagerduty"

[[route]]
kind = "opsgenie"
region = "eu"

[[route]]
name = "desk"
kind = "zendesk"
endpoint = "https://agency.zendesk.com"
email = "oncall@agency.example"

[[route]]
name = "chat"
kind = "webhook"

[[route]]
kind = "api"
endpoint = "https://tickets.agency.example"
"""


def run(route: object) -> RouteResult:
    assert hasattr(route, "file")
    return asyncio.run(route.file(sample_ticket(), dedup_key=KEY, timeout=2.0))


def test_env_names() -> None:
    assert route_env("on-call") == "LIFELINE_ROUTE_ON_CALL"
    assert route_env("Pager Duty 2") == "LIFELINE_ROUTE_PAGER_DUTY_2"
    assert route_env("désk") == "LIFELINE_ROUTE_D_SK"
    assert route_secret("desk") == "route:desk"


def test_routes_for_builds_every_api_route_with_its_keyring_secret() -> None:
    config = parse_config(ALL_KINDS)
    store = CredentialStore()
    store.set(route_secret("on-call"), PD_KEY)
    store.set(route_secret("opsgenie"), "genie-key-1234")
    store.set(route_secret("desk"), "zd-token-5678")
    store.set(route_secret("chat"), "https://hooks.slack.com/services/T1/B2/abcdefabcdef")
    store.set(TICKET_TOKEN, "api-token-9999")

    routes = routes_for(config, store)

    assert [(r.name, r.kind) for r in routes] == [
        ("on-call", RouteKind.PAGERDUTY),
        ("opsgenie", RouteKind.OPSGENIE),
        ("desk", RouteKind.ZENDESK),
        ("chat", RouteKind.WEBHOOK),
        ("api", RouteKind.API),
    ]
    pager, genie, desk, chat, api = routes
    assert isinstance(pager, PagerDutyRoute)
    assert pager.endpoint == "https://events.pagerduty.com/v2/enqueue"
    assert isinstance(genie, OpsgenieRoute)
    assert genie.endpoint == "https://api.eu.opsgenie.com/v2/alerts"
    assert isinstance(desk, ZendeskRoute) and desk.email == "oncall@agency.example"
    assert isinstance(chat, WebhookRoute) and chat.format == "slack"
    assert isinstance(api, ApiRoute) and api.endpoint == "https://tickets.agency.example"


def test_a_route_without_its_secret_fails_at_once_naming_the_variable() -> None:
    routes = routes_for(parse_config(ALL_KINDS), CredentialStore())
    assert all(isinstance(route, UnavailableRoute) for route in routes)
    result = run(routes[0])
    assert result.outcome is RouteOutcome.FAILED and not result.retryable
    assert result.reason == (
        'No PagerDuty routing key is set for route "on-call" (Settings, or '
        "LIFELINE_ROUTE_ON_CALL for headless use)"
    )
    api = run(routes[-1])
    assert "LIFELINE_TICKET_TOKEN" in api.reason and "LIFELINE_ROUTE_API" in api.reason


def test_headless_secrets_from_the_environment(
    make_server: type[LoopbackServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    pd_server, api_server = make_server(), make_server()
    fake = PagerDutyFake(pd_server, PD_KEY)
    api_server.route("/tickets", Reply.json({"id": "T-5"}, 201))
    config = parse_config(
        f"""
[[route]]
name = "on-call"
kind = "pagerduty"
endpoint = "{fake.endpoint}"

[[route]]
kind = "api"
endpoint = "{api_server.url}"
"""
    )
    monkeypatch.setenv("LIFELINE_ROUTE_ON_CALL", f"  {PD_KEY}\n")  # stripped
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", "ticket-token-from-env")  # still serves `api`

    results = [run(route) for route in routes_for(config, CredentialStore())]

    assert [r.outcome for r in results] == [RouteOutcome.FILED, RouteOutcome.FILED]
    assert fake.events[0]["routing_key"] == PD_KEY
    assert api_server.requests[0].headers["Authorization"] == "Bearer ticket-token-from-env"


def test_the_api_routes_own_secret_comes_before_the_ticket_token(
    server: LoopbackServer,
) -> None:
    server.route("/tickets", Reply.json({"id": "T-6"}, 201))
    config = parse_config(f'[[route]]\nkind = "api"\nendpoint = "{server.url}"\n')
    store = CredentialStore()
    store.set(TICKET_TOKEN, "the-general-ticket-token")
    store.set(route_secret("api"), "the-routes-own-token")
    assert run(routes_for(config, store)[0]).outcome is RouteOutcome.FILED
    assert server.requests[0].headers["Authorization"] == "Bearer the-routes-own-token"


def test_a_webhook_url_from_the_config_when_none_is_stored(server: LoopbackServer) -> None:
    fake = SlackFake(server)
    config = parse_config(f'[[route]]\nkind = "webhook"\nendpoint = "{fake.url}"\n')
    assert run(routes_for(config, CredentialStore())[0]).outcome is RouteOutcome.FILED
    assert len(fake.messages) == 1


def test_default_config_has_no_api_route_of_its_own() -> None:
    # With no [[route]] the ticket session picks the default set; routes_for adds nothing.
    assert routes_for(parse_config(""), CredentialStore()) == []


# --------------------------------------------------------------------------- defect 5


def test_a_pasted_no_break_space_around_a_token_is_stripped(
    memory_keyring: MemoryKeyring,
) -> None:
    store = CredentialStore()
    assert store.set(TICKET_TOKEN, f"{NBSP}tok-12345678{NBSP}\n") == "keyring"
    assert memory_keyring.store[("lifeline", TICKET_TOKEN)] == "tok-12345678"
    # A value stored by an older version, or by hand, is stripped when read.
    memory_keyring.store[("lifeline", route_secret("chat"))] = f"{NBSP}https://x.example/h{NBSP}"
    assert store.get(route_secret("chat")) == "https://x.example/h"


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (f"tok{NBSP}12345678", "a space"),
        ("tok-ünïcode-1234", "a non-ASCII character"),
        ("tok-\x1b[31m-1234", "a control character"),
    ],
)
def test_a_token_that_cannot_travel_is_refused_when_stored(value: str, what: str) -> None:
    with pytest.raises(CredentialError) as caught:
        CredentialStore().set(route_secret("desk"), value)
    message = str(caught.value)
    assert message.startswith('Secret of ticket route "desk" contains ' + what)
    assert value not in message and "\n" not in message


def test_a_bad_token_in_the_environment_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, server: LoopbackServer
) -> None:
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", f"tok{NBSP}en-1234")
    sender = sender_for(provider(ticket_api=server.url), CredentialStore())
    result = asyncio.run(sender.send({}, idempotency_key=KEY))
    assert result.failure is FailureKind.NO_TOKEN
    assert "LIFELINE_TICKET_TOKEN" in result.reason and "non-ASCII" not in result.reason
    assert "a space at position 4" in result.reason
    assert server.requests == []


def test_a_bad_token_in_the_keyring_makes_the_route_fail_not_raise(
    memory_keyring: MemoryKeyring, server: LoopbackServer
) -> None:
    memory_keyring.store[("lifeline", route_secret("on-call"))] = f"key{NBSP}with-a-gap"
    config = parse_config('[[route]]\nname = "on-call"\nkind = "pagerduty"\n')
    (route,) = routes_for(config, CredentialStore())
    result = run(route)
    assert result.outcome is RouteOutcome.FAILED
    assert result.reason.startswith('Secret of ticket route "on-call" contains a space')


def test_the_json_sender_never_raises_on_a_token_it_cannot_encode(
    server: LoopbackServer,
) -> None:
    # Constructed directly (no store in between): the header cannot be encoded.
    sender = JsonTicketSender(server.url, f"tok{NBSP}en", timeout=2.0)
    result = asyncio.run(sender.send(sample_ticket().to_body(), idempotency_key=KEY))
    assert not result.filed and result.failure is FailureKind.UNEXPECTED
    assert result.reason == "The ticket could not be sent (unexpected UnicodeEncodeError)"
    assert server.requests == []


# --------------------------------------------------------------------------- Settings


def test_settings_has_a_secret_row_per_route_and_saves_it_to_the_keyring(
    qtbot: Any, paths: Paths, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    from PySide6.QtCore import Qt

    from ui.settings.dialog import SettingsDialog

    config = parse_config(ALL_KINDS)
    saved: list[Config] = []
    dialog = SettingsDialog(
        config,
        paths=paths,
        store=CredentialStore(),
        on_saved=saved.append,
        config_path=tmp_path / "config.toml",
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.secrets.status is not None)
    routes = [n for n in dialog.secrets.names if n.startswith("route:")]
    assert routes == ["route:on-call", "route:opsgenie", "route:desk", "route:chat", "route:api"]
    edit = dialog.secrets.edits["route:on-call"]
    assert edit.accessibleName() == 'Secret of ticket route "on-call"'
    assert dialog.secrets.states["route:on-call"].text() == "Not set."

    edit.setText(f"{NBSP}{PD_KEY}{NBSP}")  # pasted with no-break spaces around it
    edit.textEdited.emit(edit.text())
    dialog.secrets.edits["route:desk"].setText(f"zd{NBSP}token")  # one inside: refused
    dialog.secrets.edits["route:desk"].textEdited.emit("x")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(saved) == 1)

    assert memory_keyring.store[("lifeline", "route:on-call")] == PD_KEY
    assert ("lifeline", "route:desk") not in memory_keyring.store
    qtbot.waitUntil(
        lambda: (
            dialog.secrets.states["route:desk"]
            .text()
            .startswith('Secret of ticket route "desk" contains a space at position 3')
        )
    )
    assert "zd" not in dialog.secrets.states["route:desk"].text().replace("desk", "")


def test_settings_explains_a_route_secret_set_by_the_environment(
    qtbot: Any, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.settings.dialog import SettingsDialog

    monkeypatch.setenv("LIFELINE_ROUTE_ON_CALL", PD_KEY)
    dialog = SettingsDialog(
        parse_config('[[route]]\nname = "on-call"\nkind = "pagerduty"\n'),
        paths=paths,
        store=CredentialStore(),
        on_saved=lambda _c: None,
        config_path=tmp_path / "config.toml",
    )
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.secrets.status is not None)
    assert dialog.secrets.states["route:on-call"].text() == (
        "Set by the environment variable LIFELINE_ROUTE_ON_CALL, which wins over a saved value."
    )
