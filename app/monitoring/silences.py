"""Who is silenced now (a snooze or a maintenance window), from round to round.

Re-read each round from the Silencer (app/silence.py, which re-reads the snooze file only
when it changed). A site entering or leaving a maintenance window is an event, so the
history records the span and uptime leaves it out; a snooze that starts, ends or moves is
one too, so the Lifeline window can draw it. Sites whose silence ended are remembered
until the next reminders, so a site still broken then is reminded of at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from app.config import Config
from app.events import Event, MaintenanceChanged, SnoozeChanged
from app.silence import Silence, Silencer


class SiteSilences:
    def __init__(self, silencer: Silencer) -> None:
        self._silencer = silencer
        self._now: dict[str, Silence] = {}
        self._ended: set[str] = set()  # silence ended since the last reminders

    def update_config(self, config: Config) -> None:
        self._silencer.update_config(config)

    def get(self, name: str) -> Silence | None:
        return self._now.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._now

    def take_ended(self) -> set[str]:
        """The sites whose silence ended since the last call."""
        ended, self._ended = self._ended, set()
        return ended

    def refresh(self, wall: datetime, names: Iterable[str]) -> list[Event]:
        """Who is silenced at `wall`; the maintenance and snooze changes of `names`."""
        silences = self._silencer.at(wall)
        self._ended |= set(self._now) - set(silences)
        events: list[Event] = []
        for name in names:
            before, now = self._now.get(name), silences.get(name)
            was = before is not None and before.kind == "maintenance"
            is_in = now is not None and now.kind == "maintenance"
            if was != is_in:
                events.append(
                    MaintenanceChanged(
                        at=wall, site=name, active=is_in, until=now.until if now and is_in else None
                    )
                )
            snoozed = now is not None and now.kind == "snooze"
            if (before is not None and before.kind == "snooze") != snoozed or (
                snoozed and before is not None and now is not None and before.until != now.until
            ):  # a new snooze, its end, or a new end: the window draws the span
                events.append(
                    SnoozeChanged(
                        at=wall,
                        site=name,
                        active=snoozed,
                        until=now.until if now and snoozed else None,
                    )
                )
        self._now = silences
        return events
