"""Impact and point of failure: pure functions from probe results and platform status.

Site state, worst first: down (visitors get an error), editors_blocked (visitors are
served, from the CDN cache, while the origin fails), degraded (slow), operational.
Point of failure: network when nothing at all can be reached (the user's own connection;
every site is then "unknown", never "down", so a laptop on a train does not cry wolf),
else platform when the status page reports degraded/outage, else the site itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from app.config import Config, SiteConfig
from app.integrations.pantheon_errors import identify, is_idle_container
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

_SITE_TO_OVERALL = {
    SiteState.DOWN: OverallState.DOWN,
    SiteState.EDITORS_BLOCKED: OverallState.EDITORS_BLOCKED,
    SiteState.DEGRADED: OverallState.DEGRADED,
    SiteState.UNKNOWN: OverallState.UNKNOWN,
    SiteState.ASLEEP: OverallState.OPERATIONAL,
    SiteState.OPERATIONAL: OverallState.OPERATIONAL,
}


def site_state(anonymous: ProbeResult, backend: ProbeResult, *, slow: float) -> SiteState:
    if not anonymous.ok:
        return SiteState.DOWN
    if not backend.ok:
        return SiteState.EDITORS_BLOCKED
    if anonymous.seconds > slow or backend.seconds > slow:
        return SiteState.DEGRADED
    return SiteState.OPERATIONAL


def point_of_failure(state: SiteState, platform: PlatformStatus) -> PointOfFailure:
    if state.is_good:
        return PointOfFailure.NONE
    if state is SiteState.UNKNOWN:
        return PointOfFailure.NETWORK
    if platform.state.is_trouble:
        return PointOfFailure.PLATFORM
    return PointOfFailure.SITE


def _what(probe: ProbeResult) -> str:
    what = probe.detail or (probe.error.value if probe.error else "failed")
    page = identify(probe.status, probe.detail)
    if page is not None:  # a Pantheon error page names the failing layer: say which
        what = f"{what}: {page.meaning.rstrip('.')}"
    return what


def is_asleep(site: SiteConfig, anonymous: ProbeResult, backend: ProbeResult) -> bool:
    """A non-live Pantheon environment whose idle container answers 504 "Target Not
    Responding" until the request wakes it: not an outage, no alarm."""
    failed = [p for p in (anonymous, backend) if not p.ok]
    return bool(failed) and all(
        is_idle_container(p.status, p.detail, site.environment) for p in failed
    )


def _platform_clause(platform: PlatformStatus) -> str:
    if platform.incidents:
        lead = platform.incidents[0]
        return f"{platform.state.value}: {lead.name} ({lead.impact}, {lead.status})"
    return f"{platform.state.value}: {platform.description or 'see the status page'}"


def site_reason(
    state: SiteState,
    pof: PointOfFailure,
    anonymous: ProbeResult,
    backend: ProbeResult,
    *,
    slow: float,
    platform: PlatformStatus,
) -> str:
    """One sentence a person can act on."""
    if state is SiteState.ASLEEP:
        return (
            "Asleep: this non-live environment's idle container answers Pantheon's "
            '"504 Target Not Responding" and wakes on the next visit; no alarm.'
        )
    if state is SiteState.UNKNOWN:
        return (
            "Nothing can be reached (no site, not the status page, no canary): "
            "check your own internet connection."
        )
    if state is SiteState.OPERATIONAL:
        return "Visitors and editors are served normally."
    if state is SiteState.DEGRADED:
        which = anonymous if anonymous.seconds >= backend.seconds else backend
        label = "visitors" if which is anonymous else "the origin (editors)"
        first = f"Slow for {label}: {which.seconds:.1f} s (limit {slow:g} s)"
    elif state is SiteState.EDITORS_BLOCKED:
        cached = " from the CDN cache" if anonymous.cache.value == "hit" else ""
        first = (
            f"Visitors are served{cached}, but the origin fails ({_what(backend)}): "
            "editors and administrators are locked out"
        )
    else:
        first = f"Visitors get an error ({_what(anonymous)})"
    if pof is PointOfFailure.PLATFORM:
        return (
            f"{first}. The platform status page reports {_platform_clause(platform)}; "
            "file an emergency ticket and follow the incident."
        )
    if platform.state is PlatformState.UNKNOWN:
        tail = "the platform status is unknown, so it may be the site or the platform"
    else:
        tail = "the platform reports no problem, so look at the site (code, database, config)"
    action = "" if state is SiteState.DEGRADED else "; file an emergency ticket if it persists"
    return f"{first}; {tail}{action}."


def assess_site(
    site: SiteConfig,
    anonymous: ProbeResult,
    backend: ProbeResult,
    *,
    slow: float,
    platform: PlatformStatus,
) -> SiteResult:
    if is_asleep(site, anonymous, backend):
        state = SiteState.ASLEEP
    else:
        state = site_state(anonymous, backend, slow=slow)
    pof = point_of_failure(state, platform)
    return SiteResult(
        name=site.name,
        url=site.url,
        environment=site.environment,
        state=state,
        point_of_failure=pof,
        reason=site_reason(state, pof, anonymous, backend, slow=slow, platform=platform),
        anonymous=anonymous,
        backend=backend,
    )


def _unknown_site(site: SiteConfig, anonymous: ProbeResult, backend: ProbeResult) -> SiteResult:
    return SiteResult(
        name=site.name,
        url=site.url,
        environment=site.environment,
        state=SiteState.UNKNOWN,
        point_of_failure=PointOfFailure.NETWORK,
        reason=site_reason(
            SiteState.UNKNOWN,
            PointOfFailure.NETWORK,
            anonymous,
            backend,
            slow=0.0,
            platform=PlatformStatus(state=PlatformState.UNKNOWN),
        ),
        anonymous=anonymous,
        backend=backend,
    )


def network_down(
    probes: Mapping[str, tuple[ProbeResult, ProbeResult]],
    platform: PlatformStatus,
    canaries_ok: bool | None,
) -> bool:
    """True when the user's own connection is the likely problem.

    Every site probe, the status page and every canary (if any are configured) failed
    at the connection level. With no site probes at all there is nothing to judge.
    """
    if not probes:
        return False
    if canaries_ok:
        return False
    if not platform.connection_failed:
        return False
    return all(a.connection_failed and b.connection_failed for a, b in probes.values())


def overall_state(site_states: Iterable[SiteState], platform: PlatformState) -> OverallState:
    states = list(site_states)
    if states:
        worst_site = max(states, key=lambda s: SITE_SEVERITY[s])
        overall = _SITE_TO_OVERALL[worst_site]
    else:
        overall = {
            PlatformState.UNKNOWN: OverallState.UNKNOWN,
            PlatformState.DEGRADED: OverallState.DEGRADED,
            PlatformState.OUTAGE: OverallState.DEGRADED,
            PlatformState.MAINTENANCE: OverallState.MAINTENANCE,
        }.get(platform, OverallState.OPERATIONAL)
    if overall is OverallState.OPERATIONAL:
        if platform.is_trouble:
            return OverallState.DEGRADED
        if platform is PlatformState.MAINTENANCE:
            return OverallState.MAINTENANCE
    return overall


def overall_point_of_failure(
    overall: OverallState, sites: Iterable[SiteResult], platform: PlatformStatus
) -> PointOfFailure:
    results = list(sites)
    if any(s.point_of_failure is PointOfFailure.NETWORK for s in results):
        return PointOfFailure.NETWORK
    if overall in (OverallState.OPERATIONAL, OverallState.MAINTENANCE, OverallState.UNKNOWN):
        return PointOfFailure.NONE
    if platform.state.is_trouble:
        return PointOfFailure.PLATFORM
    return PointOfFailure.SITE


def assess(
    config: Config,
    probes: Mapping[str, tuple[ProbeResult, ProbeResult]],
    platform: PlatformStatus,
    *,
    canaries_ok: bool | None,
    checked_at: datetime,
) -> CheckReport:
    """The whole report for the sites in `probes` (config order), from their results."""
    offline = network_down(probes, platform, canaries_ok)
    sites: list[SiteResult] = []
    for site in config.sites:
        if site.name not in probes:
            continue
        anonymous, backend = probes[site.name]
        if offline:
            sites.append(_unknown_site(site, anonymous, backend))
        else:
            sites.append(
                assess_site(
                    site, anonymous, backend, slow=config.monitor.slow, platform=platform
                )
            )
    if offline:
        overall = OverallState.UNKNOWN
    else:
        overall = overall_state((s.state for s in sites), platform.state)
    return CheckReport(
        checked_at=checked_at,
        overall=overall,
        point_of_failure=overall_point_of_failure(overall, sites, platform),
        platform=platform,
        sites=tuple(sites),
        canaries_ok=canaries_ok,
    )
