"""What one press of Send achieved, route by route, and how it is said everywhere.

The CLI, the form's panel and the tray's offer all speak of outcomes through this
module, so a route is "filed as …", "handed to the dashboard" or "unreachable; call the
hotline" in the same words wherever it is shown. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.config import Config
from app.tickets.filing import Filing
from app.tickets.routes.base import RouteOutcome, RouteResult
from app.tickets.routes.dashboard import DEFAULT_SUPPORT_URL, tier_steps

EXIT_REACHED = 0  # every route reached its destination
EXIT_PARTLY = 1  # some did, some did not
EXIT_NOT_REACHED = 2  # none did: the hotline is the way


@dataclass(frozen=True)
class SessionOutcome:
    """What one press of Send (or one `lifeline ticket`) achieved, route by route."""

    draft_id: int | None
    routes: tuple[RouteResult, ...]
    text: str  # the whole ticket as plain text (clipboard, phone)
    hotline: str
    support_tier: str
    support_url: str
    unsaved: str = ""  # why the outbox could not keep the ticket ("" = it did)
    skipped: str = ""  # why nothing was sent (settled, or another sender holds it)
    recorded: bool = True  # False: an outcome could not be written (it still happened)
    sent: tuple[str, ...] = ()  # the routes run by this attempt (the others had reached)

    @property
    def reached(self) -> bool:
        return any(r.outcome.reached for r in self.routes)

    @property
    def all_reached(self) -> bool:
        return bool(self.routes) and all(r.outcome.reached for r in self.routes)

    @property
    def dashboard(self) -> RouteResult | None:
        """The route that handed the ticket to the dashboard (clipboard + page), if any."""
        return next((r for r in self.routes if r.outcome is RouteOutcome.DASHBOARD), None)

    @property
    def handed_now(self) -> RouteResult | None:
        """The dashboard route, when this attempt handed the text over (clipboard, page)."""
        handed = self.dashboard
        return handed if handed is not None and handed.name in self.sent else None

    @property
    def needs_hotline(self) -> bool:
        """Show the hotline first: the dashboard is down, or nothing reached anyone."""
        hotline = any(r.outcome is RouteOutcome.HOTLINE for r in self.routes)
        return hotline or not self.reached

    @property
    def exit_code(self) -> int:
        if self.all_reached:
            return EXIT_REACHED
        return EXIT_PARTLY if self.reached else EXIT_NOT_REACHED

    @property
    def steps(self) -> list[str]:
        """What to do on the dashboard for this support tier."""
        return tier_steps(self.support_tier)

    def to_json(self) -> dict[str, Any]:
        return {
            "draft_id": self.draft_id,
            "reached": self.reached,
            "routes": [r.to_json() for r in self.routes],
            "hotline": self.hotline,
            "support_tier": self.support_tier,
            "support_url": self.support_url,
            "saved": not self.unsaved,
            "text": self.text,
        }


def route_line(result: RouteResult) -> str:
    """One line per route, the same words as the form's."""
    if result.outcome is RouteOutcome.FILED:
        link = f" {result.url}" if result.url else ""
        return f"{result.name}: filed as {result.id or '(no id)'}{link}"
    if result.outcome is RouteOutcome.DASHBOARD:
        return f"{result.name}: handed to the dashboard, {result.url or ''}".rstrip(", ")
    if result.outcome is RouteOutcome.HOTLINE:
        return f"{result.name}: unreachable ({result.reason.rstrip('.')}); call the hotline"
    return f"{result.name}: NOT FILED: {result.reason.rstrip('.')}"


def headline(outcome: SessionOutcome) -> str:
    """The outcome in one sentence, the first thing the form's panel says."""
    if outcome.all_reached and outcome.dashboard is None:
        return "Emergency ticket filed."
    if outcome.handed_now is not None:
        return (
            "The ticket text is on your clipboard: paste it on the dashboard's Support tab."
        )
    if outcome.all_reached:  # the dashboard took it on an earlier attempt
        return "Every route has the ticket; finish filing it on the dashboard's Support tab."
    if outcome.reached:
        return "The ticket reached some of its routes; the others failed."
    failed = [r for r in outcome.routes if not r.outcome.reached]
    if len(failed) == 1 and failed[0].reason:
        return f"The ticket was not filed. {failed[0].reason.rstrip('.')}."
    return "The ticket was not filed: no route could take it."


def outcome_of(
    config: Config, filing: Filing, text: str, *, draft_id: int | None, unsaved: str = ""
) -> SessionOutcome:
    return SessionOutcome(
        draft_id=draft_id,
        routes=filing.results,
        text=text,
        hotline=config.provider.hotline,
        support_tier=support_tier(config),
        support_url=support_url(config),
        unsaved=unsaved,
        skipped=filing.skipped,
        recorded=filing.recorded,
        sent=filing.sent,
    )


def support_tier(config: Config) -> str:
    return config.provider.support_tier


def support_url(config: Config) -> str:
    return config.provider.support_url or DEFAULT_SUPPORT_URL
