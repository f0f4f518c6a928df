"""Which sites are silenced right now, and why: a maintenance window or a snooze.

A silenced site is still probed, confirmed and recorded; what changes is what reaches a
person: its state changes are marked `silenced` (no notification; `watch` still prints
them), it has no reminders, it does not colour the tray icon, and `lifeline check`'s
exit code ignores it. A maintenance window wins over a snooze (it is also what the
history records, and what uptime leaves out).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from app.config import Config
from app.maintenance import MaintenancePlan
from app.snooze import SnoozeError, SnoozeStore

log = logging.getLogger(__name__)

SilenceKind = Literal["snooze", "maintenance"]


@dataclass(frozen=True)
class Silence:
    kind: SilenceKind
    until: datetime


class Silencer:
    def __init__(self, config: Config, snoozes: SnoozeStore | None = None) -> None:
        self._config = config
        self._plan = MaintenancePlan.of(config)
        self._snoozes = snoozes
        self._snooze_problem: str | None = None

    def update_config(self, config: Config) -> None:
        self._config = config
        self._plan = MaintenancePlan.of(config)

    def at(self, now: datetime) -> dict[str, Silence]:
        """Every silenced site at `now` (by name). Reads the snooze file only if it changed;
        an unreadable one is logged once and counts as no (new) snoozes."""
        sites = self._config.sites
        out: dict[str, Silence] = {}
        if self._snoozes is not None:
            try:
                snoozed = self._snoozes.current(now)
                self._snooze_problem = None
            except SnoozeError as exc:
                if str(exc) != self._snooze_problem:
                    log.warning("%s", exc)
                    self._snooze_problem = str(exc)
                snoozed = {}
            names = {s.name for s in sites}
            out.update(
                {name: Silence("snooze", end) for name, end in snoozed.items() if name in names}
            )
        if self._plan:
            for name, end in self._plan.until(sites, now).items():
                out[name] = Silence("maintenance", end)
        return out
