"""Planned maintenance: which windows are coming, how to say when, which notices are due.

The status page lists a maintenance as `scheduled` before it starts (PlatformStatus
.upcoming). Everything here takes the time as an argument and never reads a clock, so
the tray, `check --json` and the ticket each pass the time they already hold.

`PlannedNotices` decides the 24 h and the 1 h notice of each maintenance and remembers
which were shown in a small JSON file in the data folder, so a restart does not repeat
them. A notice is due only within its window (24 h notice: from 24 h to 1 h before the
start; 1 h notice: the last hour), so one held back by a pause is still shown when the
pause ends in time, and a stale one never is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.atomic import atomic_write_text
from app.models import Maintenance, PlatformStatus

log = logging.getLogger(__name__)

UPCOMING = timedelta(days=7)  # what `check --json` lists as platform.upcoming
NEAR_OUTAGE = timedelta(hours=1)  # a maintenance this close to an outage is in the ticket
# (name, how long before the start the notice becomes due), later notices last.
NOTICE_LEADS: tuple[tuple[str, timedelta], ...] = (
    ("24h", timedelta(hours=24)),
    ("1h", timedelta(hours=1)),
)
FORGET_AFTER = timedelta(days=2)  # a sent notice is kept this long past its start
STATE_VERSION = 1


def parse_time(text: str | None) -> datetime | None:
    """An aware UTC datetime from the page's ISO 8601 text (None: missing or garbled)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def starts(maintenance: Maintenance) -> datetime | None:
    return parse_time(maintenance.scheduled_for)


def ends(maintenance: Maintenance) -> datetime | None:
    return parse_time(maintenance.scheduled_until)


def upcoming(
    status: PlatformStatus | None, now: datetime, within: timedelta = UPCOMING
) -> list[Maintenance]:
    """The planned maintenances that start after `now` and within `within`, soonest first."""
    if status is None:
        return []
    found = []
    for maintenance in status.upcoming:
        start = starts(maintenance)
        if start is not None and now <= start <= now + within:
            found.append((start, maintenance))
    return [m for _, m in sorted(found, key=lambda pair: pair[0])]


def window_text(maintenance: Maintenance, now: datetime) -> str:
    """"Tue 22:00–23:00 (CET)": in the time zone of `now` (the user's), the zone named."""
    start = starts(maintenance)
    if start is None:
        return "time not given"
    zone = now.tzinfo or UTC
    local_start = start.astimezone(zone)
    name = local_start.strftime("%Z") or "local time"
    text = local_start.strftime("%a %H:%M")
    end = ends(maintenance)
    if end is not None and end > start:
        local_end = end.astimezone(zone)
        if local_end.date() == local_start.date():
            text += "\u2013" + local_end.strftime("%H:%M")
        else:
            text += " \u2013 " + local_end.strftime("%a %H:%M")
    return f"{text} ({name})"


def time_until(start: datetime, now: datetime) -> str:
    """"3 h", "45 min", "1 day": how far off, rounded the way people say it."""
    minutes = max(1, round((start - now).total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = round(minutes / 60)
    if hours < 36:
        return f"{hours} h"
    days = round(hours / 24)
    return "1 day" if days == 1 else f"{days} days"


def near(
    status: PlatformStatus | None, at: datetime, margin: timedelta = NEAR_OUTAGE
) -> list[Maintenance]:
    """The maintenances (in progress or planned) that start or end within `margin` of
    `at`, or are under way at `at`: what a ticket about an outage at `at` mentions."""
    if status is None:
        return []
    found = []
    for maintenance in (*status.maintenances, *status.upcoming):
        start = starts(maintenance)
        if start is None:
            continue
        end = ends(maintenance) or start
        if start - margin <= at <= end + margin:
            found.append(maintenance)
    return found


# --------------------------------------------------------------------------- notices


@dataclass(frozen=True)
class Notice:
    """One due notice: `lead` is "24h" or "1h"."""

    maintenance: Maintenance
    lead: str
    starts: datetime

    @property
    def key(self) -> str:
        # The start is part of the key: a maintenance moved to another time is news again.
        ident = self.maintenance.ident or self.maintenance.name
        return f"{ident}@{self.starts.isoformat()}/{self.lead}"


class PlannedNotices:
    """Which maintenance notices are due, and which were already shown (kept on disk).

    `save(path, text)` writes the state; the tray passes one that runs off the GUI
    thread. The file is read once, here: it is a few hundred bytes.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        save: Callable[[Path, str], None] = atomic_write_text,
    ) -> None:
        self._path = path
        self._save = save
        self._sent: dict[str, str] = _load(path) if path is not None else {}

    def due(self, maintenances: Iterable[Maintenance], now: datetime) -> list[Notice]:
        """The notices to show now: at most one per maintenance (the later lead wins)."""
        notices = []
        for maintenance in maintenances:
            start = starts(maintenance)
            if start is None or start <= now:
                continue
            lead = _lead(start - now)
            if lead is None:
                continue
            notice = Notice(maintenance, lead, start)
            if notice.key not in self._sent:
                notices.append(notice)
        return notices

    def mark_shown(self, notices: Sequence[Notice], now: datetime) -> None:
        if not notices:
            return
        for notice in notices:
            self._sent[notice.key] = notice.starts.isoformat()
        cutoff = now - FORGET_AFTER
        self._sent = {
            key: start
            for key, start in self._sent.items()
            if (when := parse_time(start)) is None or when >= cutoff
        }
        if self._path is not None:
            text = json.dumps({"version": STATE_VERSION, "sent": self._sent}, indent=1)
            self._save(self._path, text + "\n")

    def shown(self) -> set[str]:
        return set(self._sent)


def _lead(left: timedelta) -> str | None:
    """Which notice's window `left` (time to the start) falls in, if any."""
    chosen = None
    for name, before in NOTICE_LEADS:
        if left <= before:
            chosen = name
    return chosen


def _load(path: Path) -> dict[str, str]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        # Worst case a notice is shown a second time: say so, start afresh.
        log.warning("planned-maintenance notices: %s unreadable (%s); starting afresh", path, exc)
        return {}
    sent = raw.get("sent") if isinstance(raw, dict) else None
    if not isinstance(sent, dict):
        log.warning("planned-maintenance notices: %s has no 'sent' table; starting afresh", path)
        return {}
    return {str(k): str(v) for k, v in sent.items()}
