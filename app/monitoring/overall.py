"""The one overall state (the tray icon's), its point of failure and reason, and when a
change of it is news.

It follows from the sites' shown states and the platform's; with the network down it is
unknown, with the network as the point of failure. Before every site has a confirmed
state it is computed but not announced: a site seen for the first time and still pending
has an "unknown" that is not news.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from app.events import OverallStateChanged, SiteStatus
from app.models import (
    SITE_SEVERITY,
    OverallState,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    SiteState,
)
from app.monitoring.network import NETWORK_REASON


class OverallOf(Protocol):
    def __call__(
        self, site_states: Iterable[SiteState], platform: PlatformState
    ) -> OverallState: ...


class OverallTracker:
    def __init__(self, overall_of: OverallOf) -> None:
        self._overall_of = overall_of
        self.state: OverallState | None = None  # None: nothing known before the first round
        self.point_of_failure = PointOfFailure.NONE
        self.reason = ""
        self._told: OverallState | None = None  # as last announced

    def update(
        self,
        wall: datetime,
        *,
        network_ok: bool,
        statuses: Sequence[SiteStatus],
        platform: PlatformStatus,
        all_confirmed: bool,
    ) -> OverallStateChanged | None:
        """Recompute; returns the event when the state changed and may be announced."""
        if not network_ok:
            state, pof, reason = OverallState.UNKNOWN, PointOfFailure.NETWORK, NETWORK_REASON
        else:
            state, pof, reason = self._now(statuses, platform)
        self.state, self.point_of_failure, self.reason = state, pof, reason
        if network_ok and not all_confirmed:
            return None
        previous = self._told
        if state is previous:
            return None
        self._told = state
        return OverallStateChanged(
            at=wall, previous=previous, state=state, point_of_failure=pof, reason=reason
        )

    def _now(
        self, statuses: Sequence[SiteStatus], platform: PlatformStatus
    ) -> tuple[OverallState, PointOfFailure, str]:
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
