"""The monitor's side of the history file: every write on one background thread.

A slow disk never delays a round: writes run on a single-thread executor, in order.
The state changes of one loop iteration (a whole round is applied in one callback) are
queued and written as ONE job in one transaction, so a first round of 200 sites hands
the GIL to the history thread once, not 200 times. Besides the changes it keeps:

- coverage: a heartbeat at most every HEARTBEAT_EVERY seconds extends the span the
  monitor was watching; `break_coverage` (a sleep, the network lost or back) makes the
  next heartbeat start a new span, so the gap is neither uptime nor downtime;
- the uptime cache: 24 h and 7 d figures per site, re-read at most every UPTIME_REFRESH
  seconds, after the changes queued before them;
- pruning to `history_days`, once a day;
- response times: a round's probe seconds gathered per 5-minute bucket in memory
  (TimingAccumulator) and written when the bucket closes, after the queued changes; the
  open buckets on stop (`flush`).

A write that fails disables the history until restart with one MonitorError message
(through `on_error`); monitoring carries on.

Seam: per-round figures (a site's cache-hit share, response-time buckets) are a second
kind of row queued beside the events in `_write_queued`'s batch and written in the same
transaction by a History method made for them, into a table added by a migration step
in app.history.MIGRATIONS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from app.events import (
    Event,
    MaintenanceChanged,
    NetworkChanged,
    PlatformStateChanged,
    SiteStateChanged,
    SnoozeChanged,
)
from app.history import History, HistoryError
from app.models import ProbeResult
from app.monitoring.cache_share import CacheTally
from app.monitoring.site_tracker import Uptime
from app.monitoring.timings import TimingAccumulator

log = logging.getLogger(__name__)

UPTIME_REFRESH = 60.0  # seconds between uptime figures read from the history
HEARTBEAT_EVERY = 30.0  # seconds between coverage updates (coverage is this precise)
PRUNE_EVERY = 86400.0
# Overall changes are not stored: they follow from the site and platform ones.
RECORDED = (
    SiteStateChanged, PlatformStateChanged, NetworkChanged, MaintenanceChanged, SnoozeChanged
)

T = TypeVar("T")


class HistoryWriter:
    def __init__(self, history: History | None, on_error: Callable[[str], None]) -> None:
        self._history = history  # None: no history, or disabled after a failed write
        self._on_error = on_error
        self._io: ThreadPoolExecutor | None = None
        self._jobs: set[asyncio.Future[Any]] = set()
        self._queued: list[Event] = []  # state changes of this loop iteration
        self._continuous = False  # may the next heartbeat extend the current coverage span
        self._heartbeat_at = float("-inf")
        self._uptime: dict[str, Uptime] = {}
        self._uptime_at = float("-inf")
        self._watched: set[str] = set()
        self._pruned_at = float("-inf")
        self._timings = TimingAccumulator()
        self._cache = CacheTally()
        self._cache_share: dict[str, float | None] = {}  # last 24 h, refreshed with uptime

    @property
    def enabled(self) -> bool:
        return self._history is not None

    # ------------------------------------------------------------------ state changes

    def record(self, event: Event) -> None:
        """Queue a state change; other events are ignored."""
        if self._history is None or not isinstance(event, RECORDED):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # update_config before the loop runs: no history write needed
            return
        self._queued.append(event)
        if len(self._queued) == 1:
            # After the current callback (the whole round): one job for all its changes.
            loop.call_soon(self._write_queued)

    def _write_queued(self) -> None:
        events, self._queued = self._queued, []
        if events and self._history is not None:
            self._submit(self._history.record_many, events)

    def timings(
        self, wall: datetime, probes: Mapping[str, tuple[ProbeResult, ProbeResult]]
    ) -> None:
        """A round's response times; the buckets that closed before it are written."""
        if self._history is None:
            return
        closed = self._timings.closed(wall)
        self._timings.add_round(wall, probes)
        if closed:
            self._after_queued(self._history.add_timings, closed)

    def cache_verdicts(
        self, wall: datetime, probes: Mapping[str, tuple[ProbeResult, ProbeResult]]
    ) -> None:
        """A round's visitor cache verdicts; the buckets that closed before it are written."""
        if self._history is None:
            return
        closed = self._cache.closed(wall)
        self._cache.add_round(wall, probes)
        if closed:
            self._after_queued(self._history.add_cache_counts, closed)

    def cache_share(self, name: str) -> float | None:
        """The site's cache-hit share over the last 24 h (None until known)."""
        return self._cache_share.get(name)

    async def flush(self) -> None:
        """Wait until every queued write is on disk; the thread ends (a later write
        starts a new one)."""
        self._write_queued()
        if self._history is not None:
            pending = self._timings.drain()
            if pending:
                self._submit(self._history.add_timings, pending)
            counts = self._cache.drain()
            if counts:
                self._submit(self._history.add_cache_counts, counts)
        while self._jobs:
            await asyncio.gather(*list(self._jobs), return_exceptions=True)
        if self._io is not None:
            self._io.shutdown(wait=True)
            self._io = None

    # ------------------------------------------------------------------ coverage

    @property
    def continuous(self) -> bool:
        return self._continuous

    def break_coverage(self) -> None:
        self._continuous = False

    def heartbeat(self, mono: float, wall: datetime) -> None:
        if self._continuous and mono - self._heartbeat_at < HEARTBEAT_EVERY:
            return
        self._heartbeat_at = mono
        if self._history is not None:
            self._after_queued(self._history.mark_observed, wall, self._continuous)
        self._continuous = True

    def last_heartbeat(self, mono: float, wall: datetime) -> None:
        """On stop: cover up to the very end, if the current span is still open."""
        if self._continuous:
            self._heartbeat_at = float("-inf")
            self.heartbeat(mono, wall)

    # ------------------------------------------------------------------ uptime, pruning

    def watch(self, names: Iterable[str]) -> None:
        """The sites whose uptime figures are kept (a removed site's are dropped)."""
        self._watched = set(names)
        for name in set(self._uptime) - self._watched:
            del self._uptime[name]
        for name in set(self._cache_share) - self._watched:
            del self._cache_share[name]

    def uptime(self, name: str) -> Uptime:
        return self._uptime.get(name, (None, None))

    def refresh_uptime(self, mono: float, now: datetime) -> None:
        history = self._history
        if history is None or mono - self._uptime_at < UPTIME_REFRESH:
            return
        self._uptime_at = mono
        names = list(self._watched)

        def compute() -> dict[str, Uptime]:
            return {
                n: (
                    history.uptime(n, timedelta(hours=24), now=now),
                    history.uptime(n, timedelta(days=7), now=now),
                )
                for n in names
            }

        def store(values: dict[str, Uptime]) -> None:
            self._uptime.update({k: v for k, v in values.items() if k in self._watched})

        def shares() -> dict[str, float | None]:
            found = history.cache_hit_ratios(since=now - timedelta(hours=24))
            return {n: found.get(n) for n in names}

        def keep(values: dict[str, float | None]) -> None:
            self._cache_share.update({k: v for k, v in values.items() if k in self._watched})

        self._after_queued(compute, done=store)
        self._after_queued(shares, done=keep)

    def maybe_prune(self, mono: float, days: int) -> None:
        if self._history is None or mono - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = mono
        self._after_queued(self._history.prune, days)

    # ------------------------------------------------------------------ the thread

    def _after_queued(
        self, fn: Callable[..., T], *args: Any, done: Callable[[T], None] | None = None
    ) -> None:
        # The changes queued so far go first: an uptime read then sees them.
        self._write_queued()
        self._submit(fn, *args, done=done)

    def _submit(
        self, fn: Callable[..., T], *args: Any, done: Callable[[T], None] | None = None
    ) -> None:
        if self._history is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # update_config before the loop runs: no history write needed
            return
        if self._io is None:
            self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lifeline-history")
        job = loop.run_in_executor(self._io, fn, *args)
        self._jobs.add(job)

        def finished(fut: asyncio.Future[T]) -> None:
            self._jobs.discard(fut)
            if fut.cancelled():
                return
            exc = fut.exception()
            if exc is not None:
                self._disable(exc)
            elif done is not None:
                done(fut.result())

        job.add_done_callback(finished)

    def _disable(self, exc: BaseException) -> None:
        if self._history is None:
            return  # already disabled: one message is enough
        self._history = None
        if isinstance(exc, HistoryError):  # a bad file: the message says it all
            log.info("history disabled: %s", exc)
        else:
            log.error("history write failed", exc_info=exc)
        self._on_error(f"history disabled until restart: {exc}")
