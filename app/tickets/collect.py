"""Gather the evidence for a ticket: a fresh check of one site, its history, the JSON blocks.

Network and SQLite: run from the CLI or the worker thread, never the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from app.check import run_check
from app.config import Config, SiteConfig
from app.models import PlatformStatus, PointOfFailure, SiteResult
from app.probes import ProbeOptions
from app.report import platform_to_json, site_to_json
from app.tickets.builder import (
    Evidence,
    affected_alike,
    diagnostics_block,
    evidence_from_result,
)


def diagnostics_for(
    result: SiteResult | None,
    platform: PlatformStatus | None,
    history: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The contract's diagnostics: the site's `check --json` entry, the platform, history."""
    return diagnostics_block(
        site_to_json(result) if result is not None else None,
        platform_to_json(platform) if platform is not None else None,
        history,
    )


async def fresh_evidence(
    config: Config,
    site: SiteConfig,
    *,
    options: ProbeOptions | None = None,
    started_at: datetime | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    cache_share: Mapping[str, float | None] | None = None,
) -> Evidence:
    """Check this site, the other Live sites and the status page now.

    The other Live sites are checked too because several failing alike is platform
    evidence (app.correlation) and makes one grouped ticket; they run concurrently, so
    the check takes about as long as the slowest site. `cache_share`: the sites' visitor
    cache-hit shares over 24 h (app.history.read_cache_hit_ratios).
    """
    names = [s.name for s in config.sites if s.is_live or s.name == site.name]
    report = await run_check(
        config, only=names, options=options, clock=clock, cache_share=cache_share
    )
    result = report.site(site.name)
    if result is None:  # run_check checks every selected site; this is a bug if it happens
        raise LookupError(f"the check did not report {site.name!r}")
    platform_side = result.point_of_failure is PointOfFailure.PLATFORM
    return evidence_from_result(
        site,
        result,
        report.platform,
        detected_at=report.checked_at or clock(),
        started_at=started_at,
        alike=affected_alike(site.name, report.sites) if platform_side else (),
    )
