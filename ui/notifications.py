"""Desktop notifications: one per confirmed change, grouped, reminders, a pause.

Pending problems never notify (that is the point of confirmation). Changes that arrive
together (ten sites failing in one check) become one message: they are collected until
the check's CheckCompleted arrives, or a short window passes. The pause is state in
memory, checked when a message would be shown: no timer wakes the process for it.

Planned maintenance is announced 24 h and 1 h before it starts (app.planned decides
which notice is due and remembers the ones shown), checked after every check: the
notice comes with the first check inside its window, never from a timer of its own.

What a message says is app.notices'; this module decides when one is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

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
from app.notices import Change, Notification, compose, network_message, planned_message

log = logging.getLogger(__name__)

GROUP_WINDOW_MS = 400  # changes closer than this (without a CheckCompleted) are one message


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
        self._pending: list[Change] = []
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
            if event.silenced is not None:
                return  # snoozed or in maintenance: recorded and shown, not announced
            self._collect(event)
        elif isinstance(event, PlatformStateChanged):
            if event.previous is None and event.state in (
                PlatformState.OPERATIONAL, PlatformState.UNKNOWN
            ):
                # A page that answers fine at start-up is not news; one that cannot be
                # read at start-up is the network's story, told by its own message.
                return
            self._collect(event)
        elif isinstance(event, Reminder):
            self._collect(event)
        elif isinstance(event, NetworkChanged):
            self.flush()
            self._emit(network_message(event))
        elif isinstance(event, CheckCompleted):
            self.flush()
            self._announce_planned(event.snapshot.platform)
        # SitePending, OverallStateChanged, MonitorError: no notification (pending is
        # not confirmed; overall is the sum of the site changes; errors are shown by
        # the error path).

    def _collect(self, change: Change) -> None:
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
