"""The continuous monitor: checks on a schedule, confirms, tells subscribers what changed.

One Monitor runs on one asyncio loop (the tray hosts it in a worker thread, `lifeline
watch` in the main thread). It schedules rounds and applies them; the parts it applies
them through live in app.monitoring (see that package's docstring, which also says where
planned features plug in). Each round probes the sites that are due, and the status page
when it may be polled again, then turns raw results into confirmed states:

- a site leaves a good state only after `failures_to_alert` consecutive bad checks, and
  comes back after `successes_to_recover` good ones; after a first failure it is checked
  again after `retry_interval` rather than a full `interval`, so a real outage is
  confirmed fast while a single lost request never alarms anyone (SiteTracker);
- a site whose confirmed state keeps swinging is reported once as flapping (degraded);
- when every probe fails at the connection level, the round looks further (the other
  sites, the canaries, the status page when it may be read) before it believes anything:
  if nothing at all answers, the user's own network is down, no site is blamed, and
  everything is checked again the moment anything answers (RoundProbe, network);
- connection failures that nothing can cross-check yet (the status page was read less
  than 30 s ago) keep a site pending but cannot confirm an outage;
- a snoozed site, or one inside a `[[maintenance]]` window, is checked and recorded as
  any other, but its state changes go out marked `silenced` (no notification), it gets
  no reminders and does not set the overall state; the snooze file is re-read each round
  when it changed, so a snooze made elsewhere counts within one interval (app/silence.py);
- a machine that slept is noticed (wall clock against monotonic clock, or a round that
  ended much later than it could have): in-flight results are dropped, everything is
  re-checked, and the sleep is left out of the history's coverage, so it is never
  counted as downtime (SleepDetector, HistoryWriter).

Events go to subscribers synchronously on the loop thread, in a fixed order per round:
network, platform, then each site in config order (state change or pending, reminder),
overall, and finally CheckCompleted with the new snapshot. A round is applied in one
loop callback, so a subscriber that batches per loop iteration gets a round at once.
History writes run on a single background thread, so a slow disk never delays a round;
a round's state changes are written as one job, in one transaction (HistoryWriter).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from app.clock import Clock, SystemClock
from app.config import Config
from app.events import (
    CheckCompleted,
    Event,
    MonitorSnapshot,
    NetworkChanged,
    SiteStateChanged,
    SiteStatus,
)
from app.history import History
from app.models import CheckReport, OverallState, PlatformStatus, ProbeResult
from app.monitoring.fanout import EventFanout
from app.monitoring.history_writer import HistoryWriter
from app.monitoring.network import NETWORK_REASON, Verdict
from app.monitoring.overall import OverallOf, OverallTracker
from app.monitoring.platform_tracker import (
    PLATFORM_MIN_INTERVAL,
    RETRY_AFTER_CAP,
    FetchPlatform,
    PlatformTracker,
)
from app.monitoring.round_probe import ProbeCanary, ProbeSite, Round, RoundProbe, RoundSources
from app.monitoring.silences import SiteSilences
from app.monitoring.site_tracker import SiteTracker, tracks_for
from app.monitoring.sleep import SLEEP_GAP, SleepDetector, slept_between
from app.monitoring.wakeup import Wakeup
from app.probes import ProbeClients, ProbeOptions
from app.silence import Silencer

__all__ = [
    "NETWORK_REASON",
    "PLATFORM_MIN_INTERVAL",
    "RETRY_AFTER_CAP",
    "SLEEP_GAP",
    "Assess",
    "Monitor",
    "OverallOf",
    "Verdict",
]

log = logging.getLogger(__name__)


class Assess(Protocol):
    def __call__(
        self,
        config: Config,
        probes: Mapping[str, tuple[ProbeResult, ProbeResult]],
        platform: PlatformStatus,
        *,
        canaries_ok: bool | None,
        checked_at: datetime,
        watched_live: int | None = None,
        cache_share: Mapping[str, float | None] | None = None,
    ) -> CheckReport: ...


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
        silencer: Silencer | None = None,
    ) -> None:
        # The real check engine by default; tests pass their own functions.
        from app import impact, probes, statuspage

        self._probe_site: ProbeSite = probe_site or probes.probe_site
        self._probe_canary: ProbeCanary = probe_canary or probes.probe_canary
        self._assess: Assess = assess or impact.assess
        self._clock: Clock = clock or SystemClock()
        self._fixed_options = options
        self._config = config
        self._options = self._make_options(config)
        self._history = HistoryWriter(history, self._error)
        self._events = EventFanout(self._clock, self._history.record)
        # The real page is judged with the `[provider] components` of the config in force.
        self._platform = PlatformTracker(
            self._clock,
            fetch_platform
            or (
                lambda page, options: statuspage.fetch_platform(
                    page, options, components=self._config.provider.components
                )
            ),
            self._error,
        )
        self._overall = OverallTracker(overall_state or impact.overall_state)
        # Maintenance windows from the config; snoozes too when given their store.
        self._silences = SiteSilences(silencer or Silencer(config))
        self._sleep = SleepDetector()
        self._tracks: dict[str, SiteTracker] = {}
        self._network_ok = True
        self._canaries_ok: bool | None = None
        self._last_check: datetime | None = None
        self._last_duration = 0.0
        self._checking = False
        self._stopping = False
        self._force_all = False
        self._force: set[str] = set()
        self._wake = Wakeup(self._clock)
        self._round_task: asyncio.Future[float] | None = None
        self._sync_tracks(config)

    # ------------------------------------------------------------------ public interface

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        return self._events.subscribe(callback)

    async def run(self) -> None:
        """Check until stop(); the first round starts at once. History is flushed on exit."""
        self._wake.start()
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
                    self._sleep.clear()  # no schedule to compare the next start with
                finally:
                    self._round_task = None
                    self._checking = False
                if self._stopping:
                    break
                await self._wake.wait(delay)
        finally:
            if self._network_ok:
                self._history.last_heartbeat(self._clock.monotonic(), self._clock.now())
            await self.flush()

    def stop(self) -> None:
        self._stopping = True
        if self._round_task is not None:
            self._round_task.cancel()
        self._wake.poke()

    def update_config(self, config: Config) -> None:
        old = self._config
        self._config = config
        self._options = self._make_options(config)
        if config.provider.status_page != old.provider.status_page:
            self._platform.reset()
        self._sync_tracks(config)
        self._silences.update_config(config)
        self._refresh_silences(self._clock.now())
        if config.monitor.interval < old.monitor.interval:
            soon = self._clock.monotonic() + config.monitor.interval
            for track in self._tracks.values():
                track.next_due = min(track.next_due, soon)
        if not self._tracks:
            self._network_ok = True  # nothing left to judge the network by
        self._wake.poke()
        now = self._clock.now()
        self._update_overall(now)
        self._emit(CheckCompleted(at=now, snapshot=self.snapshot()))

    def check_now(self, site: str | None = None) -> None:
        if site is None:
            self._force_all = True
        elif site in self._tracks:
            self._force.add(site)
        self._wake.poke()

    def snapshot(self) -> MonitorSnapshot:
        overall = self._overall.state or OverallState.UNKNOWN
        report = None
        if self._last_check is not None:
            report = CheckReport(
                checked_at=self._last_check,
                overall=overall,
                point_of_failure=self._overall.point_of_failure,
                platform=self._platform.shown,
                sites=tuple(t.result for t in self._tracks.values() if t.result is not None),
                canaries_ok=self._canaries_ok,
                duration=self._last_duration,
            )
        return MonitorSnapshot(
            overall=overall,
            point_of_failure=self._overall.point_of_failure,
            platform=self._platform.status,
            sites=tuple(self._status(t) for t in self._tracks.values()),
            network_ok=self._network_ok,
            last_check=self._last_check,
            checking=self._checking,
            report=report,
        )

    async def flush(self) -> None:
        """Wait until every queued history write is on disk."""
        await self._history.flush()

    # ------------------------------------------------------------------ one round

    async def tick(self) -> float:
        """Run one round if anything is due; return the seconds until the next is due."""
        clock = self._clock
        mono, wall = clock.monotonic(), clock.now()
        if self._sleep.slept_since_mark(mono, wall):
            self._after_sleep("between checks")
        cfg = self._config.monitor
        due = [
            t
            for t in self._tracks.values()
            if self._force_all or t.name in self._force or t.next_due <= mono
        ]
        # Routine status page reads ride along with the next round of site checks.
        platform_due = mono >= self._platform.due_at(cfg.interval) and (
            bool(due) or not self._tracks
        )
        if not due and not platform_due:
            return self._finish()
        self._force_all = False
        self._force.difference_update(t.name for t in due)
        self._checking = True
        self._history.maybe_prune(mono, cfg.history_days)
        try:
            budget = 3 * cfg.timeout * (cfg.retries + 1) + 5.0
            try:
                rnd = await asyncio.wait_for(self._probe_round(due, platform_due), budget)
            except TimeoutError:
                self._error(f"a check took longer than {budget:.0f} s and was abandoned")
                for track in due:
                    track.next_due = mono + cfg.retry_interval
                return self._finish()
            end_mono, end_wall = clock.monotonic(), clock.now()
            if slept_between(mono, wall, end_mono, end_wall):
                self._after_sleep("during a check")
                return self._finish(delay=0.0)
            self._last_duration = round(end_mono - mono, 3)
            self._checking = False  # the snapshot sent with CheckCompleted says "done"
            self._apply(rnd, mono, wall)
        finally:
            self._checking = False
        return self._finish()

    async def _probe_round(self, due: list[SiteTracker], platform_due: bool) -> Round:
        # One round's HTTP clients, shared by its probes (keep-alive off: every probe
        # still opens a fresh connection); building a client per probe cost ~15 % CPU.
        async with ProbeClients(self._options) as clients:
            probe = RoundProbe(
                probe_site=self._probe_site,
                probe_canary=self._probe_canary,
                platform=self._platform,
                sources=RoundSources(
                    self._config.provider.status_page, self._config.monitor.canaries
                ),
                options=self._options,
                clients=clients,
                on_error=self._error,
            )
            return await probe.run(
                due,
                platform_due,
                others=lambda: [t for t in self._tracks.values() if t not in due],
                mono=self._clock.monotonic,
            )

    # ------------------------------------------------------------------ applying a round

    def _apply(self, rnd: Round, mono: float, wall: datetime) -> None:
        self._last_check = wall
        self._refresh_silences(wall)
        if rnd.fetch is not None:
            self._platform.hold(rnd.fetch, mono)
        # Results of sites removed or edited while the round ran are not theirs any more.
        tracks = [t for t in rnd.tracks if self._tracks.get(t.name) is t and t.name in rnd.probes]
        if rnd.canaries_ok is not None:
            self._canaries_ok = rnd.canaries_ok
        for track in tracks:
            track.last_checked = wall
        if rnd.verdict is Verdict.DOWN:
            self._network_lost(mono, wall)
            self._first_platform_read(rnd, wall)
        elif not self._network_ok and rnd.verdict is Verdict.UP:
            self._network_back(rnd, wall)
        elif not self._network_ok:  # still nothing answers
            for track in tracks:
                track.next_due = mono + self._config.monitor.retry_interval
            self._first_platform_read(rnd, wall)
        else:
            self._apply_results(rnd, tracks, mono, wall)
        self._emit(CheckCompleted(at=wall, snapshot=self.snapshot()))

    def _first_platform_read(self, rnd: Round, wall: datetime) -> None:
        """Shown even with the network down when nothing was read before: "not read yet"
        stayed up for a minute or more after a start without a network (a status page
        read is a minute apart), while the sites already said it was unreachable.
        Later reads wait for the network, so a lost link never turns it unknown."""
        if rnd.fetch is not None and self._platform.status is None:
            self._observe_platform(rnd.fetch.status, wall)

    def _network_lost(self, mono: float, wall: datetime) -> None:
        for track in self._tracks.values():
            track.forget_pending()
            track.next_due = mono + self._config.monitor.retry_interval
        if self._network_ok:
            self._network_ok = False
            self._history.break_coverage()
            self._emit(NetworkChanged(at=wall, available=False, reason=NETWORK_REASON))
        self._update_overall(wall)

    def _network_back(self, rnd: Round, wall: datetime) -> None:
        self._network_ok = True
        self._history.break_coverage()
        self._emit(NetworkChanged(at=wall, available=True, reason="the network is back"))
        if rnd.fetch is not None:
            self._observe_platform(rnd.fetch.status, wall)
        # Results from the moment the link came back are half-baked: look again, now.
        self._force_all = True
        self._update_overall(wall)

    def _apply_results(
        self, rnd: Round, tracks: list[SiteTracker], mono: float, wall: datetime
    ) -> None:
        cfg = self._config.monitor
        if rnd.fetch is not None:
            self._observe_platform(rnd.fetch.status, wall)
        trusted = rnd.verdict is not Verdict.UNSURE
        if tracks:
            report = self._assess_round(rnd, tracks, wall)
            self._observe_sites(report, tracks, trusted=trusted, mono=mono, wall=wall)
        if not trusted:
            # Check everything again once the status page may be read to settle it.
            settle = max(cfg.retry_interval, self._platform.allowed_at() - mono)
            for track in self._tracks.values():
                track.next_due = min(track.next_due, mono + settle)
        self._remind(mono, wall)
        self._update_overall(wall)
        if trusted:
            self._history.heartbeat(mono, wall)
            self._history.timings(wall, {t.name: rnd.probes[t.name] for t in tracks})
            self._history.cache_verdicts(wall, {t.name: rnd.probes[t.name] for t in tracks})
        self._history.refresh_uptime(mono, self._clock.now())

    def _assess_round(self, rnd: Round, tracks: list[SiteTracker], wall: datetime) -> CheckReport:
        """The round's results as impact states. Several sites failing alike is judged
        inside `assess` (app.correlation) against every Live site watched, not only the
        round's due ones."""
        sub = replace(self._config, sites=tuple(t.site for t in tracks))
        probes = {t.name: rnd.probes[t.name] for t in tracks}
        return self._assess(
            sub,
            probes,
            self._platform.shown,
            canaries_ok=rnd.canaries_ok,
            checked_at=wall,
            watched_live=sum(s.is_live for s in self._config.sites),
            cache_share={t.name: self._history.cache_share(t.name) for t in tracks},
        )

    def _observe_sites(
        self,
        report: CheckReport,
        tracks: list[SiteTracker],
        *,
        trusted: bool,
        mono: float,
        wall: datetime,
    ) -> None:
        """Seam: the one place a site's state changes and pending hints are emitted."""
        cfg = self._config.monitor
        for track in tracks:
            result = report.site(track.name)
            if result is None:
                continue
            events = track.observe(
                result, trusted=trusted, mono=mono, wall=wall, platform=self._platform.status
            )
            track.next_due = mono + (cfg.retry_interval if track.pending else cfg.interval)
            silence = self._silences.get(track.name)
            for event in events:
                if silence is not None and isinstance(event, SiteStateChanged):
                    event = replace(event, silenced=silence.kind)
                self._emit(event)

    def _observe_platform(self, status: PlatformStatus, wall: datetime) -> None:
        event = self._platform.observe(status, wall, self._config.monitor.failures_to_alert)
        if event is not None:
            self._emit(event)

    def _remind(self, mono: float, wall: datetime) -> None:
        """Seam: the one place reminders are emitted (a silenced site's are held here)."""
        every = self._config.monitor.remind_every
        woken = self._silences.take_ended()
        for track in self._tracks.values():
            if track.name in self._silences:
                continue  # a snoozed site, or one in maintenance, is not chased
            # Still broken when its silence ends: say so once, at once.
            reminder = track.reminder(mono, wall, every, now=track.name in woken)
            if reminder is not None:
                self._emit(reminder)

    def _update_overall(self, wall: datetime) -> None:
        if self._last_check is None:
            return  # nothing is known before the first round
        # Silenced sites do not set the icon's colour: the overall state is the others'.
        heard = [t for t in self._tracks.values() if t.name not in self._silences]
        event = self._overall.update(
            wall,
            network_ok=self._network_ok,
            statuses=[self._status(t) for t in heard],
            platform=self._platform.shown,
            all_confirmed=all(t.shown is not None for t in heard),
        )
        if event is not None:
            self._emit(event)

    def _status(self, track: SiteTracker) -> SiteStatus:
        status = track.status(
            network_ok=self._network_ok, uptime=self._history.uptime(track.name)
        )
        silence = self._silences.get(track.name)
        if silence is None and not track.site.group:
            return status
        return replace(
            status,
            group=track.site.group,
            silenced=silence.kind if silence else None,
            silenced_until=silence.until if silence else None,
        )

    def _refresh_silences(self, wall: datetime) -> None:
        """Seam: who is silenced now (snoozes re-read when their file changed); a site
        entering or leaving a maintenance window or a snooze is an event, for the history."""
        for event in self._silences.refresh(wall, self._tracks):
            self._emit(event)

    # ------------------------------------------------------------------ scheduling, sleep

    def _finish(self, *, delay: float | None = None) -> float:
        now = self._clock.monotonic()
        wait = self._next_delay(now) if delay is None else delay
        self._sleep.mark(now, self._clock.now(), wait)
        return wait

    def _next_delay(self, mono: float) -> float:
        if self._force_all or self._force:
            return 0.0
        candidates = [t.next_due for t in self._tracks.values()]
        if not candidates:
            candidates.append(self._platform.due_at(self._config.monitor.interval))
        return max(0.0, min(candidates) - mono)

    def _after_sleep(self, when: str) -> None:
        log.info("the machine slept (%s): dropping pending results, re-checking", when)
        self._history.break_coverage()
        self._force_all = True
        for track in self._tracks.values():
            track.forget_pending()

    # ------------------------------------------------------------------ configuration

    def _make_options(self, config: Config) -> ProbeOptions:
        if self._fixed_options is not None:
            return self._fixed_options
        from app.check import probe_options

        return probe_options(config)

    def _sync_tracks(self, config: Config) -> None:
        tracks = tracks_for(config, self._tracks)
        self._history.watch(tracks)
        self._tracks = tracks

    # ------------------------------------------------------------------ events

    def _emit(self, event: Event) -> None:
        self._events.emit(event)

    def _error(self, message: str) -> None:
        self._events.error(message)

