"""Time as the monitor sees it: a wall clock (for records) and a monotonic one (for timing).

Both are needed: intervals are measured on the monotonic clock (immune to NTP steps and
time-zone changes), while a gap between the two is how a machine that slept is noticed.
A fake clock with the same shape drives the monitor's tests without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC wall-clock time."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def utc(value: datetime) -> datetime:
    """The same instant in UTC (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second: what people and JSON readers expect."""
    return utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")
