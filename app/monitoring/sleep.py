"""Noticing that the machine slept, so a suspend is never taken for an outage.

Two signs: wall-clock time that passed without the monotonic clock (Linux stops the
monotonic clock during a suspend), or a round that starts far later than it was planned
(Windows and macOS keep both clocks running). Either one beyond SLEEP_GAP counts.
"""

from __future__ import annotations

from datetime import datetime

SLEEP_GAP = 15.0  # seconds of unexplained clock gap taken as a suspend/resume


def clock_gap(mono0: float, wall0: datetime, mono1: float, wall1: datetime) -> float:
    """Wall-clock time that passed without the monotonic clock: a suspend, on Linux."""
    return (wall1 - wall0).total_seconds() - (mono1 - mono0)


def slept_between(mono0: float, wall0: datetime, mono1: float, wall1: datetime) -> bool:
    return clock_gap(mono0, wall0, mono1, wall1) > SLEEP_GAP


class SleepDetector:
    """Remembers when the last round ended and how long the monitor meant to wait."""

    def __init__(self) -> None:
        self._mark: tuple[float, datetime, float] | None = None  # mono, wall, expected wait

    def mark(self, mono: float, wall: datetime, expected_wait: float) -> None:
        self._mark = (mono, wall, expected_wait)

    def clear(self) -> None:
        """No schedule to compare the next start with (after a failed round)."""
        self._mark = None

    def slept_since_mark(self, mono: float, wall: datetime) -> bool:
        if self._mark is None:
            return False
        mark_mono, mark_wall, expected = self._mark
        late = (mono - mark_mono) - expected
        return slept_between(mark_mono, mark_wall, mono, wall) or late > SLEEP_GAP
