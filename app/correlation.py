"""Several watched sites failing alike in one round: evidence of a platform problem.

Pantheon's runbook warns that sites "can be taken down by isolated platform issues that
are not systemic enough to warrant a platform status alert". When, in the same round,
at least MIN_SITES sites, and at least a third of the Live sites being watched, fail
with the same signature while the user's own network answers, the platform is the
likely point of failure even though the status page is green. A signature is:

- the same Pantheon error page from the catalogue;
- or the same error kind and status (e.g. timeout, or http 503);
- or the same edge (`X-Pantheon-Styx-Hostname`, else Fastly's `X-Served-By`), unless a
  site that works answered through that edge in the same round: an edge node serves
  many sites, and one that serves a working site is not what fails.

Pure functions over the round's SiteResults; app.impact applies the verdict.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from app.integrations.pantheon_errors import identify
from app.models import PlatformStatus, ProbeResult, SiteResult, SiteState

MIN_SITES = 2
SHARE = 1 / 3  # of the Live sites watched
_FAILING = (SiteState.DOWN, SiteState.EDITORS_BLOCKED)


@dataclass(frozen=True)
class Alike:
    """One group of sites failing alike, as the reason line words it."""

    count: int  # failing sites with this signature
    watched: int  # Live sites watched
    label: str  # the shared failure, e.g. "503 Database not Responding"
    seconds: float  # the slowest of their probes: they all failed within this

    @property
    def words(self) -> str:
        within = max(1, math.ceil(self.seconds))
        return f"{self.count} of {self.watched} sites fail alike ({self.label}) within {within} s"


def _deciding(site: SiteResult) -> ProbeResult:
    return site.anonymous if site.state is SiteState.DOWN else site.backend


def signatures(probe: ProbeResult) -> list[tuple[tuple[str, ...], str]]:
    """A failed probe's signatures with their words, most telling first."""
    found: list[tuple[tuple[str, ...], str]] = []
    page = identify(probe.status, probe.detail)
    if page is not None:
        found.append((("page", page.key), page.title))
    kind = probe.error.value if probe.error else "failed"
    if probe.status is not None and probe.error is not None and probe.error.value == "http":
        label = probe.detail or str(probe.status)
    else:
        label = f"{kind} {probe.status}" if probe.status is not None else kind
    found.append((("kind", kind, str(probe.status)), label))
    edge = edge_of(probe)
    if edge:
        found.append((("edge", edge), f"through the same edge {edge}"))
    return found


def edge_of(probe: ProbeResult) -> str | None:
    return probe.styx_hostname or probe.cache_headers.get("X-Served-By") or None


def network_answered(
    sites: Sequence[SiteResult], platform: PlatformStatus, canaries_ok: bool | None
) -> bool:
    """Something outside the failing sites answered this round, so the user's own
    network works: a canary, any site's probe, or the status page."""
    if canaries_ok:
        return True
    if any(not p.connection_failed for s in sites for p in (s.anonymous, s.backend)):
        return True
    return not platform.connection_failed and platform.error is None


def find_alike(sites: Sequence[SiteResult], *, watched_live: int) -> dict[str, Alike]:
    """The failing sites that fail like enough others, by name. Only Live sites count
    towards the threshold; any failing site with a qualifying signature is included."""
    working_edges = {
        ("edge", edge)
        for site in sites
        if site.state.is_good
        for probe in (site.anonymous, site.backend)
        if (edge := edge_of(probe))
    }
    groups: dict[tuple[str, ...], list[SiteResult]] = defaultdict(list)
    labels: dict[tuple[str, ...], str] = {}
    order: dict[str, list[tuple[str, ...]]] = {}
    for site in sites:
        if site.state not in _FAILING:
            continue
        keys: list[tuple[str, ...]] = []
        for key, label in signatures(_deciding(site)):
            groups[key].append(site)
            labels.setdefault(key, label)
            keys.append(key)
        order[site.name] = keys
    needed = max(MIN_SITES, math.ceil(watched_live * SHARE - 1e-9))
    qualifying = {
        key: members
        for key, members in groups.items()
        if key not in working_edges and sum(m.environment == "live" for m in members) >= needed
    }
    result: dict[str, Alike] = {}
    for name, keys in order.items():
        chosen = [k for k in keys if k in qualifying]
        if not chosen:
            continue
        key = chosen[0]
        members = qualifying[key]
        result[name] = Alike(
            count=len(members),
            watched=watched_live,
            label=labels[key],
            seconds=max(_deciding(m).seconds for m in members),
        )
    return result
