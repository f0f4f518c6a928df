"""One full check: every site's two probes, the status page and the canaries, all at once.

Everything runs concurrently (bounded by `concurrency`), so a check of 20 sites of which
5 hang takes about one probe deadline (times retries + 1), not five. The sites' probes
share the check's two HTTP clients (still one fresh connection per probe).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from app.config import Config
from app.impact import assess
from app.models import (
    CheckReport,
    ErrorKind,
    PlatformState,
    PlatformStatus,
    ProbeKind,
    ProbeResult,
)
from app.probes import ProbeClients, ProbeOptions, probe_canary, probe_site
from app.statuspage import fetch_platform


def probe_options(config: Config, *, verify: ssl.SSLContext | bool = True) -> ProbeOptions:
    monitor = config.monitor
    return ProbeOptions(
        timeout=monitor.timeout,
        retries=monitor.retries,
        verify=verify,
        concurrency=monitor.concurrency,
    )


class UnknownSite(ValueError):
    """`--site NAME` that is not in the config."""


def select_sites(config: Config, only: Sequence[str] | None) -> Config:
    """The config restricted to the named sites (in config order). Raises UnknownSite."""
    if not only:
        return config
    wanted = {name.casefold(): name for name in only}
    known = {s.name.casefold() for s in config.sites}
    missing = [name for folded, name in wanted.items() if folded not in known]
    if missing:
        names = ", ".join(s.name for s in config.sites) or "none configured"
        raise UnknownSite(f"no site named {missing[0]!r} (sites: {names})")
    return replace(config, sites=tuple(s for s in config.sites if s.name.casefold() in wanted))


def group_sites(config: Config, groups: Sequence[str]) -> list[str]:
    """The names of the sites in any of `groups` (case-insensitive), in config order.
    Raises UnknownSite for a group no site is in."""
    known = {s.group.casefold(): s.group for s in config.sites if s.group}
    for group in groups:
        if group.strip().casefold() not in known:
            listed = ", ".join(sorted(known.values(), key=str.casefold)) or "none configured"
            raise UnknownSite(f"no site is in the group {group!r} (groups: {listed})")
    wanted = {g.strip().casefold() for g in groups}
    return [s.name for s in config.sites if s.group and s.group.casefold() in wanted]


async def run_check(
    config: Config,
    *,
    only: Sequence[str] | None = None,
    options: ProbeOptions | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    deadline: float | None = None,
    cache_share: Mapping[str, float | None] | None = None,
) -> CheckReport:
    """Probe every (selected) site, read the status page and canaries; assess the lot.

    `deadline`: seconds for the whole check (`check --timeout`). What has not answered by
    then counts as timed out, so a monitoring engine that kills slow plugins still gets
    a result instead of its own UNKNOWN. `cache_share`: each site's visitor cache-hit
    share over the last 24 h (app.history), which the reasons quote.
    """
    config = select_sites(config, only)
    options = options or probe_options(config)
    limiter = asyncio.Semaphore(options.concurrency)
    checked_at = clock().astimezone(UTC).replace(microsecond=0)
    start = time.monotonic()

    async def canaries() -> bool | None:
        urls = config.monitor.canaries
        if not urls:
            return None
        results = await asyncio.gather(*(probe_canary(u, options) for u in urls))
        return any(results)

    async with ProbeClients(options) as clients:
        site_tasks = [
            asyncio.create_task(probe_site(s, options, limiter, clients)) for s in config.sites
        ]
        platform_task = asyncio.create_task(
            fetch_platform(
                config.provider.status_page, options, components=config.provider.components
            )
        )
        canary_task = asyncio.create_task(canaries())
        _, late = await asyncio.wait([*site_tasks, platform_task, canary_task], timeout=deadline)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
    cut = f"no answer within the check's deadline ({deadline or 0:g} s)"
    seconds = round(time.monotonic() - start, 3)
    probes: dict[str, tuple[ProbeResult, ProbeResult]] = {
        site.name: (
            task.result()
            if task not in late
            else (
                _timed_out(site.url, ProbeKind.ANONYMOUS, cut, seconds),
                _timed_out(site.probe_backend_url, ProbeKind.BACKEND, cut, seconds),
            )
        )
        for site, task in zip(config.sites, site_tasks, strict=True)
    }
    platform = (
        platform_task.result().status
        if platform_task not in late
        else PlatformStatus(
            state=PlatformState.UNKNOWN,
            error=f"status page: {cut}",
            page_url=config.provider.status_page.rstrip("/"),
            connection_failed=True,
        )
    )
    canaries_ok = canary_task.result() if canary_task not in late else False
    report = assess(
        config,
        probes,
        platform,
        canaries_ok=canaries_ok,
        checked_at=checked_at,
        cache_share=cache_share,
    )
    return replace(report, duration=round(time.monotonic() - start, 3))


def _timed_out(url: str, kind: ProbeKind, detail: str, seconds: float) -> ProbeResult:
    return ProbeResult(
        kind=kind,
        url=url,
        final_url=url,
        ok=False,
        seconds=seconds,
        error=ErrorKind.TIMEOUT,
        detail=detail,
    )
