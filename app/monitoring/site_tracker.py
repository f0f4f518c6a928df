"""One site as the monitor follows it from check to check.

A raw check result goes through the site's `Confirmation` (no alarm on one lost request)
and `FlapDetector` (a site that keeps swinging is reported once, as degraded), and comes
out as what is shown: state, point of failure, reason. `observe` returns the events that
this produced (a state change, or a pending hint when a problem is suspected or cleared)
and `reminder` the periodic "still down"; the monitor emits them, so a policy that
silences a site (snooze, maintenance window) sits between the two without changing how
the site is confirmed or recorded.

The scheduling (`next_due`) is the monitor's: it is kept here only because it is per site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from app.config import Config, MonitorConfig, SiteConfig
from app.confirm import Confirmation, FlapDetector
from app.events import Event, Reminder, SitePending, SiteStateChanged, SiteStatus
from app.models import PlatformStatus, PointOfFailure, SiteResult, SiteState
from app.monitoring.network import NETWORK_REASON

ALARM_STATES = frozenset({SiteState.DOWN, SiteState.EDITORS_BLOCKED})

Uptime = tuple[float | None, float | None]  # 24 h, 7 d


@dataclass(frozen=True)
class Shown:
    state: SiteState
    point_of_failure: PointOfFailure
    reason: str
    flapping: bool = False


class SiteTracker:
    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        self.confirmation = Confirmation()
        self.flap = FlapDetector()
        self.next_due = float("-inf")  # monotonic; -inf: at once
        self.result: SiteResult | None = None
        self.last_checked: datetime | None = None
        self.shown: Shown | None = None
        self.since: datetime | None = None
        self.first_failure_at: datetime | None = None
        self._pending_told: SiteState | None = None  # the suspected state last announced
        self._last_alert: float | None = None  # monotonic time of the last alarm or reminder

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def pending(self) -> bool:
        return self.confirmation.pending

    def configure(self, cfg: MonitorConfig) -> None:
        self.confirmation.failures_to_alert = cfg.failures_to_alert
        self.confirmation.successes_to_recover = cfg.successes_to_recover
        self.flap.high = cfg.flap_threshold

    def forget_pending(self) -> None:
        self.confirmation.forget_pending()

    # ------------------------------------------------------------------ one check

    def observe(
        self,
        result: SiteResult,
        *,
        trusted: bool,
        mono: float,
        wall: datetime,
        platform: PlatformStatus | None,
    ) -> list[Event]:
        """Feed one check's result. `trusted=False` (the network is in doubt) may start
        or keep a pending problem but never confirms one."""
        self.result = result
        conf = self.confirmation
        was_good = conf.confirmed is None or conf.confirmed.is_good
        step = conf.observe(result.state, may_confirm=trusted)
        if trusted and step.confirmed is not None:
            self.flap.observe(step.confirmed)
        if not result.state.is_good and was_good and self.first_failure_at is None:
            self.first_failure_at = wall
        if conf.confirmed is not None and conf.confirmed.is_good and not conf.pending:
            self.first_failure_at = None

        shown = self._shown_for(result)
        previous = self.shown
        if shown is None:  # first look, not confirmed yet
            return self._pending_news(wall, step.suspected, result)
        if previous is None or (previous.state, previous.flapping) != (
            shown.state,
            shown.flapping,
        ):
            return [self._change(previous, shown, result, mono, wall, platform)]
        self.shown = shown
        if shown.flapping:
            return []  # no pending noise while flapping
        return self._pending_news(wall, step.suspected, result)

    def _change(
        self,
        previous: Shown | None,
        shown: Shown,
        result: SiteResult,
        mono: float,
        wall: datetime,
        platform: PlatformStatus | None,
    ) -> SiteStateChanged:
        self.shown = shown
        self.since = wall
        self._pending_told = None
        self._last_alert = mono if shown.state in ALARM_STATES else None
        return SiteStateChanged(
            at=wall,
            site=self.name,
            previous=previous.state if previous else None,
            state=shown.state,
            point_of_failure=shown.point_of_failure,
            reason=shown.reason,
            flapping=shown.flapping,
            result=result,
            platform=platform,
        )

    def _shown_for(self, result: SiteResult) -> Shown | None:
        conf, flap = self.confirmation, self.flap
        if conf.confirmed is None:
            return None
        if flap.flapping:
            # The platform may be why it swings; otherwise it is the site.
            platform_side = result.point_of_failure is PointOfFailure.PLATFORM
            return Shown(
                SiteState.DEGRADED,
                PointOfFailure.PLATFORM if platform_side else PointOfFailure.SITE,
                f"Flapping: its state changed in {flap.share:.0%} of the last checks; "
                f"now {result.state.value}.",
                flapping=True,
            )
        if result.state == conf.confirmed:
            return Shown(conf.confirmed, result.point_of_failure, result.reason)
        if self.shown is not None and self.shown.state == conf.confirmed:
            return replace(self.shown, flapping=False)
        # Confirmed by earlier checks than this one (flapping just ended mid-swing).
        if conf.confirmed.is_good:
            return Shown(conf.confirmed, PointOfFailure.NONE, "Served normally again.")
        return Shown(conf.confirmed, PointOfFailure.SITE, f"Still {conf.confirmed.value}.")

    def _pending_news(
        self, wall: datetime, suspected: SiteState | None, result: SiteResult
    ) -> list[Event]:
        if suspected == self._pending_told:
            return []
        self._pending_told = suspected
        reason = result.reason if suspected is not None else "The problem cleared on a re-check."
        return [SitePending(at=wall, site=self.name, suspected=suspected, reason=reason)]

    # ------------------------------------------------------------------ between checks

    def reminder(
        self, mono: float, wall: datetime, every: float, *, now: bool = False
    ) -> Reminder | None:
        """A "still down" every `every` seconds of a confirmed alarm (never while flapping);
        `now`: one at once, whenever the last was (a site whose silence just ended)."""
        shown = self.shown
        if shown is None or shown.flapping or shown.state not in ALARM_STATES:
            return None
        if not now and (every <= 0 or self._last_alert is None or mono - self._last_alert < every):
            return None
        self._last_alert = mono
        return Reminder(
            at=wall,
            site=self.name,
            state=shown.state,
            since=self.since,
            reason=shown.reason,
            point_of_failure=shown.point_of_failure,
        )

    def status(self, *, network_ok: bool, uptime: Uptime) -> SiteStatus:
        site, conf, shown = self.site, self.confirmation, self.shown
        pending = conf.pending and not (shown is not None and shown.flapping)
        if not network_ok:
            state, pof, reason = SiteState.UNKNOWN, PointOfFailure.NETWORK, NETWORK_REASON
            pending = False
        elif shown is None:
            state, pof = SiteState.UNKNOWN, PointOfFailure.NONE
            reason = self.result.reason if self.result else "Not checked yet."
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
            since=self.since,
            first_failure_at=self.first_failure_at,
            last_checked=self.last_checked,
            uptime_24h=uptime[0],
            uptime_7d=uptime[1],
            result=self.result,
        )


def tracks_for(config: Config, old: Mapping[str, SiteTracker]) -> dict[str, SiteTracker]:
    """One tracker per configured site, in config order. A site whose probe target (URL,
    backend URL, environment) is unchanged keeps its tracker, and with it what it knew."""
    tracks: dict[str, SiteTracker] = {}
    for site in config.sites:
        track = old.get(site.name)
        if track is None or _probe_target(track.site) != _probe_target(site):
            track = SiteTracker(site)
        else:
            track.site = site
        track.configure(config.monitor)
        tracks[site.name] = track
    return tracks


def _probe_target(site: SiteConfig) -> tuple[str, str, str]:
    return (site.url, site.probe_backend_url, site.environment)
