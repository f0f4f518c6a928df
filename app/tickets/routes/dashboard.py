"""The `dashboard` route: hand the ticket to the provider's dashboard, or say call.

Pantheon publishes no ticket API: emergencies are opened from the Support tab of the
dashboard, and by phone when the dashboard is down. So this route files nothing itself.
It only decides, within the deadline, whether the dashboard can be used right now: a GET
of the support page (any answer below 500 counts, a redirect to the login page too) and
the status page's "Dashboard" component (a partial or major outage counts as down). The
caller then puts the text on the clipboard and opens the page (`dashboard`), or shows
the hotline (`hotline`). No secret is involved, so none can leak.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable

import httpx2

from app import __version__
from app.models import PlatformStatus
from app.redact import redact
from app.tickets.builder import Ticket
from app.tickets.routes.base import RouteKind, RouteOutcome, RouteResult
from app.tickets.transport import default_tls_context

DEFAULT_SUPPORT_URL = "https://dashboard.pantheon.io/#support"
_OUTAGE = ("partial_outage", "major_outage")

# What to do on the dashboard, per support tier (Pantheon's "if your site goes down").
_STEPS = {
    "emergency": "Diamond or Platinum: open an emergency on-call ticket and paste the text.",
    "ticket": "Gold: open a support ticket and paste the text.",
    "chat": "Silver: start a chat and paste the text.",
}
_TIER_STEPS = {
    "diamond": ("emergency",),
    "platinum": ("emergency",),
    "gold": ("ticket",),
    "silver": ("chat",),
}

PlatformSource = Callable[[], Awaitable[PlatformStatus | None]]


def tier_steps(tier: str) -> list[str]:
    """What the user does on the dashboard, for their tier (all three when unknown)."""
    keys = _TIER_STEPS.get(tier, ("emergency", "ticket", "chat"))
    return [_STEPS[key] for key in keys]


def dashboard_down(platform: PlatformStatus | None) -> str | None:
    """The status page's own word that the dashboard is down (None: it does not say so)."""
    if platform is None:
        return None
    for component in platform.components:
        if "dashboard" in component.name.casefold() and component.status in _OUTAGE:
            words = component.status.replace("_", " ")
            return f"The status page reports {component.name}: {words}"
    return None


class DashboardRoute:
    """One provider dashboard. `platform` gives the latest status page reading, if any."""

    kind = RouteKind.DASHBOARD

    def __init__(
        self,
        *,
        name: str = "dashboard",
        support_url: str = DEFAULT_SUPPORT_URL,
        platform: PlatformSource | None = None,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.support_url = support_url
        self._platform = platform
        self._verify = verify

    async def file(self, ticket: Ticket, *, dedup_key: str, timeout: float) -> RouteResult:
        started = time.monotonic()
        # The status page is read while the support page answers: one deadline for both.
        platform_task = asyncio.ensure_future(self._read_platform())
        try:
            async with asyncio.timeout(timeout):
                reason = await self._page_problem(timeout)
                if reason is None:
                    reason = dashboard_down(await platform_task)
        except TimeoutError:
            reason = f"The dashboard did not answer within {timeout:g} s"
        finally:
            platform_task.cancel()
        seconds = time.monotonic() - started
        if reason is not None:
            return RouteResult(
                self.name, self.kind, RouteOutcome.HOTLINE, reason=redact(reason),
                url=self.support_url, retryable=True, seconds=seconds,
            )
        return RouteResult(
            self.name, self.kind, RouteOutcome.DASHBOARD,
            reason="The dashboard is reachable: paste the ticket text on its Support tab",
            url=self.support_url, seconds=seconds,
        )

    async def reachable(self, timeout: float) -> bool:
        """Whether the support page answers below 500 within `timeout` (nothing is sent)."""
        try:
            async with asyncio.timeout(timeout):
                return await self._page_problem(timeout) is None
        except TimeoutError:
            return False

    async def _read_platform(self) -> PlatformStatus | None:
        if self._platform is None:
            return None
        try:
            return await self._platform()
        except (OSError, ValueError, httpx2.HTTPError):
            return None  # no word from the status page: the support page decides alone

    async def _page_problem(self, timeout: float) -> str | None:
        """Why the support page cannot be used (None: it answered below 500)."""
        # The CA store is loaded once per process (about 0.1 s), not on every press.
        verify = self._verify if self._verify is not None else default_tls_context()
        try:
            async with (
                httpx2.AsyncClient(
                    verify=verify,
                    follow_redirects=False,  # the login page's redirect is an answer
                    timeout=httpx2.Timeout(timeout),
                    headers={"User-Agent": f"lifeline/{__version__}"},
                ) as client,
                client.stream("GET", self.support_url) as answer,
            ):
                status = answer.status_code
        except httpx2.TimeoutException:
            return f"The dashboard did not answer within {timeout:g} s"
        except httpx2.ConnectError as exc:
            return _connect_problem(exc)
        except httpx2.HTTPError as exc:
            return f"The connection to the dashboard failed ({type(exc).__name__})"
        if status >= 500:
            return f"The dashboard answered {status}"
        return None


def _connect_problem(exc: BaseException) -> str:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(item, ssl.SSLError) for item in chain):
        return "The dashboard's TLS certificate could not be verified"
    if any(isinstance(item, ConnectionRefusedError) for item in chain) or any(
        "refused" in str(item).lower() for item in chain
    ):
        return "The dashboard refused the connection"
    return "The dashboard could not be reached"
