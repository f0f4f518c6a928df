"""A check report as JSON (the documented shape, see docs/check.md) and as text.

The text form opens with one line in Nagios plugin form (status word, summary, then
perfdata after '|'), so `lifeline check` can be dropped into Nagios, Icinga or a cron job.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from app import planned
from app.clock import iso
from app.models import (
    EXIT_CODES,
    PLATFORM_TROUBLE,
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
from app.platform_rule import describe

# Trouble, and announced maintenance: both belong in the one-line summary.
_NOTEWORTHY_PLATFORM = PLATFORM_TROUBLE | {PlatformState.MAINTENANCE}
NAGIOS_WORDS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


# --------------------------------------------------------------------------- JSON


def probe_to_json(p: ProbeResult) -> dict[str, Any]:
    return {
        "url": p.url,
        "final_url": p.final_url,
        "ok": p.ok,
        "status": p.status,
        "seconds": round(p.seconds, 3),
        "cache": p.cache.value,
        "cache_headers": dict(p.cache_headers),
        "request_id": p.request_id,
        "styx_hostname": p.styx_hostname,
        "error": p.error.value if p.error else None,
        "detail": p.detail,
        "attempts": p.attempts,
        "cert_expires": p.cert_expires,
        "cert_days_left": p.cert_days_left,
    }


def site_to_json(s: SiteResult) -> dict[str, Any]:
    return {
        "name": s.name,
        "url": s.url,
        "environment": s.environment,
        "state": s.state.value,
        "point_of_failure": s.point_of_failure.value,
        "reason": s.reason,
        "platform_evidence": s.platform_evidence.value if s.platform_evidence else None,
        "cache_hit_ratio_24h": s.cache_hit_ratio_24h,
        "anonymous": probe_to_json(s.anonymous),
        "backend": probe_to_json(s.backend),
    }


def platform_to_json(p: PlatformStatus, now: datetime | None = None) -> dict[str, Any]:
    """`now`: the check's time, from which `upcoming` (the next 7 days) is counted;
    without it, every planned maintenance the page lists."""
    return {
        "state": p.state.value,
        "indicator": p.indicator,
        "description": p.description,
        "reason": p.reason,
        "incidents": [
            {
                "name": i.name,
                "impact": i.impact,
                "status": i.status,
                "url": i.url,
                "components": list(i.components),
                "counted": i.counted,
            }
            for i in p.incidents
        ],
        "maintenances": [
            {
                "name": m.name,
                "status": m.status,
                "url": m.url,
                "scheduled_for": m.scheduled_for,
                "scheduled_until": m.scheduled_until,
                "components": list(m.components),
            }
            for m in p.maintenances
        ],
        "upcoming": [
            {
                "name": m.name,
                "starts": iso(start) if (start := planned.starts(m)) else None,
                "ends": iso(end) if (end := planned.ends(m)) else None,
                "components": list(m.components),
                "url": m.url,
            }
            for m in (planned.upcoming(p, now) if now is not None else p.upcoming)
        ],
        "components": [
            {"name": c.name, "status": c.status, "counted": c.counted} for c in p.components
        ],
        "error": p.error,
        "page_url": p.page_url,
    }


def report_to_json(r: CheckReport) -> dict[str, Any]:
    return {
        "checked_at": r.checked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "overall": {"state": r.overall.value, "point_of_failure": r.point_of_failure.value},
        "platform": platform_to_json(r.platform, r.checked_at),
        "sites": [site_to_json(s) for s in r.sites],
        "canaries_ok": r.canaries_ok,
        "duration": round(r.duration, 3),
        "exit_code": EXIT_CODES[r.overall],
        "summary": nagios_text(r),
    }


# --------------------------------------------------------------------------- text


def _probe_brief(p: ProbeResult) -> str:
    if p.error is None or p.error.value == "http":
        return p.detail or (str(p.status) if p.status else "")
    return f"{p.error.value}: {p.detail}" if p.detail else p.error.value


def _site_brief(s: SiteResult) -> str:
    if s.state is SiteState.DOWN:
        return _probe_brief(s.anonymous)
    if s.state is SiteState.EDITORS_BLOCKED:
        return _probe_brief(s.backend)
    if s.state is SiteState.DEGRADED:
        slower = max(s.anonymous, s.backend, key=lambda p: p.seconds)
        return f"slow, {slower.seconds:.1f} s"
    return s.state.value


def no_pipe(text: str) -> str:
    """Outside text for plugin output: a `|` would start perfdata there (Drupal's error
    titles read "Page not found | Site"), so Icinga would cut the line and graph the rest."""
    return text.replace("|", "/")


_LABEL_UNSAFE = re.compile(r"['=|\s]+")


def _perf_label(text: str) -> str:
    # Plugin guidelines: a label is quoted when it has spaces and holds no '=' or "'";
    # no '|' either (it would end the perfdata) and no other whitespace than one space.
    return "'" + " ".join(_LABEL_UNSAFE.sub("_", part) for part in text.split(" ")) + "'"


def perfdata(r: CheckReport) -> str:
    counts = {state: 0 for state in SiteState}
    for s in r.sites:
        counts[s.state] += 1
    items = [f"sites={len(r.sites)};;;0"]
    for state in (SiteState.DOWN, SiteState.EDITORS_BLOCKED, SiteState.DEGRADED):
        items.append(f"{state.value}={counts[state]};;;0")
    for s in r.sites:
        for p in (s.anonymous, s.backend):
            items.append(f"{_perf_label(f'{s.name} {p.kind.value}')}={p.seconds:.3f}s;;;0")
    return " ".join(items)


def _platform_phrase(p: PlatformStatus) -> str:
    if p.incidents:
        return f"platform {p.state.value}: {p.incidents[0].name}"
    if p.maintenances and p.state is PlatformState.MAINTENANCE:
        return f"platform maintenance: {p.maintenances[0].name}"
    return f"platform {p.state.value}" + (f": {p.description}" if p.description else "")


def nagios_summary(r: CheckReport) -> str:
    """`LIFELINE CRITICAL - 1 of 4 sites down (shop: 502 Bad Gateway) | perfdata`."""
    return f"{nagios_text(r)} | {perfdata(r)}"


def nagios_text(r: CheckReport) -> str:
    """The plugin line before its perfdata, with no `|` from outside in it."""
    word = NAGIOS_WORDS[EXIT_CODES[r.overall]]
    total = len(r.sites)
    if r.point_of_failure is PointOfFailure.NETWORK:
        text = "network unreachable: no site, no status page and no canary answered"
    elif not r.sites:
        text = f"no sites to check; {_platform_phrase(r.platform)}"
    else:
        bad = [s for s in r.sites if SITE_SEVERITY[s.state] > 0]
        if not bad:
            text = f"{total} of {total} sites operational"
        else:
            worst = max(bad, key=lambda s: SITE_SEVERITY[s.state]).state
            groups: list[str] = []
            for state in sorted({s.state for s in bad}, key=lambda x: -SITE_SEVERITY[x]):
                members = [s for s in bad if s.state is state]
                shown = ", ".join(f"{s.name}: {_site_brief(s)}" for s in members[:3])
                more = f", +{len(members) - 3} more" if len(members) > 3 else ""
                lead = f"{len(members)} of {total} sites" if state is worst else f"{len(members)}"
                groups.append(f"{lead} {state.label.lower()} ({shown}{more})")
            text = "; ".join(groups)
        if r.platform.state in _NOTEWORTHY_PLATFORM:
            text += f"; {_platform_phrase(r.platform)}"
        elif r.platform.state is PlatformState.UNKNOWN and r.overall is not OverallState.UNKNOWN:
            text += "; platform status unknown"
    return f"LIFELINE {word} - {no_pipe(text)}"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def _probe_cell(p: ProbeResult, width: int = 40) -> str:
    # The table stays readable in a terminal; the full detail is in the reason lines
    # and in --json.
    mark = "ok" if p.ok else "FAIL"
    brief = _probe_brief(p)
    if len(brief) > width:
        brief = brief[: width - 1].rstrip() + "\u2026"
    cache = f", cache {p.cache.value}" if p.cache.value != "unknown" else ""
    return f"{mark} {brief} {p.seconds:.2f}s{cache}".replace("  ", " ")


def format_report(r: CheckReport) -> str:
    """The Nagios first line, then a table of sites, their reasons and the platform."""
    lines = [nagios_summary(r), ""]
    if r.sites:
        rows = [["SITE", "ENV", "STATE", "FAILURE AT", "VISITORS", "EDITORS (ORIGIN)"]]
        for s in r.sites:
            rows.append(
                [
                    s.name,
                    s.environment,
                    s.state.value,
                    s.point_of_failure.value,
                    _probe_cell(s.anonymous),
                    _probe_cell(s.backend),
                ]
            )
        lines += _table(rows)
        lines.append("")
        for s in r.sites:
            if s.state is not SiteState.OPERATIONAL:
                ids = s.anonymous.request_id or s.backend.request_id
                suffix = f" [request id {ids}]" if ids else ""
                lines.append(f"{s.name}: {s.reason}{suffix}")
    p = r.platform
    head = f"Platform: {p.state.value}"
    if p.indicator:
        head += f" (indicator {p.indicator})"
    words = describe(p)
    if words:
        head += f" - {words}"
    lines.append(head)
    for i in p.incidents:
        lines.append(f"  incident: {i.name} [{i.impact}, {i.status}] {i.url}".rstrip())
    for m in p.maintenances:
        lines.append(f"  maintenance: {m.name} [{m.status}] {m.url}".rstrip())
    for m in planned.upcoming(p, r.checked_at):
        when = planned.window_text(m, r.checked_at)
        lines.append(f"  planned: {m.name} [{when}] {m.url}".rstrip())
    for c in p.components:
        ignored = "" if c.counted else " (not watched)"
        lines.append(f"  component: {c.name} [{c.status}]{ignored}")
    if r.canaries_ok is not None:
        lines.append(f"Canaries: {'reachable' if r.canaries_ok else 'unreachable'}")
    lines.append(f"Checked at {r.checked_at:%Y-%m-%d %H:%M:%S} UTC in {r.duration:.1f} s")
    # The long output too: Nagios reads perfdata after a `|` on any line.
    return "\n".join([lines[0], *(no_pipe(line).rstrip() for line in lines[1:])])
