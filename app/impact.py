"""Impact and point of failure: pure functions from probe results and platform status.

Site state, worst first: down (visitors get an error), editors_blocked (visitors are
served, from the CDN cache, while the origin fails), degraded (slow), operational.
Point of failure: network when nothing at all can be reached (the user's own connection;
every site is then "unknown", never "down", so a laptop on a train does not cry wolf),
else platform when there is evidence of it (PlatformEvidence: the status page reports
degraded/outage; the site shows one of Pantheon's platform-side error pages; several
watched sites fail alike in the same round, see app.correlation), else the site itself.
A certificate expiring within `cert_warn_days` makes a working site degraded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from app.config import Config, SiteConfig
from app.correlation import Alike, find_alike, network_answered
from app.integrations.pantheon_errors import PantheonErrorPage, identify, is_idle_container
from app.models import (
    SITE_SEVERITY,
    CheckReport,
    OverallState,
    PlatformEvidence,
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


LIKELY_PLATFORM = "A platform problem is likely: file the ticket and say so."


def site_state(
    anonymous: ProbeResult,
    backend: ProbeResult,
    *,
    slow: float,
    cert_warn_days: int | None = None,
) -> SiteState:
    if not anonymous.ok:
        return SiteState.DOWN
    if not backend.ok:
        return SiteState.EDITORS_BLOCKED
    if anonymous.seconds > slow or backend.seconds > slow:
        return SiteState.DEGRADED
    if cert_warn_days is not None and expiring_cert(anonymous, backend, cert_warn_days):
        return SiteState.DEGRADED
    return SiteState.OPERATIONAL


def expiring_cert(
    anonymous: ProbeResult, backend: ProbeResult, warn_days: int
) -> ProbeResult | None:
    """The probe whose certificate runs out soonest, when within `warn_days`."""
    dated = [p for p in (anonymous, backend) if p.cert_days_left is not None]
    if not dated:
        return None
    soonest = min(dated, key=lambda p: p.cert_days_left or 0)
    return soonest if (soonest.cert_days_left or 0) <= warn_days else None


def with_cert_days(probe: ProbeResult, now: datetime) -> ProbeResult:
    """`cert_days_left`, counted from the check's clock (whole days, rounded down)."""
    if probe.cert_expires is None:
        return probe
    try:
        expires = datetime.fromisoformat(probe.cert_expires)
    except ValueError:
        return probe
    return replace(probe, cert_days_left=(expires - now).days)


def deciding_probe(state: SiteState, anonymous: ProbeResult, backend: ProbeResult) -> ProbeResult:
    """The probe whose failure set the state: the visitor's when down, else the origin's."""
    return anonymous if state is SiteState.DOWN else backend


def platform_side_page(
    state: SiteState, anonymous: ProbeResult, backend: ProbeResult
) -> PantheonErrorPage | None:
    if state not in (SiteState.DOWN, SiteState.EDITORS_BLOCKED):
        return None
    probe = deciding_probe(state, anonymous, backend)
    page = identify(probe.status, probe.detail)
    return page if page is not None and page.platform_side else None


def platform_evidence(
    state: SiteState, platform: PlatformStatus, anonymous: ProbeResult, backend: ProbeResult
) -> PlatformEvidence | None:
    """What makes this one site's point of failure the platform (correlation across sites
    is added afterwards, by app.correlation)."""
    if state.is_good or state is SiteState.UNKNOWN:
        return None
    if platform.state.is_trouble:
        return PlatformEvidence.STATUS_PAGE
    if platform_side_page(state, anonymous, backend) is not None:
        return PlatformEvidence.ERROR_PAGE
    return None


def point_of_failure(
    state: SiteState,
    platform: PlatformStatus,
    evidence: PlatformEvidence | None = None,
) -> PointOfFailure:
    if state.is_good:
        return PointOfFailure.NONE
    if state is SiteState.UNKNOWN:
        return PointOfFailure.NETWORK
    if platform.state.is_trouble or evidence is not None:
        return PointOfFailure.PLATFORM
    return PointOfFailure.SITE


def status_page_words(platform: PlatformStatus) -> str:
    """How the status page stands when other evidence points at the platform."""
    if platform.state is PlatformState.UNKNOWN:
        return "the status page cannot be read"
    if platform.state is PlatformState.MAINTENANCE:
        return "the status page shows only planned maintenance"
    return "the status page shows nothing yet"


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
    evidence: PlatformEvidence | None = None,
    cert_warn_days: int | None = None,
    alike: str = "",
    cache_share: float | None = None,
) -> str:
    """One sentence a person can act on. `alike`: the correlation's words ("4 of 6 sites
    fail alike (...) within 10 s"), when that is the evidence."""
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
        first = _degraded_clause(anonymous, backend, slow=slow, cert_warn_days=cert_warn_days)
        if max(anonymous.seconds, backend.seconds) <= slow and first.startswith("Certificate"):
            return f"{first}; renew it before then (Pantheon: the site's Domains / HTTPS page)."
    elif state is SiteState.EDITORS_BLOCKED:
        cached = " from the CDN cache" if anonymous.cache.value == "hit" else ""
        first = (
            f"Visitors are served{cached}, but the origin fails ({_what(backend)}): "
            f"editors and administrators are locked out{_protection(cache_share)}"
        )
    else:
        first = f"Visitors get an error ({_what(anonymous)})"
    if pof is PointOfFailure.PLATFORM and evidence is PlatformEvidence.ERROR_PAGE:
        page = platform_side_page(state, anonymous, backend)
        title = page.title if page else "platform-side error"
        return (
            f"{first}. Pantheon's \"{title}\" page comes from the platform's own layer "
            f"and {status_page_words(platform)}. {LIKELY_PLATFORM}"
        )
    if pof is PointOfFailure.PLATFORM and evidence is PlatformEvidence.CORRELATED:
        return f"{first}. {alike}; {status_page_words(platform)}. {LIKELY_PLATFORM}"
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


LOW_CACHE_SHARE = 0.5  # below this, an origin failure soon reaches the visitors too


def _protection(share: float | None) -> str:
    """How protected visitors were while the origin fails, from the last 24 h."""
    if share is None:
        return ""
    served = f"{share:.0%} of visitor checks in the last 24 h were served from cache"
    if share < LOW_CACHE_SHARE:
        return f"; only {served}, so visitors will soon get errors too"
    return f" ({served})"


def _degraded_clause(
    anonymous: ProbeResult, backend: ProbeResult, *, slow: float, cert_warn_days: int | None
) -> str:
    clauses = []
    if anonymous.seconds > slow or backend.seconds > slow:
        which = anonymous if anonymous.seconds >= backend.seconds else backend
        label = "visitors" if which is anonymous else "the origin (editors)"
        clauses.append(f"Slow for {label}: {which.seconds:.1f} s (limit {slow:g} s)")
    cert = expiring_cert(anonymous, backend, cert_warn_days) if cert_warn_days is not None else None
    if cert is not None:
        days = cert.cert_days_left or 0
        unit = "day" if days == 1 else "days"
        date = (cert.cert_expires or "")[:10]
        words = f"certificate for {cert.cert_host} expires in {days} {unit} ({date})"
        clauses.append(words[0].upper() + words[1:] if not clauses else f"the {words}")
    if not clauses:  # flapping, or a caller's own reason: say what the numbers say
        which = anonymous if anonymous.seconds >= backend.seconds else backend
        label = "visitors" if which is anonymous else "the origin (editors)"
        return f"Slow for {label}: {which.seconds:.1f} s (limit {slow:g} s)"
    return "; ".join(clauses)


def assess_site(
    site: SiteConfig,
    anonymous: ProbeResult,
    backend: ProbeResult,
    *,
    slow: float,
    platform: PlatformStatus,
    cert_warn_days: int | None = None,
    now: datetime | None = None,
    cache_share: float | None = None,
) -> SiteResult:
    """`now` (the check's time) counts the certificates' days left; `cert_warn_days`
    makes a working site degraded when one is that close to expiring; `cache_share`
    (the last 24 h's visitor cache-hit share, from the history) says how protected the
    visitors are when the origin fails."""
    if now is not None:
        anonymous, backend = with_cert_days(anonymous, now), with_cert_days(backend, now)
    if is_asleep(site, anonymous, backend):
        state = SiteState.ASLEEP
    else:
        state = site_state(anonymous, backend, slow=slow, cert_warn_days=cert_warn_days)
    evidence = platform_evidence(state, platform, anonymous, backend)
    pof = point_of_failure(state, platform, evidence)
    if state is SiteState.DEGRADED and max(anonymous.seconds, backend.seconds) <= slow:
        # Degraded only by its certificate: the site's own to renew, whatever the platform.
        evidence, pof = None, PointOfFailure.SITE
    return SiteResult(
        name=site.name,
        url=site.url,
        environment=site.environment,
        state=state,
        point_of_failure=pof,
        reason=site_reason(
            state,
            pof,
            anonymous,
            backend,
            slow=slow,
            platform=platform,
            evidence=evidence,
            cert_warn_days=cert_warn_days,
            cache_share=cache_share,
        ),
        anonymous=anonymous,
        backend=backend,
        platform_evidence=evidence if pof is PointOfFailure.PLATFORM else None,
        cache_hit_ratio_24h=cache_share,
    )


def _correlated(
    site: SiteResult, alike: Alike, config: Config, platform: PlatformStatus
) -> SiteResult:
    """A failing site that fails like enough others: the platform, unless the status
    page or an error page already said so."""
    if site.point_of_failure is PointOfFailure.PLATFORM:
        return site
    return replace(
        site,
        point_of_failure=PointOfFailure.PLATFORM,
        platform_evidence=PlatformEvidence.CORRELATED,
        reason=site_reason(
            site.state,
            PointOfFailure.PLATFORM,
            site.anonymous,
            site.backend,
            slow=config.monitor.slow,
            platform=platform,
            evidence=PlatformEvidence.CORRELATED,
            cert_warn_days=config.monitor.cert_warn_days,
            alike=alike.words,
            cache_share=site.cache_hit_ratio_24h,
        ),
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
    failing = [s for s in results if not s.state.is_good]
    if failing and all(s.point_of_failure is PointOfFailure.PLATFORM for s in failing):
        return PointOfFailure.PLATFORM
    return PointOfFailure.SITE


def assess(
    config: Config,
    probes: Mapping[str, tuple[ProbeResult, ProbeResult]],
    platform: PlatformStatus,
    *,
    canaries_ok: bool | None,
    checked_at: datetime,
    watched_live: int | None = None,
    cache_share: Mapping[str, float | None] | None = None,
) -> CheckReport:
    """The whole report for the sites in `probes` (config order), from their results.

    `watched_live`: how many Live sites are watched in all, the base of the correlation
    rule (app.correlation); default: the Live sites in `config`. The monitor assesses
    only a round's due sites, so it passes its whole count. `cache_share`: each
    site's visitor cache-hit share over the last 24 h, from the history (None: unknown).
    """
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
                    site,
                    anonymous,
                    backend,
                    slow=config.monitor.slow,
                    platform=platform,
                    cert_warn_days=config.monitor.cert_warn_days,
                    now=checked_at,
                    cache_share=(cache_share or {}).get(site.name),
                )
            )
    if not offline and network_answered(sites, platform, canaries_ok):
        live = sum(s.is_live for s in config.sites) if watched_live is None else watched_live
        alike = find_alike(sites, watched_live=live)
        sites = [
            _correlated(s, alike[s.name], config, platform) if s.name in alike else s for s in sites
        ]
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
