"""Which routes one click files through, built from the config.

Blocking (the keyring holds the API routes' secrets): a worker thread or the CLI. The
dashboard routes need no secret, so `routes_without_secrets` can stand in when the
keyring does not answer in time.
"""

from __future__ import annotations

import ssl

from app.check import probe_options
from app.config import Config
from app.credentials import CredentialStore
from app.models import PlatformStatus
from app.statuspage import fetch_platform
from app.tickets.outcome import support_url
from app.tickets.routes.base import Route, RouteKind
from app.tickets.routes.configured import UnavailableRoute, api_route, routes_for
from app.tickets.routes.dashboard import DashboardRoute, PlatformSource
from app.tickets.transport import default_tls_context


def routes_for_config(
    config: Config,
    credentials: CredentialStore,
    *,
    platform: PlatformSource | None = None,
    verify: ssl.SSLContext | None = None,
) -> list[Route]:
    """Every route of this config, in config order. Blocking (keyring): a worker thread
    or the CLI.

    With no [[route]]: the dashboard route, plus the generic `api` route when
    `[provider] ticket_api` is set (so configs from before routes keep working).
    """
    default_tls_context()  # the CA store loads here, off the event loop, once per process
    if not config.routes:
        routes: list[Route] = [
            DashboardRoute(support_url=support_url(config), platform=platform, verify=verify)
        ]
        if config.provider.ticket_api:
            routes.append(api_route(config, credentials, verify=verify))
        return routes
    api = {route.name: route for route in routes_for(config, credentials, verify=verify)}
    return [
        api[entry.name]
        if entry.kind != RouteKind.DASHBOARD.value
        else DashboardRoute(
            name=entry.name,
            support_url=entry.endpoint or support_url(config),
            platform=platform,
            verify=verify,
        )
        for entry in config.routes
    ]


def routes_without_secrets(
    config: Config,
    *,
    platform: PlatformSource | None,
    verify: ssl.SSLContext | None,
    reason: str,
) -> list[Route]:
    """The routes of this config when their secrets cannot be read in time: the dashboard
    routes as usual (they have none), every other route failing at once with `reason`."""
    if not config.routes:
        routes: list[Route] = [
            DashboardRoute(support_url=support_url(config), platform=platform, verify=verify)
        ]
        if config.provider.ticket_api:
            routes.append(UnavailableRoute("api", RouteKind.API, reason))
        return routes
    return [
        DashboardRoute(
            name=entry.name,
            support_url=entry.endpoint or support_url(config),
            platform=platform,
            verify=verify,
        )
        if entry.kind == RouteKind.DASHBOARD.value
        else UnavailableRoute(entry.name, RouteKind(entry.kind), reason)
        for entry in config.routes
    ]


def status_page_source(config: Config) -> PlatformSource | None:
    """Read the status page when the dashboard route needs it (a resend has no check)."""
    if not config.provider.status_page:
        return None

    async def read() -> PlatformStatus | None:
        fetched = await fetch_platform(config.provider.status_page, probe_options(config))
        return fetched.status

    return read
