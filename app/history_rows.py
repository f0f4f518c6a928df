"""A state change as the history stores it: the row written for an event, with compact
evidence (probe status, error, detail, request id; the platform's state and open
incidents), and the Transition read back.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.clock import iso
from app.events import (
    Event,
    MaintenanceChanged,
    NetworkChanged,
    PlatformStateChanged,
    SiteStateChanged,
    SnoozeChanged,
)
from app.history_file import ts
from app.models import PlatformStatus, ProbeResult

DETAIL_MAX = 120
REASON_MAX = 300
INCIDENTS_MAX = 3
# A site's maintenance spans (kind "maintenance"): neither uptime nor downtime.
MAINTENANCE, MAINTENANCE_ENDED = "maintenance", "ended"
# A site's snooze spans (kind "snooze"): drawn by the Lifeline window, still uptime.
SNOOZED = "snoozed"


@dataclass(frozen=True)
class Transition:
    at: datetime
    kind: str  # site | platform | network | maintenance (state "maintenance" or "ended")
    site: str | None
    previous: str | None
    state: str
    point_of_failure: str
    reason: str
    flapping: bool = False
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "kind": self.kind,
            "site": self.site,
            "from": self.previous,
            "to": self.state,
            "point_of_failure": self.point_of_failure,
            "reason": self.reason,
            "flapping": self.flapping,
            "evidence": self.evidence,
        }


# (at, kind, site, previous, state, pof, flapping, reason, evidence)
Row = tuple[float, str, str | None, str | None, str, str, bool, str, dict[str, Any]]


INSERT = (
    "INSERT INTO transitions (at, kind, site, previous, state, pof, flapping, reason, "
    "evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def insert_values(row: Row, text_ids: dict[str, int]) -> tuple[Any, ...]:
    at, kind, site, previous, state, pof, flapping, reason, evidence = row
    return (
        at,
        kind,
        site,
        previous,
        state,
        pof,
        int(flapping),
        text_ids[reason[:REASON_MAX]] if reason else None,
        dumps(evidence) if evidence else None,
    )


def repeats_open_span(db: sqlite3.Connection, row: Row) -> bool:
    """A snooze or maintenance opening that the history holds open already, with the same
    end: a restarted monitor starts without silences and reports each one again, though
    nothing happened. (Reading spans would tolerate the repeat; `lifeline history` and
    the window's list would show it once per restart.)"""
    at, kind, site, _previous, state, _pof, _flapping, _reason, evidence = row
    if kind not in ("snooze", MAINTENANCE) or state == MAINTENANCE_ENDED:
        return False
    last = db.execute(
        "SELECT state, evidence FROM transitions WHERE site = ? AND kind = ? AND at <= ? "
        "ORDER BY at DESC, id DESC LIMIT 1",
        (site, kind, at),
    ).fetchone()
    return last is not None and tuple(last) == (state, dumps(evidence) if evidence else None)


def row_of(event: Event) -> Row | None:
    """The row an event is stored as; None for the events the history does not keep."""
    if isinstance(event, SiteStateChanged):
        return _site_row(event)
    if isinstance(event, PlatformStateChanged):
        return _platform_row(event)
    if isinstance(event, MaintenanceChanged):
        words = ("In a maintenance window", "The maintenance window ended")
        return _span_row(event, "maintenance", MAINTENANCE, words)
    if isinstance(event, SnoozeChanged):
        return _span_row(event, "snooze", SNOOZED, ("Snoozed", "The snooze ended"))
    if isinstance(event, NetworkChanged):
        return _network_row(event)
    return None


def _site_row(event: SiteStateChanged) -> Row:
    evidence: dict[str, Any] = {}
    # Evidence of what failed; a recovery's "200 OK" is not worth its bytes.
    if event.result is not None and not event.state.is_good:
        evidence["anonymous"] = probe_evidence(event.result.anonymous)
        evidence["backend"] = probe_evidence(event.result.backend)
    if event.platform is not None and not event.state.is_good:
        evidence["platform"] = platform_evidence(event.platform)
    return (
        ts(event.at),
        "site",
        event.site,
        event.previous.value if event.previous else None,
        event.state.value,
        event.point_of_failure.value,
        event.flapping,
        event.reason,
        evidence,
    )


def _platform_row(event: PlatformStateChanged) -> Row:
    return (
        ts(event.at),
        "platform",
        None,
        event.previous.value if event.previous else None,
        event.state.value,
        "platform" if event.state.value in ("degraded", "outage") else "none",
        False,
        event.platform.error or event.platform.description,
        {"platform": platform_evidence(event.platform)},
    )


def _span_row(
    event: MaintenanceChanged | SnoozeChanged, kind: str, state: str, words: tuple[str, str]
) -> Row:
    """A maintenance window or a snooze beginning (`state`) or ending ("ended")."""
    until = f" until {iso(event.until)}" if event.until else ""
    return (
        ts(event.at),
        kind,
        event.site,
        None if event.active else state,
        state if event.active else MAINTENANCE_ENDED,
        "none",
        False,
        f"{words[0]}{until}" if event.active else words[1],
        # Its end, so a span left open (Lifeline stopped inside it) closes there.
        {"until": iso(event.until)} if event.active and event.until else {},
    )


def _network_row(event: NetworkChanged) -> Row:
    return (
        ts(event.at),
        "network",
        None,
        "online" if not event.available else "offline",
        "online" if event.available else "offline",
        "none" if event.available else "network",
        False,
        event.reason,
        {},
    )


def probe_evidence(probe: ProbeResult) -> dict[str, Any]:
    """What a ticket or a post-mortem needs from one probe, and nothing more."""
    out: dict[str, Any] = {"status": probe.status, "seconds": round(probe.seconds, 2)}
    if probe.error is not None:
        out["error"] = probe.error.value
    if probe.detail:
        out["detail"] = probe.detail[:DETAIL_MAX]
    if probe.request_id:
        out["request_id"] = probe.request_id
    if probe.styx_hostname:
        out["styx"] = probe.styx_hostname
    if probe.cache.value != "unknown":
        out["cache"] = probe.cache.value
    return out


def platform_evidence(platform: PlatformStatus) -> dict[str, Any]:
    out: dict[str, Any] = {"state": platform.state.value}
    if platform.incidents:
        out["incidents"] = [
            {"name": i.name[:DETAIL_MAX], "impact": i.impact, "status": i.status, "url": i.url}
            for i in platform.incidents[:INCIDENTS_MAX]
        ]
    if platform.error:
        out["error"] = platform.error[:DETAIL_MAX]
    return out


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
