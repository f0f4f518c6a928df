"""Monitor events as lines: one JSON object per line (`watch --json-lines`) or plain text.

The JSON shape is a contract for scripts: {"at", "event", "site", "from", "to",
"point_of_failure", "reason"}, with `event` one of site_state, platform_state,
overall_state, reminder, maintenance, network (plus "flapping" on site_state). The site
events (site_state, reminder, maintenance) carry "silenced": "snooze" or "maintenance"
when no notification is raised for them, else null. Pending hints and the
per-check snapshot are for people and the tray, so they appear in text only (pending) or
not at all (CheckCompleted).
"""

from __future__ import annotations

import json
from typing import Any

from app.clock import iso
from app.events import (
    Event,
    MaintenanceChanged,
    MonitorError,
    NetworkChanged,
    OverallStateChanged,
    PlatformStateChanged,
    Reminder,
    SitePending,
    SiteStateChanged,
)
from app.models import PointOfFailure
from app.platform_rule import describe, indicator_state


def event_record(event: Event) -> dict[str, Any] | None:
    """The JSON object for an event, or None for events scripts do not get."""
    if isinstance(event, SiteStateChanged):
        return {
            **_base(event.at, "site_state", event.site),
            "from": event.previous.value if event.previous else None,
            "to": event.state.value,
            "point_of_failure": event.point_of_failure.value,
            "platform_evidence": _evidence(event),
            "reason": event.reason,
            "flapping": event.flapping,
            "silenced": event.silenced,
        }
    if isinstance(event, PlatformStateChanged):
        return {
            **_base(event.at, "platform_state", None),
            "from": event.previous.value if event.previous else None,
            "to": event.state.value,
            "point_of_failure": "platform" if event.state.is_trouble else "none",
            "reason": platform_reason(event),
        }
    if isinstance(event, OverallStateChanged):
        return {
            **_base(event.at, "overall_state", None),
            "from": event.previous.value if event.previous else None,
            "to": event.state.value,
            "point_of_failure": event.point_of_failure.value,
            "reason": event.reason,
        }
    if isinstance(event, Reminder):
        since = f" since {iso(event.since)}" if event.since else ""
        return {
            **_base(event.at, "reminder", event.site),
            "from": event.state.value,
            "to": event.state.value,
            "point_of_failure": event.point_of_failure.value,
            "reason": f"Still {event.state.value}{since}. {event.reason}".strip(),
            "silenced": None,  # silenced sites get no reminders
        }
    if isinstance(event, MaintenanceChanged):
        until = f" until {iso(event.until)}" if event.until else ""
        return {
            **_base(event.at, "maintenance", event.site),
            "from": None if event.active else "maintenance",
            "to": "maintenance" if event.active else None,
            "point_of_failure": "none",
            "reason": f"In a maintenance window{until}." if event.active
            else "The maintenance window ended.",
            "silenced": "maintenance" if event.active else None,
        }
    if isinstance(event, NetworkChanged):
        return {
            **_base(event.at, "network", None),
            "from": "offline" if event.available else "online",
            "to": "online" if event.available else "offline",
            "point_of_failure": "none" if event.available else "network",
            "reason": event.reason,
        }
    return None


def json_line(event: Event) -> str | None:
    record = event_record(event)
    if record is None:
        return None
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def text_line(event: Event) -> str | None:
    """One readable line, or None for events a person watching a terminal does not need."""
    if isinstance(event, SitePending):
        stamp = iso(event.at)
        if event.suspected is None:
            return f"{stamp} pending   {event.site}: cleared on a re-check"
        return (
            f"{stamp} pending   {event.site}: looks {event.suspected.value}, "
            f"confirming ({event.reason})"
        )
    if isinstance(event, MonitorError):
        return f"{iso(event.at)} error     {event.message}"
    record = event_record(event)
    if record is None:
        return None
    kind = str(record["event"]).replace("_state", "")
    who = f"{record['site']}: " if record["site"] else ""
    before = record["from"] or "(start)"
    change = f"still {record['to']}" if kind == "reminder" else f"{before} -> {record['to']}"
    if kind == "maintenance":
        change = "begins" if record["to"] else "ends"
    if record.get("flapping"):
        change += " (flapping)"
    if record.get("silenced") and kind != "maintenance":
        change += f" (silenced: {record['silenced']})"
    reason = f" - {record['reason']}" if record["reason"] else ""
    return f"{record['at']} {kind:<9} {who}{change}{reason}"


def _evidence(event: SiteStateChanged) -> str | None:
    """What makes the platform the point of failure (app.models.PlatformEvidence)."""
    if event.point_of_failure is not PointOfFailure.PLATFORM or event.result is None:
        return None
    evidence = event.result.platform_evidence
    return evidence.value if evidence is not None else None


def platform_reason(event: PlatformStateChanged) -> str:
    platform = event.platform
    if platform.state is not indicator_state(platform.indicator) and platform.reason:
        return describe(platform)  # why Lifeline's state differs from the page's
    if platform.incidents:
        lead = platform.incidents[0]
        more = f" (+{len(platform.incidents) - 1} more)" if len(platform.incidents) > 1 else ""
        return f"{lead.name} ({lead.impact}, {lead.status}){more}"
    if platform.error:
        return platform.error
    return platform.description


def _base(at: Any, kind: str, site: str | None) -> dict[str, Any]:
    return {"at": iso(at), "event": kind, "site": site}
