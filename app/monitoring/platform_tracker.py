"""The platform's status page as the monitor follows it.

It is read with the next round of site checks at most every PLATFORM_MIN_INTERVAL
seconds (or every `interval` when that is longer), earlier only to settle a doubt (every
site failing to connect) and never before a Retry-After the page asked for, capped at
RETRY_AFTER_CAP. A read that fails once after good ones is not news: like a site's
failure, it must repeat `failures_to_alert` times before the shown status turns unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from app.clock import Clock
from app.events import PlatformStateChanged
from app.models import PlatformState, PlatformStatus
from app.probes import ProbeOptions
from app.statuspage import StatusFetch

log = logging.getLogger(__name__)

PLATFORM_MIN_INTERVAL = 30.0  # never read the status page more often than this
RETRY_AFTER_CAP = 600.0  # a status page asking for more than this is re-read after this

FetchPlatform = Callable[[str, ProbeOptions], Awaitable[StatusFetch]]


def platform_unchecked() -> PlatformStatus:
    return PlatformStatus(state=PlatformState.UNKNOWN, error="not checked yet")


class PlatformTracker:
    def __init__(self, clock: Clock, fetch: FetchPlatform, on_error: Callable[[str], None]) -> None:
        self._clock = clock
        self._fetch = fetch
        self._on_error = on_error
        self.status: PlatformStatus | None = None  # confirmed (shown); None: never read
        self._read_at = float("-inf")  # monotonic start of the last read
        self._hold_until = float("-inf")  # no read before this (Retry-After)
        self._unknown_streak = 0

    @property
    def shown(self) -> PlatformStatus:
        return self.status or platform_unchecked()

    def reset(self) -> None:
        """Another status page: forget everything learnt about the old one."""
        self.status = None
        self._read_at = self._hold_until = float("-inf")
        self._unknown_streak = 0

    # ------------------------------------------------------------------ when to read

    def allowed_at(self) -> float:
        """The earliest the status page may be read again (to settle a doubt)."""
        return max(self._read_at + PLATFORM_MIN_INTERVAL, self._hold_until)

    def may_read(self, mono: float) -> bool:
        return mono >= self.allowed_at()

    def due_at(self, interval: float) -> float:
        """When the status page is read as a matter of routine."""
        every = max(PLATFORM_MIN_INTERVAL, interval)
        return max(self._read_at + every, self.allowed_at())

    def hold(self, fetch: StatusFetch, mono: float) -> None:
        if fetch.retry_after is not None:
            self._hold_until = mono + min(fetch.retry_after, RETRY_AFTER_CAP)

    # ------------------------------------------------------------------ reading

    async def read(self, status_page: str, options: ProbeOptions) -> StatusFetch:
        self._read_at = self._clock.monotonic()
        try:
            return await self._fetch(status_page, options)
        except Exception as exc:  # a bug in the reader must not end the round
            log.error("status page read failed", exc_info=exc)
            self._on_error(f"reading the status page failed: {type(exc).__name__}: {exc}")
            return StatusFetch(
                PlatformStatus(state=PlatformState.UNKNOWN, error=f"internal error: {exc}")
            )

    def observe(
        self, status: PlatformStatus, wall: datetime, failures_to_alert: int
    ) -> PlatformStateChanged | None:
        """Take a read's status; returns the event when the shown state changed."""
        previous = self.status
        if (
            status.state is PlatformState.UNKNOWN
            and previous is not None
            and previous.state is not PlatformState.UNKNOWN
        ):
            self._unknown_streak += 1
            if self._unknown_streak < failures_to_alert:
                return None
        self._unknown_streak = 0
        self.status = status
        if previous is not None and previous.state is status.state:
            return None
        return PlatformStateChanged(
            at=wall,
            previous=previous.state if previous else None,
            state=status.state,
            platform=status,
        )
