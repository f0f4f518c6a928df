"""What the monitor tells its subscribers (the tray, notifications, `lifeline watch`).

Plain frozen dataclasses: the UI bridge forwards them through queued Qt signals, the
watch command prints them; nothing here knows who listens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.models import (
    CheckReport,
    OverallState,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    SiteResult,
    SiteState,
)


@dataclass(frozen=True)
class SiteStatus:
    """A site as the monitor currently believes it to be (confirmed state + hints)."""

    name: str
    url: str
    environment: str
    state: SiteState  # confirmed
    point_of_failure: PointOfFailure
    reason: str
    pending: bool = False  # a problem seen but not yet confirmed
    suspected: SiteState | None = None  # the state it would move to if confirmed
    flapping: bool = False  # shown as degraded with reason "flapping"
    since: datetime | None = None  # when the confirmed state began
    first_failure_at: datetime | None = None  # first failed check of the current problem
    last_checked: datetime | None = None
    uptime_24h: float | None = None  # 0..1, None when there is no history yet
    uptime_7d: float | None = None  # 0..1, None when there is no history yet
    result: SiteResult | None = None  # the latest raw check of this site
    group: str = ""  # its [[site]] group ("" = none)
    silenced: str | None = None  # "snooze" | "maintenance": no notification, no icon colour
    silenced_until: datetime | None = None


@dataclass(frozen=True)
class MonitorSnapshot:
    """Everything the UI needs to draw the tray and its menu, without asking anyone."""

    overall: OverallState = OverallState.UNKNOWN
    point_of_failure: PointOfFailure = PointOfFailure.NONE
    platform: PlatformStatus | None = None
    sites: tuple[SiteStatus, ...] = ()
    network_ok: bool = True
    last_check: datetime | None = None
    checking: bool = False
    report: CheckReport | None = None

    @property
    def pending(self) -> bool:
        """A problem is being confirmed (the icon's dot); silenced sites do not count."""
        return any(s.pending and s.silenced is None for s in self.sites)

    def site(self, name: str) -> SiteStatus | None:
        return next((s for s in self.sites if s.name == name), None)


@dataclass(frozen=True)
class SiteStateChanged:
    at: datetime
    site: str
    previous: SiteState | None
    state: SiteState
    point_of_failure: PointOfFailure
    reason: str
    flapping: bool = False
    result: SiteResult | None = None
    platform: PlatformStatus | None = None  # the platform as it stood (evidence for history)
    silenced: str | None = None  # "snooze" | "maintenance": recorded and shown, not notified


@dataclass(frozen=True)
class SitePending:
    """A problem was seen once; it will be confirmed (or not) by the next checks."""

    at: datetime
    site: str
    suspected: SiteState | None  # None: the pending problem cleared without alarm
    reason: str


@dataclass(frozen=True)
class PlatformStateChanged:
    at: datetime
    previous: PlatformState | None
    state: PlatformState
    platform: PlatformStatus


@dataclass(frozen=True)
class OverallStateChanged:
    at: datetime
    previous: OverallState | None
    state: OverallState
    point_of_failure: PointOfFailure
    reason: str


@dataclass(frozen=True)
class Reminder:
    at: datetime
    site: str
    state: SiteState
    since: datetime | None
    reason: str
    point_of_failure: PointOfFailure = PointOfFailure.SITE


@dataclass(frozen=True)
class MaintenanceChanged:
    """A site entered (`active`) or left one of its `[[maintenance]]` windows."""

    at: datetime
    site: str
    active: bool
    until: datetime | None = None  # when active: the window's end


@dataclass(frozen=True)
class SnoozeChanged:
    """A site was snoozed (`active`, until `until`) or its snooze ended: the history
    records the span, so the Lifeline window can draw it (uptime is not affected)."""

    at: datetime
    site: str
    active: bool
    until: datetime | None = None


@dataclass(frozen=True)
class NetworkChanged:
    at: datetime
    available: bool
    reason: str = ""


@dataclass(frozen=True)
class CheckCompleted:
    """After every check: the new snapshot (drives tooltip and menu; not a notification)."""

    at: datetime
    snapshot: MonitorSnapshot = field(default_factory=MonitorSnapshot)


@dataclass(frozen=True)
class MonitorError:
    """Something in the monitor failed unexpectedly; delivered, never swallowed."""

    at: datetime
    message: str


Event = (
    SiteStateChanged
    | SitePending
    | PlatformStateChanged
    | OverallStateChanged
    | Reminder
    | MaintenanceChanged
    | SnoozeChanged
    | NetworkChanged
    | CheckCompleted
    | MonitorError
)
