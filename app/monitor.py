"""The continuous monitor: checks on a schedule, confirms, tells subscribers what changed.

One Monitor runs on one asyncio loop (the tray hosts it in a worker thread, `lifeline
watch` in the main thread). Each round probes the sites that are due, and the status
page when it may be polled again, then turns raw results into confirmed states:

- a site leaves a good state only after `failures_to_alert` consecutive bad checks, and
  comes back after `successes_to_recover` good ones; after a first failure it is checked
  again after `retry_interval` rather than a full `interval`, so a real outage is
  confirmed fast while a single lost request never alarms anyone;
- a site whose confirmed state keeps swinging is reported once as flapping (degraded);
- when every probe fails at the connection level, the round looks further (the other
  sites, the canaries, the status page when it may be read) before it believes anything:
  if nothing at all answers, the user's own network is down, no site is blamed, and
  everything is checked again the moment anything answers;
- connection failures that nothing can cross-check yet (the status page was read less
  than 30 s ago) keep a site pending but cannot confirm an outage;
- a machine that slept is noticed (wall clock against monotonic clock, or a round that
  ended much later than it could have): in-flight results are dropped, everything is
  re-checked, and the sleep is left out of the history's coverage, so it is never
  counted as downtime.

Events go to subscribers synchronously on the loop thread, in a fixed order per round:
network, platform, then each site in config order (state change or pending, reminder),
overall, and finally CheckCompleted with the new snapshot. A round is applied in one
loop callback, so a subscriber that batches per loop iteration gets a round at once.
History writes run on a single background thread, so a slow disk never delays a round;
a round's state changes are written as one job, in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol, TypeVar

from app.clock import Clock, SystemClock
from app.config import Config, SiteConfig
from app.confirm import Confirmation, FlapDetector
from app.events import (
    CheckCompleted,
    Event,
    MonitorError,
    MonitorSnapshot,
    NetworkChanged,
    OverallStateChanged,
    PlatformStateChanged,
    Reminder,
    SitePending,
    SiteStateChanged,
    SiteStatus,
)
from app.history import History, HistoryError
from app.models import (
    SITE_SEVERITY,
    CheckReport,
    OverallState,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    ProbeResult,
    SiteResult,
    SiteState,
)
from app.probes import ProbeClients, ProbeOptions
from app.statuspage import StatusFetch

log = logging.getLogger(__name__)

PLATFORM_MIN_INTERVAL = 30.0  # never read the status page more often than this
RETRY_AFTER_CAP = 600.0  # a status page asking for more than this is re-read after this
SLEEP_GAP = 15.0  # seconds of unexplained clock gap taken as a suspend/resume
UPTIME_REFRESH = 60.0  # seconds between uptime figures read from the history
HEARTBEAT_EVERY = 30.0  # seconds between coverage updates (coverage is this precise)
ALARM_STATES = frozenset({SiteState.DOWN, SiteState.EDITORS_BLOCKED})
NETWORK_REASON = (
    "Nothing can be reached (no site, not the status page, no canary): "
    "check your own internet connection."
)

T = TypeVar("T")

ProbeSite = Callable[
    [SiteConfig, ProbeOptions, "asyncio.Semaphore | None", "ProbeClients | None"],
    Awaitable[tuple[ProbeResult, ProbeResult]],
]
FetchPlatform = Callable[[str, ProbeOptions], Awaitable[StatusFetch]]
ProbeCanary = Callable[[str, ProbeOptions], Awaitable[bool]]


class Assess(Protocol):
    def __call__(
        self,
        config: Config,
        probes: Mapping[str, tuple[ProbeResult, ProbeResult]],
        platform: PlatformStatus,
        *,
        canaries_ok: bool | None,
        checked_at: datetime,
    ) -> CheckReport: ...


class OverallOf(Protocol):
    def __call__(
        self, site_states: Iterable[SiteState], platform: PlatformState
    ) -> OverallState: ...


class Verdict(Enum):
    """What a round says about the user's own network."""

    UP = "up"  # something answered
    DOWN = "down"  # every site, the status page and every canary failed to connect
    UNSURE = "unsure"  # every site failed to connect; nothing fresh to cross-check
    NONE = "none"  # no site probed: nothing to judge


@dataclass(frozen=True)
class _Shown:
    state: SiteState
    point_of_failure: PointOfFailure
    reason: str
    flapping: bool = False


@dataclass
class _Track:
    """One site as the monitor follows it from check to check."""

    site: SiteConfig
    confirmation: Confirmation
    flap: FlapDetector
    next_due: float = float("-inf")  # monotonic; -inf: at once
    result: SiteResult | None = None
    last_checked: datetime | None = None
    shown: _Shown | None = None
    since: datetime | None = None
    first_failure_at: datetime | None = None
    pending_told: SiteState | None = None  # the suspected state last announced
    last_alert: float | None = None  # monotonic time of the last alarm or reminder


@dataclass
class _Round:
    probes: dict[str, tuple[ProbeResult, ProbeResult]] = field(default_factory=dict)
    tracks: list[_Track] = field(default_factory=list)
    fetch: StatusFetch | None = None
    canaries_ok: bool | None = None
    verdict: Verdict = Verdict.NONE


class Monitor:
    def __init__(
        self,
        config: Config,
        *,
        history: History | None = None,
        options: ProbeOptions | None = None,
        clock: Clock | None = None,
        probe_site: ProbeSite | None = None,
        fetch_platform: FetchPlatform | None = None,
        probe_canary: ProbeCanary | None = None,
        assess: Assess | None = None,
        overall_state: OverallOf | None = None,
    ) -> None:
        # The real check engine by default; tests pass their own functions.
        from app import impact, probes, statuspage

        self._probe_site: ProbeSite = probe_site or probes.probe_site
        self._fetch_platform: FetchPlatform = fetch_platform or statuspage.fetch_platform
        self._probe_canary: ProbeCanary = probe_canary or probes.probe_canary
        self._assess: Assess = assess or impact.assess
        self._overall_of: OverallOf = overall_state or impact.overall_state
        self._clock: Clock = clock or SystemClock()
        self._history = history
        self._fixed_options = options
        self._config = config
        self._options = self._make_options(config)
        self._tracks: dict[str, _Track] = {}
        self._subscribers: list[Callable[[Event], None]] = []
        self._platform: PlatformStatus | None = None  # confirmed (shown) platform status
        self._platform_read_at = float("-inf")  # monotonic start of the last read
        self._platform_hold = float("-inf")  # no read before this (Retry-After)
        self._platform_unknown_streak = 0
        self._network_ok = True
        self._overall: OverallState | None = None
        self._overall_told: OverallState | None = None  # as last announced
        self._overall_pof = PointOfFailure.NONE
        self._overall_reason = ""
        self._canaries_ok: bool | None = None
        self._last_check: datetime | None = None
        self._last_duration = 0.0
        self._checking = False
        self._stopping = False
        self._force_all = False
        self._force: set[str] = set()
        self._wake: asyncio.Event | None = None
        self._round_task: asyncio.Future[float] | None = None
        self._mark: tuple[float, datetime, float] | None = None  # mono, wall, expected wait
        self._continuous = False  # may the next heartbeat extend the current coverage span
        self._heartbeat_at = float("-inf")
        self._uptime: dict[str, tuple[float | None, float | None]] = {}  # 24 h, 7 d
        self._uptime_at = float("-inf")
        self._io: ThreadPoolExecutor | None = None
        self._io_jobs: set[asyncio.Future[Any]] = set()
        self._to_record: list[Event] = []  # state changes of this loop iteration
        self._pruned_at = float("-inf")
        self._sync_tracks(config)

    # ------------------------------------------------------------------ public interface

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    async def run(self) -> None:
        """Check until stop(); the first round starts at once. History is flushed on exit."""
        self._wake = asyncio.Event()
        try:
            while not self._stopping:
                self._wake.clear()
                self._round_task = asyncio.ensure_future(self.tick())
                try:
                    delay = await self._round_task
                except asyncio.CancelledError:
                    if self._stopping:
                        break
                    raise
                except Exception as exc:  # a bug must not end monitoring
                    log.exception("monitor round failed")
                    self._error(f"check failed: {type(exc).__name__}: {exc}")
                    delay = self._config.monitor.retry_interval
                    self._mark = None  # no schedule to compare the next start with
                finally:
                    self._round_task = None
                    self._checking = False
                if self._stopping:
                    break
                await self._wait(delay)
        finally:
            if self._continuous and self._network_ok:
                self._heartbeat_at = float("-inf")  # cover up to the very end
                self._heartbeat(self._clock.monotonic(), self._clock.now())
            await self.flush()

    def stop(self) -> None:
        self._stopping = True
        if self._round_task is not None:
            self._round_task.cancel()
        if self._wake is not None:
            self._wake.set()

    def update_config(self, config: Config) -> None:
        old = self._config
        self._config = config
        self._options = self._make_options(config)
        if config.provider.status_page != old.provider.status_page:
            self._platform = None
            self._platform_read_at = self._platform_hold = float("-inf")
            self._platform_unknown_streak = 0
        self._sync_tracks(config)
        if config.monitor.interval < old.monitor.interval:
            soon = self._clock.monotonic() + config.monitor.interval
            for track in self._tracks.values():
                track.next_due = min(track.next_due, soon)
        if not self._tracks:
            self._network_ok = True  # nothing left to judge the network by
        self._poke()
        now = self._clock.now()
        self._update_overall(now)
        self._emit(CheckCompleted(at=now, snapshot=self.snapshot()))

    def check_now(self, site: str | None = None) -> None:
        if site is None:
            self._force_all = True
        elif site in self._tracks:
            self._force.add(site)
        self._poke()

    def snapshot(self) -> MonitorSnapshot:
        sites = tuple(self._status(t) for t in self._tracks.values())
        report = None
        if self._last_check is not None:
            report = CheckReport(
                checked_at=self._last_check,
                overall=self._overall or OverallState.UNKNOWN,
                point_of_failure=self._overall_pof,
                platform=self._platform or _platform_unchecked(),
                sites=tuple(t.result for t in self._tracks.values() if t.result is not None),
                canaries_ok=self._canaries_ok,
                duration=self._last_duration,
            )
        return MonitorSnapshot(
            overall=self._overall or OverallState.UNKNOWN,
            point_of_failure=self._overall_pof,
            platform=self._platform,
            sites=sites,
            network_ok=self._network_ok,
            last_check=self._last_check,
            checking=self._checking,
            report=report,
        )

    async def flush(self) -> None:
        """Wait until every queued history write is on disk."""
        self._write_records()
        while self._io_jobs:
            await asyncio.gather(*list(self._io_jobs), return_exceptions=True)
        if self._io is not None:
            self._io.shutdown(wait=True)
            self._io = None

    # ------------------------------------------------------------------ one round

    async def tick(self) -> float:
        """Run one round if anything is due; return the seconds until the next is due."""
        clock = self._clock
        mono, wall = clock.monotonic(), clock.now()
        if self._slept_since_mark(mono, wall):
            self._after_sleep("between checks")
        cfg = self._config.monitor
        due = [
            t
            for t in self._tracks.values()
            if self._force_all or t.site.name in self._force or t.next_due <= mono
        ]
        # Routine status page reads ride along with the next round of site checks.
        platform_due = mono >= self._platform_due_at() and (bool(due) or not self._tracks)
        if not due and not platform_due:
            return self._finish(mono, wall)
        self._force_all = False
        self._force.difference_update(t.site.name for t in due)
        self._checking = True
        self._maybe_prune(mono)
        try:
            budget = 3 * cfg.timeout * (cfg.retries + 1) + 5.0
            try:
                rnd = await asyncio.wait_for(self._probe_round(due, platform_due), budget)
            except TimeoutError:
                self._error(f"a check took longer than {budget:.0f} s and was abandoned")
                for track in due:
                    track.next_due = mono + cfg.retry_interval
                return self._finish(mono, wall)
            end_mono, end_wall = clock.monotonic(), clock.now()
            if _gap(mono, wall, end_mono, end_wall) > SLEEP_GAP:
                self._after_sleep("during a check")
                self._force_all = True
                return self._finish(mono, wall, delay=0.0)
            self._last_duration = round(end_mono - mono, 3)
            self._checking = False  # the snapshot sent with CheckCompleted says "done"
            self._apply(rnd, mono, wall)
        finally:
            self._checking = False
        return self._finish(mono, wall)

    async def _probe_round(self, due: list[_Track], platform_due: bool) -> _Round:
        # One round's HTTP clients, shared by its probes (keep-alive off: every probe
        # still opens a fresh connection); building a client per probe cost ~15 % CPU.
        async with ProbeClients(self._options) as clients:
            return await self._probe_round_with(due, platform_due, clients)

    async def _probe_round_with(
        self, due: list[_Track], platform_due: bool, clients: ProbeClients
    ) -> _Round:
        options = self._options
        limiter = asyncio.Semaphore(options.concurrency)
        rnd = _Round(tracks=list(due))
        if platform_due:
            rnd.probes, rnd.fetch = await asyncio.gather(
                self._probe_sites(due, options, limiter, clients), self._read_platform(options)
            )
        else:
            rnd.probes = await self._probe_sites(due, options, limiter, clients)
        if not rnd.probes:
            rnd.verdict = Verdict.NONE
            if rnd.fetch is not None and not rnd.fetch.status.connection_failed:
                rnd.verdict = Verdict.UP
            return rnd
        if not _all_unreachable(rnd.probes.values()):
            rnd.verdict = Verdict.UP
            return rnd
        # Every site failed to connect: the user's own network or all the sites? Look wider.
        others = [t for t in self._tracks.values() if t not in due]
        tasks: list[Awaitable[Any]] = [self._probe_sites(others, options, limiter, clients)]
        tasks.append(self._read_canaries(options))
        fresh = rnd.fetch is None and self._platform_allowed(self._clock.monotonic())
        if fresh:
            tasks.append(self._read_platform(options))
        more, rnd.canaries_ok, *fetched = await asyncio.gather(*tasks)
        rnd.probes.update(more)
        rnd.tracks.extend(t for t in others if t.site.name in more)
        if fetched:
            rnd.fetch = fetched[0]
        if not _all_unreachable(rnd.probes.values()) or rnd.canaries_ok:
            rnd.verdict = Verdict.UP
        elif rnd.fetch is None:
            rnd.verdict = Verdict.UNSURE
        elif rnd.fetch.status.connection_failed:
            rnd.verdict = Verdict.DOWN
        else:
            rnd.verdict = Verdict.UP
        return rnd

    async def _probe_sites(
        self,
        tracks: list[_Track],
        options: ProbeOptions,
        limiter: asyncio.Semaphore,
        clients: ProbeClients,
    ) -> dict[str, tuple[ProbeResult, ProbeResult]]:
        results = await asyncio.gather(
            *(self._probe_site(t.site, options, limiter, clients) for t in tracks),
            return_exceptions=True,
        )
        out: dict[str, tuple[ProbeResult, ProbeResult]] = {}
        for track, result in zip(tracks, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                log.error("probe of %s failed", track.site.name, exc_info=result)
                self._error(f"probing {track.site.name} failed: {type(result).__name__}: {result}")
                continue
            out[track.site.name] = result
        return out

    async def _read_platform(self, options: ProbeOptions) -> StatusFetch:
        self._platform_read_at = self._clock.monotonic()
        try:
            return await self._fetch_platform(self._config.provider.status_page, options)
        except Exception as exc:
            log.error("status page read failed", exc_info=exc)
            self._error(f"reading the status page failed: {type(exc).__name__}: {exc}")
            return StatusFetch(
                PlatformStatus(state=PlatformState.UNKNOWN, error=f"internal error: {exc}")
            )

    async def _read_canaries(self, options: ProbeOptions) -> bool | None:
        urls = self._config.monitor.canaries
        if not urls:
            return None
        results = await asyncio.gather(
            *(self._probe_canary(u, options) for u in urls), return_exceptions=True
        )
        return any(r is True for r in results)

    # ------------------------------------------------------------------ applying a round

    def _apply(self, rnd: _Round, mono: float, wall: datetime) -> None:
        cfg = self._config.monitor
        self._last_check = wall
        if rnd.fetch is not None:
            self._hold_platform(rnd.fetch, mono)
        # Results of sites removed or edited while the round ran are not theirs any more.
        tracks = [
            t
            for t in rnd.tracks
            if self._tracks.get(t.site.name) is t and t.site.name in rnd.probes
        ]
        probes = {t.site.name: rnd.probes[t.site.name] for t in tracks}
        if rnd.canaries_ok is not None:
            self._canaries_ok = rnd.canaries_ok
        for track in tracks:
            track.last_checked = wall

        if rnd.verdict is Verdict.DOWN:
            for track in self._tracks.values():
                track.confirmation.forget_pending()
                track.next_due = mono + cfg.retry_interval
            if self._network_ok:
                self._network_ok = False
                self._continuous = False
                self._emit(NetworkChanged(at=wall, available=False, reason=NETWORK_REASON))
            self._update_overall(wall)
            self._emit(CheckCompleted(at=wall, snapshot=self.snapshot()))
            return
        if not self._network_ok and rnd.verdict is Verdict.UP:
            self._network_ok = True
            self._continuous = False
            self._emit(NetworkChanged(at=wall, available=True, reason="the network is back"))
            if rnd.fetch is not None:
                self._observe_platform(rnd.fetch.status, wall)
            # Results from the moment the link came back are half-baked: look again, now.
            self._force_all = True
            self._update_overall(wall)
            self._emit(CheckCompleted(at=wall, snapshot=self.snapshot()))
            return
        if not self._network_ok:  # still nothing answers
            for track in tracks:
                track.next_due = mono + cfg.retry_interval
            self._emit(CheckCompleted(at=wall, snapshot=self.snapshot()))
            return

        if rnd.fetch is not None:
            self._observe_platform(rnd.fetch.status, wall)
        trusted = rnd.verdict is not Verdict.UNSURE
        if tracks:
            sub = replace(self._config, sites=tuple(t.site for t in tracks))
            report = self._assess(
                sub,
                probes,
                self._platform or _platform_unchecked(),
                canaries_ok=rnd.canaries_ok,
                checked_at=wall,
            )
            for track in tracks:
                result = report.site(track.site.name)
                if result is not None:
                    self._observe_site(track, result, trusted=trusted, mono=mono, wall=wall)
        if not trusted:
            # Check everything again once the status page may be read to settle it.
            settle = max(cfg.retry_interval, self._platform_allowed_at() - mono)
            for track in self._tracks.values():
                track.next_due = min(track.next_due, mono + settle)
        self._remind(mono, wall)
        self._update_overall(wall)
        if trusted:
            self._heartbeat(mono, wall)
        self._refresh_uptime(mono)
        self._emit(CheckCompleted(at=wall, snapshot=self.snapshot()))

    def _observe_site(
        self, track: _Track, result: SiteResult, *, trusted: bool, mono: float, wall: datetime
    ) -> None:
        cfg = self._config.monitor
        track.result = result
        conf = track.confirmation
        was_good = conf.confirmed is None or conf.confirmed.is_good
        step = conf.observe(result.state, may_confirm=trusted)
        if trusted and step.confirmed is not None:
            track.flap.observe(step.confirmed)
        if not result.state.is_good and was_good and track.first_failure_at is None:
            track.first_failure_at = wall
        if conf.confirmed is not None and conf.confirmed.is_good and not conf.pending:
            track.first_failure_at = None
        track.next_due = mono + (cfg.retry_interval if conf.pending else cfg.interval)

        shown = self._shown_for(track, result)
        previous = track.shown
        if shown is None:  # first look, not confirmed yet
            self._tell_pending(track, wall, step.suspected, result)
            return
        if previous is None or (previous.state, previous.flapping) != (
            shown.state,
            shown.flapping,
        ):
            track.shown = shown
            track.since = wall
            track.pending_told = None
            track.last_alert = mono if shown.state in ALARM_STATES else None
            self._emit(
                SiteStateChanged(
                    at=wall,
                    site=track.site.name,
                    previous=previous.state if previous else None,
                    state=shown.state,
                    point_of_failure=shown.point_of_failure,
                    reason=shown.reason,
                    flapping=shown.flapping,
                    result=result,
                    platform=self._platform,
                )
            )
            return
        track.shown = shown
        if not shown.flapping:
            self._tell_pending(track, wall, step.suspected, result)

    def _shown_for(self, track: _Track, result: SiteResult) -> _Shown | None:
        conf, flap = track.confirmation, track.flap
        if conf.confirmed is None:
            return None
        if flap.flapping:
            # The platform may be why it swings; otherwise it is the site.
            platform_side = result.point_of_failure is PointOfFailure.PLATFORM
            return _Shown(
                SiteState.DEGRADED,
                PointOfFailure.PLATFORM if platform_side else PointOfFailure.SITE,
                f"Flapping: its state changed in {flap.share:.0%} of the last checks; "
                f"now {result.state.value}.",
                flapping=True,
            )
        if result.state == conf.confirmed:
            return _Shown(conf.confirmed, result.point_of_failure, result.reason)
        if track.shown is not None and track.shown.state == conf.confirmed:
            return replace(track.shown, flapping=False)
        # Confirmed by earlier checks than this one (flapping just ended mid-swing).
        if conf.confirmed.is_good:
            return _Shown(conf.confirmed, PointOfFailure.NONE, "Served normally again.")
        return _Shown(conf.confirmed, PointOfFailure.SITE, f"Still {conf.confirmed.value}.")

    def _tell_pending(
        self, track: _Track, wall: datetime, suspected: SiteState | None, result: SiteResult
    ) -> None:
        if suspected == track.pending_told:
            return
        track.pending_told = suspected
        reason = result.reason if suspected is not None else "The problem cleared on a re-check."
        self._emit(SitePending(at=wall, site=track.site.name, suspected=suspected, reason=reason))

    def _observe_platform(self, status: PlatformStatus, wall: datetime) -> None:
        previous = self._platform
        if (
            status.state is PlatformState.UNKNOWN
            and previous is not None
            and previous.state is not PlatformState.UNKNOWN
        ):
            # A status page that fails once is not news: confirm like a site.
            self._platform_unknown_streak += 1
            if self._platform_unknown_streak < self._config.monitor.failures_to_alert:
                return
        self._platform_unknown_streak = 0
        self._platform = status
        if previous is None or previous.state is not status.state:
            self._emit(
                PlatformStateChanged(
                    at=wall,
                    previous=previous.state if previous else None,
                    state=status.state,
                    platform=status,
                )
            )

    def _hold_platform(self, fetch: StatusFetch, mono: float) -> None:
        if fetch.retry_after is not None:
            self._platform_hold = mono + min(fetch.retry_after, RETRY_AFTER_CAP)

    def _remind(self, mono: float, wall: datetime) -> None:
        every = self._config.monitor.remind_every
        if every <= 0:
            return
        for track in self._tracks.values():
            shown = track.shown
            if shown is None or shown.flapping or shown.state not in ALARM_STATES:
                continue
            if track.last_alert is not None and mono - track.last_alert >= every:
                track.last_alert = mono
                self._emit(
                    Reminder(
                        at=wall,
                        site=track.site.name,
                        state=shown.state,
                        since=track.since,
                        reason=shown.reason,
                        point_of_failure=shown.point_of_failure,
                    )
                )

    def _update_overall(self, wall: datetime) -> None:
        if self._last_check is None:
            return  # nothing is known before the first round
        if not self._network_ok:
            state, pof, reason = OverallState.UNKNOWN, PointOfFailure.NETWORK, NETWORK_REASON
        else:
            state, pof, reason = self._overall_now()
        self._overall, self._overall_pof, self._overall_reason = state, pof, reason
        if self._network_ok and any(t.shown is None for t in self._tracks.values()):
            # A site seen for the first time and not confirmed yet: its "unknown" is not
            # news; announce the overall state once every site has one.
            return
        previous = self._overall_told
        if state is not previous:
            self._overall_told = state
            self._emit(
                OverallStateChanged(
                    at=wall, previous=previous, state=state, point_of_failure=pof, reason=reason
                )
            )

    def _overall_now(self) -> tuple[OverallState, PointOfFailure, str]:
        platform = self._platform or _platform_unchecked()
        statuses = [self._status(t) for t in self._tracks.values()]
        state = self._overall_of((s.state for s in statuses), platform.state)
        bad = [s for s in statuses if not s.state.is_good]
        if state in (OverallState.OPERATIONAL, OverallState.MAINTENANCE):
            reason = "Every site is served normally." if statuses else ""
            if state is OverallState.MAINTENANCE:
                reason = f"The platform is in maintenance: {platform.description}".strip()
            return state, PointOfFailure.NONE, reason
        if not bad:  # only the platform is in trouble
            return state, PointOfFailure.PLATFORM, f"The platform reports {platform.state.value}."
        worst = max(bad, key=lambda s: SITE_SEVERITY[s.state])
        names = ", ".join(s.name for s in bad if s.state is worst.state)
        reason = f"{names}: {worst.reason}" if worst.reason else names
        return state, worst.point_of_failure, reason

    # ------------------------------------------------------------------ snapshot pieces

    def _status(self, track: _Track) -> SiteStatus:
        site, conf, shown = track.site, track.confirmation, track.shown
        pending = conf.pending and not (shown is not None and shown.flapping)
        if not self._network_ok:
            state, pof, reason, pending = (
                SiteState.UNKNOWN,
                PointOfFailure.NETWORK,
                NETWORK_REASON,
                False,
            )
        elif shown is None:
            state, pof = SiteState.UNKNOWN, PointOfFailure.NONE
            reason = track.result.reason if track.result else "Not checked yet."
        else:
            state, pof, reason = shown.state, shown.point_of_failure, shown.reason
        return SiteStatus(
            name=site.name,
            url=site.url,
            environment=site.environment,
            state=state,
            point_of_failure=pof,
            reason=reason,
            pending=pending,
            suspected=conf.candidate if pending else None,
            flapping=shown.flapping if shown else False,
            since=track.since,
            first_failure_at=track.first_failure_at,
            last_checked=track.last_checked,
            uptime_24h=self._uptime.get(site.name, (None, None))[0],
            uptime_7d=self._uptime.get(site.name, (None, None))[1],
            result=track.result,
        )

    # ------------------------------------------------------------------ scheduling, sleep

    def _finish(self, mono: float, wall: datetime, *, delay: float | None = None) -> float:
        now = self._clock.monotonic()
        wait = self._next_delay(now) if delay is None else delay
        self._mark = (now, self._clock.now(), wait)
        return wait

    def _next_delay(self, mono: float) -> float:
        if self._force_all or self._force:
            return 0.0
        candidates = [t.next_due for t in self._tracks.values()]
        if not candidates:
            candidates.append(self._platform_due_at())
        return max(0.0, min(candidates) - mono)

    def _platform_allowed_at(self) -> float:
        """The earliest the status page may be read again (to settle a doubt)."""
        return max(self._platform_read_at + PLATFORM_MIN_INTERVAL, self._platform_hold)

    def _platform_due_at(self) -> float:
        """When the status page is read as a matter of routine."""
        every = max(PLATFORM_MIN_INTERVAL, self._config.monitor.interval)
        return max(self._platform_read_at + every, self._platform_allowed_at())

    def _platform_allowed(self, mono: float) -> bool:
        return mono >= self._platform_allowed_at()

    def _slept_since_mark(self, mono: float, wall: datetime) -> bool:
        if self._mark is None:
            return False
        mark_mono, mark_wall, expected = self._mark
        late = (mono - mark_mono) - expected
        return _gap(mark_mono, mark_wall, mono, wall) > SLEEP_GAP or late > SLEEP_GAP

    def _after_sleep(self, when: str) -> None:
        log.info("the machine slept (%s): dropping pending results, re-checking", when)
        self._continuous = False
        self._force_all = True
        for track in self._tracks.values():
            track.confirmation.forget_pending()

    async def _wait(self, delay: float) -> None:
        assert self._wake is not None
        if delay <= 0 or self._wake.is_set():
            return
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------------ configuration

    def _make_options(self, config: Config) -> ProbeOptions:
        if self._fixed_options is not None:
            return self._fixed_options
        from app.check import probe_options

        return probe_options(config)

    def _sync_tracks(self, config: Config) -> None:
        cfg = config.monitor
        tracks: dict[str, _Track] = {}
        for site in config.sites:
            track = self._tracks.get(site.name)
            if track is None or _probe_target(track.site) != _probe_target(site):
                track = _Track(site=site, confirmation=Confirmation(), flap=FlapDetector())
            else:
                track.site = site
            track.confirmation.failures_to_alert = cfg.failures_to_alert
            track.confirmation.successes_to_recover = cfg.successes_to_recover
            track.flap.high = cfg.flap_threshold
            tracks[site.name] = track
        for name in set(self._uptime) - set(tracks):
            del self._uptime[name]
        self._tracks = tracks

    # ------------------------------------------------------------------ events, history

    def _emit(self, event: Event) -> None:
        if self._history is not None and isinstance(event, _RECORDED):
            self._queue_record(event)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception as exc:
                log.exception("an event subscriber failed")
                if isinstance(event, MonitorError):
                    continue  # do not answer a failing error handler with more errors
                self._error(f"a subscriber failed on {type(event).__name__}: {exc}")

    def _error(self, message: str) -> None:
        self._emit(MonitorError(at=self._clock.now(), message=message))

    def _queue_record(self, event: Event) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # update_config before the loop runs: no history write needed
            return
        self._to_record.append(event)
        if len(self._to_record) == 1:
            # After the current callback (the whole round): one job for all its changes.
            loop.call_soon(self._write_records)

    def _write_records(self) -> None:
        events, self._to_record = self._to_record, []
        if events and self._history is not None:
            self._submit(self._history.record_many, events)

    def _history_call(
        self, fn: Callable[..., T], *args: Any, done: Callable[[T], None] | None = None
    ) -> None:
        # The changes recorded so far go first: an uptime read then sees them.
        self._write_records()
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
        self._io_jobs.add(job)

        def finished(fut: asyncio.Future[T]) -> None:
            self._io_jobs.discard(fut)
            if fut.cancelled():
                return
            exc = fut.exception()
            if exc is not None:
                if self._history is not None:
                    self._history = None
                    if isinstance(exc, HistoryError):  # a bad file: the message says it all
                        log.info("history disabled: %s", exc)
                    else:
                        log.error("history write failed", exc_info=exc)
                    self._error(f"history disabled until restart: {exc}")
                return
            if done is not None:
                done(fut.result())

        job.add_done_callback(finished)

    def _heartbeat(self, mono: float, wall: datetime) -> None:
        if self._continuous and mono - self._heartbeat_at < HEARTBEAT_EVERY:
            return
        self._heartbeat_at = mono
        if self._history is not None:
            self._history_call(self._history.mark_observed, wall, self._continuous)
        self._continuous = True

    def _refresh_uptime(self, mono: float) -> None:
        history = self._history
        if history is None or mono - self._uptime_at < UPTIME_REFRESH:
            return
        self._uptime_at = mono
        names = list(self._tracks)
        now = self._clock.now()

        def compute() -> dict[str, tuple[float | None, float | None]]:
            return {
                n: (
                    history.uptime(n, timedelta(hours=24), now=now),
                    history.uptime(n, timedelta(days=7), now=now),
                )
                for n in names
            }

        def store(values: dict[str, tuple[float | None, float | None]]) -> None:
            self._uptime.update({k: v for k, v in values.items() if k in self._tracks})

        self._history_call(compute, done=store)

    def _maybe_prune(self, mono: float) -> None:
        if self._history is None or mono - self._pruned_at < 86400:
            return
        self._pruned_at = mono
        self._history_call(self._history.prune, self._config.monitor.history_days)


# ---------------------------------------------------------------------- helpers

# Overall changes are not stored: they follow from the site and platform ones.
_RECORDED = (SiteStateChanged, PlatformStateChanged, NetworkChanged)


def _gap(mono0: float, wall0: datetime, mono1: float, wall1: datetime) -> float:
    """Wall-clock time that passed without the monotonic clock: a suspend, on Linux."""
    return (wall1 - wall0).total_seconds() - (mono1 - mono0)


def _all_unreachable(pairs: Iterable[tuple[ProbeResult, ProbeResult]]) -> bool:
    return all(a.connection_failed and b.connection_failed for a, b in pairs)


def _probe_target(site: SiteConfig) -> tuple[str, str, str]:
    return (site.url, site.probe_backend_url, site.environment)


def _platform_unchecked() -> PlatformStatus:
    return PlatformStatus(state=PlatformState.UNKNOWN, error="not checked yet")
