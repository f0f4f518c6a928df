"""Realistic inputs for the ticket tests: a site that is down, a platform incident, a token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.config import Config, ContactConfig, ProviderConfig, SiteConfig
from app.events import Event, MonitorSnapshot, SiteStatus
from app.models import (
    CacheVerdict,
    Incident,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    ProbeKind,
    ProbeResult,
    SiteResult,
    SiteState,
)
from app.tickets.builder import Evidence, Ticket, build_ticket, diagnostics_block

# Planted in every secret-bearing place a test can reach; must never come out anywhere.
PLANTED_TOKEN = "lt_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"

SITE = SiteConfig(name="shop", url="https://shop.example.com")
DEV_SITE = SiteConfig(name="shop-dev", url="https://dev-shop.example.com", environment="dev")
CONTACT = ContactConfig(name="Ada Owner", email="ada@example.com", phone="+1 555 0100")
FIRST_FAILURE = datetime(2026, 11, 27, 8, 1, 12, tzinfo=UTC)
DETECTED = datetime(2026, 11, 27, 8, 3, 40, tzinfo=UTC)


# The dashboard route's page when a test names none: refused on this machine at once
# (tests never reach the real dashboard.pantheon.io).
REFUSED_SUPPORT_URL = "http://127.0.0.1:9/#support"


def provider(**overrides: Any) -> ProviderConfig:
    values: dict[str, Any] = {"ticket_timeout": 1.0, "support_url": REFUSED_SUPPORT_URL}
    values.update(overrides)
    return ProviderConfig(**values)


def probe(
    kind: ProbeKind, *, ok: bool, status: int | None, detail: str = "", **kw: Any
) -> ProbeResult:
    url = SITE.url + ("/" if kind is ProbeKind.ANONYMOUS else "/user/login")
    return ProbeResult(
        kind=kind,
        url=url,
        final_url=url,
        ok=ok,
        status=status,
        seconds=0.41,
        detail=detail,
        **kw,
    )


def down_result(*, secret_in_url: bool = False) -> SiteResult:
    anonymous = probe(
        ProbeKind.ANONYMOUS,
        ok=False,
        status=502,
        detail="502 Bad Gateway",
        cache=CacheVerdict.MISS,
        request_id="req-abc-123",
        cache_headers={"Age": "0", "X-Cache": "MISS"},
    )
    if secret_in_url:
        anonymous = ProbeResult(
            **{
                **anonymous.__dict__,
                "final_url": f"https://user:{PLANTED_TOKEN}@shop.example.com/?token={PLANTED_TOKEN}",
                "cache_headers": {"Authorization": f"Bearer {PLANTED_TOKEN}", "Age": "0"},
            }
        )
    return SiteResult(
        name="shop",
        url=SITE.url,
        environment="live",
        state=SiteState.DOWN,
        point_of_failure=PointOfFailure.SITE,
        reason="Anonymous visitors get 502 Bad Gateway.",
        anonymous=anonymous,
        backend=probe(ProbeKind.BACKEND, ok=False, status=502, detail="502 Bad Gateway"),
    )


def operational_result() -> SiteResult:
    return SiteResult(
        name="shop",
        url=SITE.url,
        environment="live",
        state=SiteState.OPERATIONAL,
        point_of_failure=PointOfFailure.NONE,
        reason="Both probes answered quickly.",
        anonymous=probe(ProbeKind.ANONYMOUS, ok=True, status=200, cache=CacheVerdict.HIT),
        backend=probe(ProbeKind.BACKEND, ok=True, status=200),
    )


PLATFORM_OK = PlatformStatus(
    state=PlatformState.OPERATIONAL,
    indicator="none",
    description="All Systems Operational",
    page_url="https://status.pantheon.io",
)

INCIDENT = Incident(
    name="Elevated 502 errors on some sites",
    impact="major",
    status="identified",
    url="https://stspg.io/abc123",
)

PLATFORM_INCIDENT = PlatformStatus(
    state=PlatformState.OUTAGE,
    indicator="major",
    description="Partial System Outage",
    incidents=(INCIDENT,),
    page_url="https://status.pantheon.io",
)


def down_status(result: SiteResult | None = None, *, platform: bool = False) -> SiteStatus:
    result = result or down_result()
    return SiteStatus(
        name="shop",
        url=SITE.url,
        environment="live",
        state=SiteState.DOWN,
        point_of_failure=PointOfFailure.PLATFORM if platform else PointOfFailure.SITE,
        reason=result.reason,
        since=DETECTED,
        first_failure_at=FIRST_FAILURE,
        last_checked=DETECTED,
        result=result,
    )


def operational_status() -> SiteStatus:
    result = operational_result()
    return SiteStatus(
        name="shop",
        url=SITE.url,
        environment="live",
        state=SiteState.OPERATIONAL,
        point_of_failure=PointOfFailure.NONE,
        reason=result.reason,
        since=DETECTED,
        last_checked=DETECTED,
        result=result,
    )


def sample_ticket(**overrides: Any) -> Ticket:
    result = down_result()
    evidence = Evidence(
        site=SITE,
        state=result.state,
        point_of_failure=result.point_of_failure,
        reason=result.reason,
        detected_at=DETECTED,
        started_at=FIRST_FAILURE,
        result=result,
        platform=PLATFORM_OK,
    )
    ticket = build_ticket(
        evidence,
        contact=CONTACT,
        provider=provider(),
        diagnostics=diagnostics_block(
            {"name": "shop", "state": "down", "anonymous": {"status": 502}},
            {"state": "operational"},
            [{"at": "2026-11-27T08:01:12Z", "state": "down"}],
        ),
        **overrides,
    )
    return ticket


class IdleMonitor:
    """The bridge's monitor when only its worker is wanted: runs until stopped."""

    def __init__(self, snapshot: MonitorSnapshot | None = None) -> None:
        self._snapshot = snapshot or MonitorSnapshot()
        self._stop: asyncio.Event | None = None

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        return lambda: None

    async def run(self) -> None:
        self._stop = asyncio.Event()
        await self._stop.wait()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def update_config(self, config: Config) -> None:
        pass

    def check_now(self, site: str | None = None) -> None:
        pass

    def snapshot(self) -> MonitorSnapshot:
        return self._snapshot
