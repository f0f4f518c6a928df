"""The routes a config names, each with its secret (see base.py for the contract).

`routes_for` builds the API routes of a config, each with its secret. The dashboard
route needs the caller's platform source and is built by the ticket session
(app/tickets/session.py), which also adds the default set when there is no [[route]].
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

from app.config import Config, RouteConfig
from app.credentials import (
    ENV_OVERRIDES,
    TICKET_TOKEN,
    CredentialError,
    CredentialStore,
    route_env,
    route_secret,
)
from app.redact import redact
from app.tickets.builder import Ticket
from app.tickets.routes.api import ApiRoute
from app.tickets.routes.base import Route, RouteKind, RouteResult
from app.tickets.routes.common import failed
from app.tickets.routes.opsgenie import OpsgenieRoute
from app.tickets.routes.pagerduty import PagerDutyRoute
from app.tickets.routes.webhook import WebhookRoute
from app.tickets.routes.zendesk import ZendeskRoute
from app.tickets.transport import insecure_reason

__all__ = ["UnavailableRoute", "api_route", "routes_for"]

_SECRET_WORDS = {
    RouteKind.PAGERDUTY: "PagerDuty routing key",
    RouteKind.OPSGENIE: "Opsgenie API key",
    RouteKind.ZENDESK: "Zendesk API token",
    RouteKind.WEBHOOK: "webhook URL",
    RouteKind.API: "ticket API token",
}


class UnavailableRoute:
    """A route that cannot be used as configured (no secret, no endpoint): it fails at
    once with the reason, so the other routes and the hotline are not held up."""

    def __init__(self, name: str, kind: RouteKind, reason: str) -> None:
        self.name = name
        self.kind = kind
        self.reason = reason

    async def file(self, ticket: Ticket, *, dedup_key: str, timeout: float) -> RouteResult:
        return failed(self.name, self.kind, self.reason)


def routes_for(
    config: Config,
    credentials: CredentialStore,
    *,
    verify: ssl.SSLContext | None = None,
) -> list[Route]:
    """The configured API routes (every [[route]] but `dashboard`), in config order.

    Blocking (keyring): worker thread or CLI only. Never raises: a route that cannot be
    used becomes an UnavailableRoute saying why."""
    routes: list[Route] = []
    for entry in config.routes:
        kind = RouteKind(entry.kind)
        if kind is RouteKind.DASHBOARD:
            continue
        routes.append(_route(config, entry, kind, credentials, verify))
    return routes


def api_route(
    config: Config,
    credentials: CredentialStore,
    *,
    name: str = "api",
    endpoint: str = "",
    verify: ssl.SSLContext | None = None,
) -> Route:
    """The generic JSON ticket API as a route: `endpoint`, else [provider] ticket_api.
    Its token: the route's own secret, else the ticket API token (LIFELINE_TICKET_TOKEN)."""
    api = endpoint or config.provider.ticket_api
    if not api:
        return UnavailableRoute(
            name,
            RouteKind.API,
            "No ticket service is configured ([provider] ticket_api is empty)",
        )
    insecure = insecure_reason(api, "The ticket service")
    if insecure:
        return UnavailableRoute(name, RouteKind.API, insecure)
    token, problem = _secret(credentials, route_secret(name), fallback=TICKET_TOKEN)
    if problem:
        return UnavailableRoute(name, RouteKind.API, problem)
    if not token:
        return UnavailableRoute(
            name,
            RouteKind.API,
            "No ticket API token is set (Settings, or "
            f"{ENV_OVERRIDES[TICKET_TOKEN]} or {route_env(name)} for headless use)",
        )
    return ApiRoute(name, token, endpoint=api, verify=verify)


def _route(
    config: Config,
    entry: RouteConfig,
    kind: RouteKind,
    credentials: CredentialStore,
    verify: ssl.SSLContext | None,
) -> Route:
    if kind is RouteKind.API:
        return api_route(
            config, credentials, name=entry.name, endpoint=entry.endpoint, verify=verify
        )
    secret, problem = _secret(credentials, route_secret(entry.name))
    if problem:
        return UnavailableRoute(entry.name, kind, problem)
    if kind is RouteKind.WEBHOOK and not secret:
        secret = entry.endpoint  # a webhook whose URL is not secret may be in the config
    if not secret:
        return UnavailableRoute(
            entry.name,
            kind,
            f'No {_SECRET_WORDS[kind]} is set for route "{entry.name}" (Settings, or '
            f"{route_env(entry.name)} for headless use)",
        )
    builders: dict[RouteKind, Callable[[], Route]] = {
        RouteKind.PAGERDUTY: lambda: PagerDutyRoute(
            entry.name,
            secret,
            endpoint=entry.endpoint,
            provider=config.provider.name,
            verify=verify,
        ),
        RouteKind.OPSGENIE: lambda: OpsgenieRoute(
            entry.name, secret, endpoint=entry.endpoint, region=entry.region, verify=verify
        ),
        RouteKind.ZENDESK: lambda: ZendeskRoute(
            entry.name, secret, endpoint=entry.endpoint, email=entry.email, verify=verify
        ),
        RouteKind.WEBHOOK: lambda: WebhookRoute(
            entry.name, secret, format=entry.format or "slack", verify=verify
        ),
    }
    return builders[kind]()


def _secret(
    credentials: CredentialStore, name: str, *, fallback: str | None = None
) -> tuple[str | None, str | None]:
    """(the secret, None), or (None, why it cannot be read): one line naming it."""
    try:
        value = credentials.get(name)
        if not value and fallback is not None:
            value = credentials.get(fallback)
    except CredentialError as exc:
        said = str(exc)  # already names the secret, never contains it
        return None, redact(said[:1].upper() + said[1:])
    return value, None
