"""What each desktop notification says: pure and Qt-free, so the words are tested
without a tray and ui/notifications.py only decides when a message is shown.

A group of changes that arrive together becomes one message (`compose`); planned
maintenance and the network verdict have their own (`planned_message`,
`network_message`). Every text goes through `plain()`: status-page text is untrusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app import planned
from app.events import NetworkChanged, PlatformStateChanged, Reminder, SiteStateChanged
from app.models import PlatformState, SiteState
from app.platform_rule import describe
from app.presentation import local_time, plain

MAX_LINES = 6  # lines in a grouped message before "and N more"


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    level: Level
    down_sites: tuple[str, ...] = ()  # clicking offers a ticket for these

    @property
    def ticket_site(self) -> str | None:
        """The site a click files a ticket for (None: several, the form asks which)."""
        return self.down_sites[0] if len(self.down_sites) == 1 else None


Change = SiteStateChanged | PlatformStateChanged | Reminder


def compose(changes: list[Change], provider: str, now: datetime) -> Notification:
    """One message for a group of changes (pure; tested without a tray)."""
    lines = [_line(c, provider, now) for c in changes]
    down = tuple(
        dict.fromkeys(
            c.site
            for c in changes
            if isinstance(c, SiteStateChanged | Reminder) and c.state is SiteState.DOWN
        )
    )
    level = max((_level(c) for c in changes), key=_LEVEL_ORDER.index)
    if len(changes) == 1:
        title, body = lines[0]
        return Notification(plain(title, 80), plain(body, 240), level, down)
    summary = _summary(changes)
    shown = [f"{title}: {body}" if body else title for title, body in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        shown.append(f"and {len(lines) - MAX_LINES} more")
    body = "\n".join(plain(line, 100) for line in shown)
    return Notification(plain(summary, 80), body, level, down)


_LEVEL_ORDER = [Level.INFO, Level.WARNING, Level.CRITICAL]


def _level(change: Change) -> Level:
    if isinstance(change, PlatformStateChanged):
        if change.state is PlatformState.OUTAGE:
            return Level.CRITICAL
        if change.state in (PlatformState.DEGRADED, PlatformState.UNKNOWN):
            return Level.WARNING
        return Level.INFO
    if change.state is SiteState.DOWN:
        return Level.CRITICAL
    if change.state in (SiteState.DEGRADED, SiteState.EDITORS_BLOCKED, SiteState.UNKNOWN):
        return Level.WARNING
    return Level.INFO


def _line(change: Change, provider: str, now: datetime) -> tuple[str, str]:
    if isinstance(change, PlatformStateChanged):
        label = change.state.label
        detail = describe(change.platform)
        names = [
            i.name
            for i in change.platform.incidents
            if i.status != "resolved" and i.name not in detail
        ]
        if names:
            detail = "; ".join([detail, *names] if detail else names)
        return f"{provider} platform: {label}", detail
    if isinstance(change, Reminder):
        since = f" since {local_time(change.since, now)}" if change.since else ""
        return f"Still {change.state.label.lower()}{since}: {change.site}", change.reason
    if change.flapping:
        return f"{change.site} is flapping", change.reason
    if change.state is SiteState.OPERATIONAL:
        return f"{change.site} recovered", "Operational again"
    return f"{change.site}: {change.state.label}", change.reason


def _summary(changes: list[Change]) -> str:
    counts: dict[str, int] = {}
    for change in changes:
        if isinstance(change, PlatformStateChanged):
            key = "platform"
        elif isinstance(change, Reminder):
            key = f"still {change.state.label.lower()}"
        elif change.state is SiteState.OPERATIONAL:
            key = "recovered"
        else:
            key = "flapping" if change.flapping else change.state.label.lower()
        counts[key] = counts.get(key, 0) + 1
    parts = ", ".join(f"{n} {key}" for key, n in counts.items())
    return f"{len(changes)} changes: {parts}"


def planned_message(notice: planned.Notice, provider: str, now: datetime) -> Notification:
    """"Pantheon maintenance in 3 h: Database upgrade" / "Tue 22:00–23:00 (CET). ..."."""
    maintenance = notice.maintenance
    title = f"{provider} maintenance in {planned.time_until(notice.starts, now)}"
    body = planned.window_text(maintenance, now) + "."
    if maintenance.components:
        body += " Affects: " + ", ".join(maintenance.components) + "."
    return Notification(
        plain(f"{title}: {maintenance.name}", 80), plain(body, 240), Level.INFO
    )


def network_message(event: NetworkChanged) -> Notification:
    if event.available:
        return Notification("Network back", "Checking your sites again.", Level.INFO)
    reason = event.reason or "Nothing answers, not even the status page."
    return Notification(
        "Your network seems down",
        plain(f"{reason} Sites are not alarmed until it is back.", 240),
        Level.WARNING,
    )
