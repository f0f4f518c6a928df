"""Maintenance windows (`[[maintenance]]`): which sites are in one at a given instant,
and until when. Pure: the clock is the caller's.

A one-off window is [start, end). A recurring one starts at each occurrence of its RRULE,
read as wall time in its `timezone` (so 22:00 in America/Los_Angeles stays 22:00 across
daylight saving time), and lasts `duration`. The RRULE's occurrences are counted from a
fixed anchor, Monday 2000-01-03 00:00 local time: a rule that leaves the day or hour open
(FREQ=WEEKLY without BYDAY) takes them from there. Overlapping windows join: a site is in
maintenance until the latest end among those it is inside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from app.config import Config, MaintenanceConfig, SiteConfig
from app.durations import parse_duration

ANCHOR = datetime(2000, 1, 3)  # a Monday, local midnight


@dataclass(frozen=True)
class _Window:
    refs: frozenset[str]  # casefolded site names and "group:<name>", or "*"
    start: datetime | None
    end: datetime | None
    rule: rrule | None
    duration: timedelta
    zone: tzinfo

    def ends_after(self, at: datetime) -> datetime | None:
        """The end of this window's span that holds `at`, or None."""
        if self.start is not None and self.end is not None:
            return self.end if self.start <= at < self.end else None
        if self.rule is None:
            return None
        local = at.astimezone(self.zone).replace(tzinfo=None)
        # Any span holding `at` started within `duration` before it.
        begun = self.rule.before(local, inc=True)
        if begun is None:
            return None
        start = begun.replace(tzinfo=self.zone).astimezone(UTC)
        end = start + self.duration
        return end if start <= at < end else None

    def covers(self, site: SiteConfig) -> bool:
        return (
            "*" in self.refs
            or site.name.casefold() in self.refs
            or bool(site.group and f"group:{site.group.casefold()}" in self.refs)
        )


class MaintenancePlan:
    """The windows of one config, parsed once."""

    def __init__(self, windows: Sequence[MaintenanceConfig]) -> None:
        self._windows = [_window(w) for w in windows]

    @classmethod
    def of(cls, config: Config) -> MaintenancePlan:
        return cls(config.maintenance)

    def __bool__(self) -> bool:
        return bool(self._windows)

    def until(self, sites: Iterable[SiteConfig], at: datetime) -> dict[str, datetime]:
        """The sites in maintenance at `at`, each with the end of its (joined) window."""
        open_now = [(w, end) for w in self._windows if (end := w.ends_after(at)) is not None]
        if not open_now:
            return {}
        out: dict[str, datetime] = {}
        for site in sites:
            ends = [end for w, end in open_now if w.covers(site)]
            if ends:
                out[site.name] = self._joined(site, max(ends))
        return out

    def _joined(self, site: SiteConfig, end: datetime) -> datetime:
        # A window that starts as (or before) another ends continues the maintenance.
        for _ in range(len(self._windows)):
            later = [
                e for w in self._windows
                if w.covers(site) and (e := w.ends_after(end)) is not None and e > end
            ]
            if not later:
                break
            end = max(later)
        return end


def _window(config: MaintenanceConfig) -> _Window:
    refs = frozenset(_ref(r) for r in config.sites)
    zone: tzinfo = UTC if config.timezone.upper() == "UTC" else ZoneInfo(config.timezone)
    if config.rrule:
        rule = rrulestr(config.rrule, dtstart=ANCHOR, cache=True)
        assert isinstance(rule, rrule)  # one RRULE, not a set (validated by the config)
        return _Window(refs, None, None, rule, parse_duration(config.duration), zone)
    return _Window(refs, config.start, config.end, None, timedelta(0), zone)


def _ref(ref: str) -> str:
    if ref == "*":
        return "*"
    if ref.casefold().startswith("group:"):
        return "group:" + ref.split(":", 1)[1].strip().casefold()
    return ref.casefold()
