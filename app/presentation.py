"""The words and short texts that the tray menu, tooltip, status window, notifications
and ticket form share, from the snapshot already in memory: pure and Qt-free.

Status-page and site text is untrusted: every dynamic string meant for a menu entry,
tooltip or notification goes through `plain()` (one line, bounded, no markup).
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from urllib.parse import urlsplit

from app import planned
from app.config import Config
from app.events import MonitorSnapshot, SiteStatus
from app.grouping import silence_text
from app.models import (
    SITE_SEVERITY,
    OverallState,
    PlatformEvidence,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    SiteState,
)
from app.platform_rule import describe
from app.printable import link_safe

REASON_WIDTH = 56  # characters per submenu line
REASON_LIMIT = 4 * REASON_WIDTH
UNRESOLVED = frozenset({"investigating", "identified", "monitoring"})

PLATFORM_AS_OVERALL = {
    PlatformState.OPERATIONAL: OverallState.OPERATIONAL,
    PlatformState.MAINTENANCE: OverallState.MAINTENANCE,
    PlatformState.DEGRADED: OverallState.DEGRADED,
    PlatformState.OUTAGE: OverallState.DOWN,
    PlatformState.UNKNOWN: OverallState.UNKNOWN,
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def plain(text: object, limit: int = 80) -> str:
    """One bounded line of plain text, safe for a QAction, tooltip or notification."""
    line = " ".join(_CONTROL.sub(" ", str(text)).split())
    # No angle brackets: Qt guesses rich text from a tag ("<b>"); these look the same.
    line = line.replace("<", "\u2039").replace(">", "\u203a")
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "\u2026"
    return line


def https_url(url: str) -> str | None:
    """The URL if it is a well-formed https link, else None (never open anything else)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname or not link_safe(url.strip()):
        return None
    return url.strip()


def web_url(url: str) -> str | None:
    """An http(s) URL for a site the user configured (their own sites may be plain http)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if not link_safe(url.strip()):
        return None
    return url.strip()


def local_time(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    local = at.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def uptime_text(uptime: float | None) -> str:
    if uptime is None:
        return "no history yet"
    percent = uptime * 100
    if percent >= 99.995:
        return "100 %"
    return f"{percent:.2f} %"


def site_sort_key(site: SiteStatus) -> tuple[int, int, str]:
    return (-SITE_SEVERITY[site.state], 0 if site.pending else 1, site.name.casefold())


def state_counts(snapshot: MonitorSnapshot) -> list[tuple[SiteState, int]]:
    counts: dict[SiteState, int] = {}
    for site in snapshot.sites:
        counts[site.state] = counts.get(site.state, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-SITE_SEVERITY[kv[0]], kv[0].value))


def overall_line(snapshot: MonitorSnapshot) -> str:
    label = snapshot.overall.label
    if not snapshot.sites:
        return "No sites yet: add them in Settings"
    if snapshot.last_check is None and snapshot.overall is OverallState.UNKNOWN:
        return "First check in progress\u2026"
    if snapshot.point_of_failure is PointOfFailure.NETWORK:
        return f"{label}: your own network seems down"
    total = len(snapshot.sites)
    bad = sum(1 for s in snapshot.sites if SITE_SEVERITY[s.state] > 0 and s.silenced is None)
    if not bad:
        detail = "the only site is fine" if total == 1 else f"all {total} sites fine"
    else:
        detail = f"{bad} of {total} sites need attention"
    if snapshot.point_of_failure is PointOfFailure.PLATFORM:
        detail += " (platform problem)"
    return f"{label}: {detail}"


def platform_line(platform: PlatformStatus | None, provider: str) -> str:
    """"Pantheon: Outage ('Packages unavailable' (major, identified); the page's
    indicator says minor)": never contradicting the page (app.platform_rule.describe)."""
    if platform is None:
        return f"{provider}: status page not read yet"
    label = platform.state.label
    detail = describe(platform)
    if detail and detail.casefold() != label.casefold():
        return f"{provider}: {label} ({detail})"
    return f"{provider}: {label}"


def planned_lines(platform: PlatformStatus | None, now: datetime) -> list[tuple[str, str | None]]:
    """("Planned: Database upgrade, Tue 22:00–23:00 (CET)", https link or None) for each
    maintenance planned in the next 7 days, soonest first, in the zone of `now`."""
    return [
        (f"Planned: {m.name}, {planned.window_text(m, now)}", https_url(m.url))
        for m in planned.upcoming(platform, now)
    ]


def platform_detail_lines(platform: PlatformStatus | None) -> list[str]:
    """Under the platform line: why Lifeline says what it says, wrapped, and what the
    page reports for components outside `[provider] components`."""
    if platform is None:
        return ["The status page has not been read yet."]
    lines = textwrap.wrap(
        plain(describe(platform) or platform.state.label, REASON_LIMIT),
        REASON_WIDTH,
        break_long_words=True,
    )
    ignored = [c for c in platform.components if not c.counted]
    if ignored:
        shown = ", ".join(f"{c.name} ({c.status.replace('_', ' ')})" for c in ignored[:3])
        more = f" and {len(ignored) - 3} more" if len(ignored) > 3 else ""
        lines.append(plain(f"Not watched: {shown}{more}", 100))
    return lines


def unresolved_incidents(platform: PlatformStatus | None) -> list[tuple[str, str | None]]:
    """(text, https link or None) for each incident that is not resolved."""
    if platform is None:
        return []
    out = []
    for incident in platform.incidents:
        if incident.status.lower() not in UNRESOLVED:
            continue
        out.append((f"{incident.name} ({incident.status})", https_url(incident.url)))
    return out


def site_title(site: SiteStatus) -> str:
    text = f"{site.name}: {site.state.label}"
    if site.flapping:
        text += " (flapping)"
    if site.pending:
        suspected = site.suspected.label if site.suspected else "a problem"
        text += f", confirming {suspected.lower()}"
    if site.silenced is not None:
        text += f" ({silence_text(site)})"
    if site.reason and site.state is not SiteState.OPERATIONAL:
        text += f": {site.reason}"
    return text


def tooltip_lines(snapshot: MonitorSnapshot, provider: str, now: datetime) -> list[str]:
    lines = ["Lifeline", plain(overall_line(snapshot), 100)]
    counts = state_counts(snapshot)
    if counts:
        lines.append(", ".join(f"{n} {state.label.lower()}" for state, n in counts))
    if snapshot.pending:
        lines.append("A problem is being confirmed")
    lines.append(plain(platform_line(snapshot.platform, provider), 100))
    lines.append(f"Last check: {local_time(snapshot.last_check, now)}")
    return lines


def site_detail_lines(site: SiteStatus, now: datetime) -> list[str]:
    """The lines under a site's entry: its reason, wrapped (menus cannot wrap, and the
    reason is what the user opened the submenu to read), then since when and uptime."""
    lines = []
    if site.reason:
        reason = plain(site.reason, REASON_LIMIT)
        lines.extend(textwrap.wrap(reason, REASON_WIDTH, break_long_words=True))
    if site.pending and site.suspected is not None:
        lines.append(f"Confirming: {site.suspected.label.lower()} (not alarmed yet)")
    if site.since is not None:
        lines.append(f"{site.state.label} since {local_time(site.since, now)}")
    if site.silenced is not None:
        lines.append(f"{silence_text(site, now).capitalize()}: no notifications")
    lines.append(f"Last checked: {local_time(site.last_checked, now)}")
    lines.append(f"Uptime 24 h: {uptime_text(site.uptime_24h)}")
    result = site.result
    if result is not None and result.cache_hit_ratio_24h is not None:
        lines.append(f"Served from cache, 24 h: {result.cache_hit_ratio_24h:.0%} of visitor checks")
    evidence = platform_evidence_text(site)
    if evidence:
        lines.append(f"Platform evidence: {evidence}")
    return lines


# app.models.PlatformEvidence in words (menu, ticket).
EVIDENCE_WORDS = {
    PlatformEvidence.STATUS_PAGE: "the status page reports trouble",
    PlatformEvidence.ERROR_PAGE: "Pantheon's platform-side error page",
    PlatformEvidence.CORRELATED: "several sites fail alike, status page silent",
}


def platform_evidence_text(site: SiteStatus) -> str:
    """What makes the platform this site's point of failure, in words ('' when not)."""
    if site.point_of_failure is not PointOfFailure.PLATFORM or site.result is None:
        return ""
    evidence = site.result.platform_evidence
    return EVIDENCE_WORDS[evidence] if evidence is not None else ""


IMPACTED = frozenset(
    {SiteState.DOWN, SiteState.EDITORS_BLOCKED, SiteState.DEGRADED, SiteState.UNKNOWN}
)


def impacted_sites(snapshot: MonitorSnapshot, config: Config) -> list[SiteStatus]:
    """Live sites with a problem (confirmed or being confirmed), worst first."""
    live = {s.name for s in config.sites if s.is_live}
    found = [
        s for s in snapshot.sites
        if s.name in live and (s.state in IMPACTED or (s.pending and s.suspected in IMPACTED))
    ]
    return sorted(found, key=lambda s: (-SITE_SEVERITY.get(s.state, 0), s.name.casefold()))
