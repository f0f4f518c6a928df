"""Desktop notifications: one per confirmed change, grouped, reminders, a pause.

Pending problems never notify (that is the point of confirmation). Changes that arrive
together (ten sites failing in one check) become one message: they are collected until
the check's CheckCompleted arrives, or a short window passes. The pause is state in
memory, checked when a message would be shown: no timer wakes the process for it.

Planned maintenance is announced 24 h and 1 h before it starts (app.planned decides
which notice is due and remembers the ones shown), checked after every check: the
notice comes with the first check inside its window, never from a timer of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from PySide6.QtCore import QObject, QTimer

from app import planned
from app.events import (
    CheckCompleted,
    Event,
    NetworkChanged,
    PlatformStateChanged,
    Reminder,
    SiteStateChanged,
)
from app.models import PlatformState, PlatformStatus, SiteState
from app.platform_rule import describe
from app.presentation import local_time, plain

log = logging.getLogger(__name__)

MAX_LINES = 6  # lines in a grouped message before "and N more"
GROUP_WINDOW_MS = 400  # changes closer than this (without a CheckCompleted) are one message


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


_Change = SiteStateChanged | PlatformStateChanged | Reminder


class Notifier(QObject):
    def __init__(
        self,
        show: Callable[[Notification], None],
        *,
        provider_name: str = "Platform",
        clock: Callable[[], datetime] | None = None,
        resume_hour: int = 8,
        planned_notices: planned.PlannedNotices | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._show = show
        self._planned = planned_notices
        self.provider_name = provider_name
        self._clock = clock or (lambda: datetime.now().astimezone())
        self.resume_hour = resume_hour
        self._paused_until: datetime | None = None
        self._pending: list[_Change] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(GROUP_WINDOW_MS)
        self._timer.timeout.connect(self.flush)
        self.last: Notification | None = None
        self.suppressed = 0  # messages not shown because of the pause

    # -- pause ---------------------------------------------------------------------

    @property
    def paused_until(self) -> datetime | None:
        if self._paused_until is not None and self._clock() >= self._paused_until:
            self._paused_until = None
        return self._paused_until

    def pause(self, how: str) -> None:
        """"hour", "tomorrow" (next day at resume_hour, local time) or "resume"."""
        now = self._clock()
        if how == "resume":
            self._paused_until = None
        elif how == "hour":
            self._paused_until = now + timedelta(hours=1)
        elif how == "tomorrow":
            tomorrow = (now + timedelta(days=1)).date()
            self._paused_until = datetime(
                tomorrow.year, tomorrow.month, tomorrow.day, self.resume_hour, tzinfo=now.tzinfo
            )
        else:
            raise ValueError(f"unknown pause {how!r}")
        log.info("notifications paused until %s", self._paused_until)

    # -- events ----------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        if isinstance(event, SiteStateChanged):
            if event.previous is None and event.state is SiteState.OPERATIONAL:
                return  # a fine site at start-up is not news
            self._collect(event)
        elif isinstance(event, PlatformStateChanged):
            if event.previous is None and event.state is PlatformState.OPERATIONAL:
                return
            self._collect(event)
        elif isinstance(event, Reminder):
            self._collect(event)
        elif isinstance(event, NetworkChanged):
            self.flush()
            self._emit(_network_message(event))
        elif isinstance(event, CheckCompleted):
            self.flush()
            self._announce_planned(event.snapshot.platform)
        # SitePending, OverallStateChanged, MonitorError: no notification (pending is
        # not confirmed; overall is the sum of the site changes; errors are shown by
        # the error path).

    def _collect(self, change: _Change) -> None:
        self._pending.append(change)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        self._timer.stop()
        if not self._pending:
            return
        changes, self._pending = self._pending, []
        self._emit(compose(changes, self.provider_name, self._clock()))

    def _announce_planned(self, platform: PlatformStatus | None) -> None:
        if self._planned is None or platform is None or not platform.upcoming:
            return
        if self.paused_until is not None:
            # Not shown and not marked: shown after the pause if still in its window.
            return
        now = self._clock()
        notices = self._planned.due(platform.upcoming, now)
        for notice in notices:
            self._emit(planned_message(notice, self.provider_name, now))
        self._planned.mark_shown(notices, now)

    def _emit(self, note: Notification) -> None:
        if self.paused_until is not None:
            self.suppressed += 1
            log.info("notification suppressed (paused): %s", note.title)
            return
        self.last = note
        self._show(note)


def compose(changes: list[_Change], provider: str, now: datetime) -> Notification:
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


def _level(change: _Change) -> Level:
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


def _line(change: _Change, provider: str, now: datetime) -> tuple[str, str]:
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


def _summary(changes: list[_Change]) -> str:
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


def _network_message(event: NetworkChanged) -> Notification:
    if event.available:
        return Notification("Network back", "Checking your sites again.", Level.INFO)
    reason = event.reason or "Nothing answers, not even the status page."
    return Notification(
        "Your network seems down",
        plain(f"{reason} Sites are not alarmed until it is back.", 240),
        Level.WARNING,
    )
