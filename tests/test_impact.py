"""Impact and point of failure: the pure rules, case by case."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from app.config import Config, MonitorConfig, SiteConfig
from app.impact import assess, assess_site, network_down, overall_state
from app.models import (
    CacheVerdict,
    ErrorKind,
    Incident,
    OverallState,
    PlatformEvidence,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    ProbeKind,
    ProbeResult,
    SiteState,
)

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
SITE = SiteConfig(name="shop", url="https://live-shop.example/", environment="live")
OK_PLATFORM = PlatformStatus(state=PlatformState.OPERATIONAL, indicator="none")
OUTAGE = PlatformStatus(
    state=PlatformState.OUTAGE,
    indicator="minor",
    description="Partial outage",
    incidents=(Incident("Sites return 503", "major", "investigating", "https://stspg.io/x"),),
)
UNREACHABLE = PlatformStatus(
    state=PlatformState.UNKNOWN, error="status page unreachable", connection_failed=True
)


def ok(kind: ProbeKind = ProbeKind.ANONYMOUS, seconds: float = 0.2, **kw: object) -> ProbeResult:
    return ProbeResult(kind=kind, url="u", final_url="u", ok=True, status=200, seconds=seconds,
                       **kw)  # type: ignore[arg-type]


def failed(
    kind: ProbeKind = ProbeKind.ANONYMOUS,
    error: ErrorKind = ErrorKind.HTTP,
    status: int | None = 502,
    detail: str = "502 Bad Gateway",
) -> ProbeResult:
    return ProbeResult(kind=kind, url="u", final_url="u", ok=False, status=status, error=error,
                       detail=detail, seconds=0.1)


BACK_OK = ok(ProbeKind.BACKEND)
TIMEOUT = failed(error=ErrorKind.TIMEOUT, status=None, detail="no answer within 1 s")
REFUSED = failed(error=ErrorKind.REFUSED, status=None, detail="connection refused")


def test_both_ok_is_operational() -> None:
    result = assess_site(SITE, ok(), BACK_OK, slow=3.0, platform=OK_PLATFORM)
    assert result.state is SiteState.OPERATIONAL
    assert result.point_of_failure is PointOfFailure.NONE
    assert (result.name, result.url, result.environment) == ("shop", SITE.url, "live")


def test_anonymous_failure_is_down_at_the_site() -> None:
    result = assess_site(SITE, failed(), BACK_OK, slow=3.0, platform=OK_PLATFORM)
    assert result.state is SiteState.DOWN
    assert result.point_of_failure is PointOfFailure.SITE
    assert "502 Bad Gateway" in result.reason and "platform reports no problem" in result.reason


def test_down_during_a_platform_outage_points_at_the_platform() -> None:
    result = assess_site(SITE, failed(), failed(ProbeKind.BACKEND), slow=3.0, platform=OUTAGE)
    assert result.state is SiteState.DOWN
    assert result.point_of_failure is PointOfFailure.PLATFORM
    assert "Sites return 503" in result.reason


def test_platform_degraded_also_points_at_the_platform() -> None:
    degraded = PlatformStatus(state=PlatformState.DEGRADED, indicator="minor")
    result = assess_site(SITE, failed(), BACK_OK, slow=3.0, platform=degraded)
    assert result.point_of_failure is PointOfFailure.PLATFORM


@pytest.mark.parametrize(
    "platform",
    [
        PlatformStatus(state=PlatformState.MAINTENANCE),
        PlatformStatus(state=PlatformState.UNKNOWN, error="x"),
    ],
)
def test_maintenance_or_unknown_platform_points_at_the_site(platform: PlatformStatus) -> None:
    result = assess_site(SITE, failed(), BACK_OK, slow=3.0, platform=platform)
    assert result.point_of_failure is PointOfFailure.SITE


def test_visitors_served_from_cache_while_origin_fails_is_editors_blocked() -> None:
    anonymous = ok(cache=CacheVerdict.HIT)
    backend = failed(ProbeKind.BACKEND, status=503, detail="503 First Byte Timeout")
    result = assess_site(SITE, anonymous, backend, slow=3.0, platform=OK_PLATFORM)
    assert result.state is SiteState.EDITORS_BLOCKED
    assert result.point_of_failure is PointOfFailure.SITE
    assert result.platform_evidence is None
    assert "from the CDN cache" in result.reason
    assert "503 First Byte Timeout" in result.reason and "editors" in result.reason


def test_a_platform_side_error_page_is_platform_evidence_on_a_green_status_page() -> None:
    anonymous = ok(cache=CacheVerdict.HIT)
    backend = failed(ProbeKind.BACKEND, status=503, detail="503 Database not Responding")
    result = assess_site(SITE, anonymous, backend, slow=3.0, platform=OK_PLATFORM)
    assert result.state is SiteState.EDITORS_BLOCKED
    assert result.point_of_failure is PointOfFailure.PLATFORM
    assert result.platform_evidence is PlatformEvidence.ERROR_PAGE
    assert '"503 Database not Responding" page' in result.reason
    assert "status page shows nothing yet" in result.reason


def test_anonymous_failure_wins_over_backend_failure() -> None:
    result = assess_site(SITE, failed(), failed(ProbeKind.BACKEND), slow=3.0, platform=OK_PLATFORM)
    assert result.state is SiteState.DOWN


@pytest.mark.parametrize(
    ("anon_s", "back_s", "state"),
    [
        (3.5, 0.1, SiteState.DEGRADED),
        (0.1, 3.5, SiteState.DEGRADED),
        (3.0, 3.0, SiteState.OPERATIONAL),  # "slower than", not "as slow as"
        (2.9, 0.1, SiteState.OPERATIONAL),
    ],
)
def test_slow(anon_s: float, back_s: float, state: SiteState) -> None:
    result = assess_site(
        SITE, ok(seconds=anon_s), ok(ProbeKind.BACKEND, seconds=back_s), slow=3.0,
        platform=OK_PLATFORM,
    )
    assert result.state is state
    if state is SiteState.DEGRADED:
        assert "3.5 s" in result.reason and result.point_of_failure is PointOfFailure.SITE


# --------------------------------------------------------------------------- network


Pair = tuple[ProbeResult, ProbeResult]


def probes_of(*pairs: Pair) -> dict[str, Pair]:
    return {f"s{i}": pair for i, pair in enumerate(pairs)}


def test_network_down_needs_everything_to_fail_at_the_connection_level() -> None:
    everything_dead = probes_of((TIMEOUT, REFUSED), (REFUSED, TIMEOUT))
    assert network_down(everything_dead, UNREACHABLE, canaries_ok=None)
    assert network_down(everything_dead, UNREACHABLE, canaries_ok=False)
    # A canary that answers proves the network works.
    assert not network_down(everything_dead, UNREACHABLE, canaries_ok=True)
    # A status page that answered (even 500) proves it too.
    answered = replace(UNREACHABLE, connection_failed=False, error="answered 500")
    assert not network_down(everything_dead, answered, canaries_ok=None)
    # One site answering (even with an error) proves it too.
    one_answer = probes_of((TIMEOUT, REFUSED), (failed(), REFUSED))
    assert not network_down(one_answer, UNREACHABLE, canaries_ok=None)
    # TLS errors mean something answered.
    tls = failed(error=ErrorKind.TLS, status=None, detail="certificate")
    assert not network_down(probes_of((tls, tls)), UNREACHABLE, canaries_ok=None)
    # Nothing to judge without sites.
    assert not network_down({}, UNREACHABLE, canaries_ok=None)


def test_offline_laptop_makes_every_site_unknown_not_down() -> None:
    config = Config(sites=(SITE, SiteConfig(name="blog", url="https://blog.example/")))
    report = assess(
        config,
        {"shop": (TIMEOUT, TIMEOUT), "blog": (REFUSED, REFUSED)},
        UNREACHABLE,
        canaries_ok=False,
        checked_at=NOW,
    )
    assert report.overall is OverallState.UNKNOWN
    assert report.point_of_failure is PointOfFailure.NETWORK
    assert [s.state for s in report.sites] == [SiteState.UNKNOWN, SiteState.UNKNOWN]
    assert all(s.point_of_failure is PointOfFailure.NETWORK for s in report.sites)
    assert "your own internet connection" in report.sites[0].reason


def test_sites_down_while_a_canary_answers_are_down() -> None:
    config = Config(sites=(SITE,))
    report = assess(config, {"shop": (TIMEOUT, TIMEOUT)}, UNREACHABLE, canaries_ok=True,
                    checked_at=NOW)
    assert report.overall is OverallState.DOWN and report.sites[0].state is SiteState.DOWN
    assert report.point_of_failure is PointOfFailure.SITE
    assert "unknown" in report.sites[0].reason  # the platform could not be asked


# --------------------------------------------------------------------------- overall


@pytest.mark.parametrize(
    ("sites", "platform", "overall"),
    [
        ([SiteState.OPERATIONAL, SiteState.DOWN, SiteState.DEGRADED], PlatformState.OPERATIONAL,
         OverallState.DOWN),
        ([SiteState.OPERATIONAL, SiteState.EDITORS_BLOCKED, SiteState.DEGRADED],
         PlatformState.OPERATIONAL, OverallState.EDITORS_BLOCKED),
        ([SiteState.OPERATIONAL, SiteState.DEGRADED], PlatformState.MAINTENANCE,
         OverallState.DEGRADED),
        ([SiteState.OPERATIONAL], PlatformState.OPERATIONAL, OverallState.OPERATIONAL),
        ([SiteState.OPERATIONAL], PlatformState.DEGRADED, OverallState.DEGRADED),
        ([SiteState.OPERATIONAL], PlatformState.OUTAGE, OverallState.DEGRADED),
        ([SiteState.OPERATIONAL], PlatformState.MAINTENANCE, OverallState.MAINTENANCE),
        ([SiteState.OPERATIONAL], PlatformState.UNKNOWN, OverallState.OPERATIONAL),
        ([SiteState.DOWN], PlatformState.MAINTENANCE, OverallState.DOWN),
        ([SiteState.UNKNOWN, SiteState.UNKNOWN], PlatformState.UNKNOWN, OverallState.UNKNOWN),
        ([], PlatformState.OPERATIONAL, OverallState.OPERATIONAL),
        ([], PlatformState.UNKNOWN, OverallState.UNKNOWN),
        ([], PlatformState.OUTAGE, OverallState.DEGRADED),
    ],
)
def test_overall_state(
    sites: list[SiteState], platform: PlatformState, overall: OverallState
) -> None:
    assert overall_state(sites, platform) is overall


def test_assess_keeps_config_order_and_skips_unprobed_sites() -> None:
    blog = SiteConfig(name="blog", url="https://blog.example/")
    docs = SiteConfig(name="docs", url="https://docs.example/")
    config = Config(monitor=MonitorConfig(slow=1.0), sites=(SITE, blog, docs))
    report = assess(
        config,
        {"docs": (ok(seconds=1.5), BACK_OK), "shop": (failed(), BACK_OK)},
        OK_PLATFORM,
        canaries_ok=None,
        checked_at=NOW,
    )
    assert [s.name for s in report.sites] == ["shop", "docs"]
    assert report.site("docs") is not None
    assert report.site("docs").state is SiteState.DEGRADED  # type: ignore[union-attr]
    assert report.overall is OverallState.DOWN and report.point_of_failure is PointOfFailure.SITE
    assert report.checked_at == NOW and report.canaries_ok is None


def test_all_sites_fine_but_platform_outage_points_at_platform() -> None:
    report = assess(Config(sites=(SITE,)), {"shop": (ok(), BACK_OK)}, OUTAGE, canaries_ok=None,
                    checked_at=NOW)
    assert report.overall is OverallState.DEGRADED
    assert report.point_of_failure is PointOfFailure.PLATFORM
    assert report.sites[0].point_of_failure is PointOfFailure.NONE


def test_all_operational_points_nowhere() -> None:
    report = assess(Config(sites=(SITE,)), {"shop": (ok(), BACK_OK)}, OK_PLATFORM,
                    canaries_ok=True, checked_at=NOW)
    assert report.overall is OverallState.OPERATIONAL
    assert report.point_of_failure is PointOfFailure.NONE
