"""The hosting platform's status, read from an Atlassian Statuspage (v2 summary.json).

`status.indicator` alone is not trusted: real pages have shown indicator "minor" while an
open incident's impact was "major". The indicator, every component status, the impact of
every unresolved incident and the in-progress maintenances are combined, the worst
winning. Anything unexpected (unreachable, 5xx, not JSON, truncated, the wrong shape)
gives UNKNOWN with the reason: never OPERATIONAL. Unknown enum values are kept as they
are and count as "degraded", since the page is saying something is not normal.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from app.models import (
    CONNECTION_ERRORS,
    Component,
    Incident,
    Maintenance,
    PlatformState,
    PlatformStatus,
)
from app.probes import FetchError, ProbeOptions, fetch, one_line

SUMMARY_PATH = "/api/v2/summary.json"
# summary.json of a large page (hundreds of components) stays well under this.
MAX_SUMMARY_BYTES = 4 * 1024 * 1024

_RANK = {
    PlatformState.OPERATIONAL: 0,
    PlatformState.MAINTENANCE: 1,
    PlatformState.DEGRADED: 2,
    PlatformState.OUTAGE: 3,
}

INDICATOR_STATES = {
    "none": PlatformState.OPERATIONAL,
    "minor": PlatformState.DEGRADED,
    "major": PlatformState.OUTAGE,
    "critical": PlatformState.OUTAGE,
    "maintenance": PlatformState.MAINTENANCE,
}
COMPONENT_STATES = {
    "operational": PlatformState.OPERATIONAL,
    "degraded_performance": PlatformState.DEGRADED,
    "partial_outage": PlatformState.DEGRADED,
    "major_outage": PlatformState.OUTAGE,
    "under_maintenance": PlatformState.MAINTENANCE,
}
# An open incident is never "no problem", even when its impact says "none".
IMPACT_STATES = {
    "none": PlatformState.DEGRADED,
    "minor": PlatformState.DEGRADED,
    "major": PlatformState.OUTAGE,
    "critical": PlatformState.OUTAGE,
    "maintenance": PlatformState.MAINTENANCE,
}
CLOSED_INCIDENT = frozenset({"resolved", "postmortem", "completed"})
ACTIVE_MAINTENANCE = frozenset({"in_progress", "verifying"})


@dataclass(frozen=True)
class StatusFetch:
    status: PlatformStatus
    retry_after: float | None = None  # seconds, from Retry-After on 429/503


class _Shape(ValueError):
    """The payload is JSON but not a Statuspage summary."""


def summary_url(status_page: str) -> str:
    return status_page.rstrip("/") + SUMMARY_PATH


def worst(*states: PlatformState) -> PlatformState:
    return max(states, key=lambda s: _RANK.get(s, 0), default=PlatformState.OPERATIONAL)


def parse_summary(data: object, *, page_url: str = "") -> PlatformStatus:
    """Reduce a decoded summary.json to a PlatformStatus. Pure; never raises."""
    try:
        return _parse(data, page_url)
    except _Shape as exc:
        return PlatformStatus(
            state=PlatformState.UNKNOWN,
            error=f"the status page answered, but not with a Statuspage summary ({exc})",
            page_url=page_url,
        )


def _parse(data: object, page_url: str) -> PlatformStatus:
    if not isinstance(data, dict):
        raise _Shape(f"expected a JSON object, got {_kind(data)}")
    status = data.get("status")
    if not isinstance(status, dict):
        raise _Shape("no 'status' object")
    indicator = _opt_text(status, "indicator")
    if indicator is None:
        raise _Shape("no 'status.indicator'")
    description = _opt_text(status, "description") or ""
    page = data.get("page")
    human_url = page_url
    if isinstance(page, dict):
        url = _opt_text(page, "url")
        if url and url.startswith("https://"):
            human_url = url.rstrip("/")
    states = [INDICATOR_STATES.get(indicator.lower(), PlatformState.DEGRADED)]

    components: list[Component] = []
    for raw in _list(data, "components"):
        name = _opt_text(raw, "name") or "(unnamed component)"
        value = (_opt_text(raw, "status") or "").lower()
        if not value:
            raise _Shape(f"component {name!r} has no status")
        state = COMPONENT_STATES.get(value, PlatformState.DEGRADED)
        states.append(state)
        if state is not PlatformState.OPERATIONAL or value not in COMPONENT_STATES:
            components.append(Component(name=name, status=value))

    incidents: list[Incident] = []
    for raw in _list(data, "incidents"):
        status_value = (_opt_text(raw, "status") or "").lower()
        if status_value in CLOSED_INCIDENT:
            continue
        impact = (_opt_text(raw, "impact") or "none").lower()
        states.append(IMPACT_STATES.get(impact, PlatformState.DEGRADED))
        incidents.append(
            Incident(
                name=one_line(_opt_text(raw, "name") or "(unnamed incident)"),
                impact=impact,
                status=status_value or "unknown",
                url=_link(raw, human_url, "incidents"),
            )
        )

    maintenances: list[Maintenance] = []
    for raw in _list(data, "scheduled_maintenances"):
        status_value = (_opt_text(raw, "status") or "").lower()
        if status_value not in ACTIVE_MAINTENANCE:
            continue
        states.append(PlatformState.MAINTENANCE)
        maintenances.append(
            Maintenance(
                name=one_line(_opt_text(raw, "name") or "(unnamed maintenance)"),
                status=status_value,
                url=_link(raw, human_url, "incidents"),
                scheduled_for=_opt_text(raw, "scheduled_for"),
                scheduled_until=_opt_text(raw, "scheduled_until"),
            )
        )

    return PlatformStatus(
        state=worst(*states),
        indicator=indicator,
        description=one_line(description),
        incidents=tuple(incidents),
        maintenances=tuple(maintenances),
        components=tuple(components),
        page_url=human_url,
    )


def _kind(value: object) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _opt_text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Shape(f"'{key}' is {_kind(value)}, not a string")
    return value


def _list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Shape(f"'{key}' is {_kind(value)}, not a list")
    for item in value:
        if not isinstance(item, dict):
            raise _Shape(f"an entry of '{key}' is {_kind(item)}, not an object")
    return value


_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _link(raw: dict[str, Any], page_url: str, kind: str) -> str:
    """An https link for an incident, or '' (never an http or javascript: link)."""
    for key in ("shortlink", "url"):
        value = raw.get(key)
        if isinstance(value, str) and value.startswith("https://") and " " not in value:
            return value
    ident = raw.get("id")
    if page_url.startswith("https://") and isinstance(ident, str) and _ID.fullmatch(ident):
        return f"{page_url}/{kind}/{ident}"
    return ""


# --------------------------------------------------------------------------- fetching


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _unknown(page_url: str, reason: str, *, connection_failed: bool = False) -> PlatformStatus:
    return PlatformStatus(
        state=PlatformState.UNKNOWN,
        error=one_line(reason),
        page_url=page_url,
        connection_failed=connection_failed,
    )


async def fetch_platform(status_page: str, options: ProbeOptions) -> StatusFetch:
    """Read and reduce `{status_page}/api/v2/summary.json`. Never raises for bad input."""
    page_url = status_page.rstrip("/")
    url = summary_url(status_page)
    attempts = 0
    while True:
        attempts += 1
        try:
            got = await fetch(
                url,
                options,
                headers={"Accept": "application/json"},
                max_body=MAX_SUMMARY_BYTES,
            )
        except FetchError as exc:
            if attempts <= options.retries and exc.status is None:
                continue
            answered = " (it answered, then failed)" if exc.status is not None else ""
            return StatusFetch(
                _unknown(
                    page_url,
                    f"status page unreachable: {exc.detail}{answered}",
                    connection_failed=exc.kind in CONNECTION_ERRORS and exc.status is None,
                )
            )
        if got.status >= 400:
            retry_after = (
                parse_retry_after(got.headers.get("Retry-After"))
                if got.status in (429, 503)
                else None
            )
            if attempts <= options.retries and got.status >= 500 and retry_after is None:
                continue
            return StatusFetch(
                _unknown(page_url, f"status page answered {got.status} {got.reason}".strip()),
                retry_after=retry_after,
            )
        break
    if not got.complete:
        return StatusFetch(
            _unknown(page_url, f"status page summary larger than {MAX_SUMMARY_BYTES} bytes")
        )
    try:
        data = json.loads(got.body.decode("utf-8"))
    except UnicodeDecodeError:
        return StatusFetch(_unknown(page_url, "status page summary is not UTF-8 text"))
    except RecursionError:
        # 4 MiB of "[" is valid-looking JSON that exhausts the parser's stack.
        return StatusFetch(_unknown(page_url, "status page summary is nested too deeply"))
    except json.JSONDecodeError as exc:
        ctype = got.headers.get("Content-Type", "").split(";")[0].strip() or "no type"
        return StatusFetch(
            _unknown(page_url, f"status page summary is not valid JSON ({ctype}; {exc.msg})")
        )
    return StatusFetch(parse_summary(data, page_url=page_url))
