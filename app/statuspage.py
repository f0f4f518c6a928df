"""The hosting platform's status, read from an Atlassian Statuspage (v2 summary.json).

This module reads the page and keeps its facts: the indicator, the components that are
not operational, the unresolved incidents and the maintenances in progress or planned,
each with the components it names. app.platform_rule then judges the state from them
(docs/statuspage.md has the rule as a table). Anything unexpected (unreachable, 5xx,
not JSON, truncated, the wrong shape) gives UNKNOWN with the reason: never OPERATIONAL.
Unknown enum values are kept as they are and count as "degraded", since the page is
saying something is not normal.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Sequence
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
from app.platform_rule import ALL_COMPONENTS, judge, worst
from app.printable import link_safe
from app.probes import FetchError, ProbeOptions, fetch
from app.text import one_line

SUMMARY_PATH = "/api/v2/summary.json"
# summary.json of a large page (hundreds of components) stays well under this.
MAX_SUMMARY_BYTES = 4 * 1024 * 1024
CLOSED_INCIDENT = frozenset({"resolved", "postmortem", "completed"})
ACTIVE_MAINTENANCE = frozenset({"in_progress", "verifying"})
PLANNED_MAINTENANCE = "scheduled"

__all__ = ["StatusFetch", "fetch_platform", "parse_retry_after", "parse_summary", "worst"]


@dataclass(frozen=True)
class StatusFetch:
    status: PlatformStatus
    retry_after: float | None = None  # seconds, from Retry-After on 429/503


class _Shape(ValueError):
    """The payload is JSON but not a Statuspage summary."""


def summary_url(status_page: str) -> str:
    return status_page.rstrip("/") + SUMMARY_PATH


def parse_summary(
    data: object, *, page_url: str = "", components: Sequence[str] = ALL_COMPONENTS
) -> PlatformStatus:
    """Reduce a decoded summary.json to a judged PlatformStatus. Pure; never raises."""
    try:
        return judge(_parse(data, page_url), components)
    except _Shape as exc:
        return PlatformStatus(
            state=PlatformState.UNKNOWN,
            error=f"the status page answered, but not with a Statuspage summary ({exc})",
            page_url=page_url,
        )


# --------------------------------------------------------------------------- parsing


def _parse(data: object, page_url: str) -> PlatformStatus:
    """The facts of a summary, not yet judged (see `judge`)."""
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

    components: list[Component] = []
    for raw in _list(data, "components"):
        name = one_line(_opt_text(raw, "name") or "(unnamed component)")
        value = (_opt_text(raw, "status") or "").lower()
        if not value:
            raise _Shape(f"component {name!r} has no status")
        if raw.get("group") is True:
            continue  # a group's status is its worst member's; the members are listed
        if value != "operational":
            components.append(Component(name=name, status=value))

    incidents: list[Incident] = []
    for raw in _list(data, "incidents"):
        status_value = (_opt_text(raw, "status") or "").lower()
        if status_value in CLOSED_INCIDENT:
            continue
        incidents.append(
            Incident(
                name=one_line(_opt_text(raw, "name") or "(unnamed incident)"),
                impact=(_opt_text(raw, "impact") or "none").lower(),
                status=status_value or "unknown",
                url=_link(raw, human_url, "incidents"),
                components=_component_names(raw),
            )
        )

    active: list[Maintenance] = []
    planned: list[Maintenance] = []
    for raw in _list(data, "scheduled_maintenances"):
        status_value = (_opt_text(raw, "status") or "").lower()
        if status_value not in ACTIVE_MAINTENANCE and status_value != PLANNED_MAINTENANCE:
            continue
        ident = raw.get("id")
        maintenance = Maintenance(
            name=one_line(_opt_text(raw, "name") or "(unnamed maintenance)"),
            status=status_value,
            url=_link(raw, human_url, "incidents"),
            scheduled_for=_opt_text(raw, "scheduled_for"),
            scheduled_until=_opt_text(raw, "scheduled_until"),
            components=_component_names(raw),
            ident=ident if isinstance(ident, str) and _ID.fullmatch(ident) else "",
        )
        (planned if status_value == PLANNED_MAINTENANCE else active).append(maintenance)
    # ISO 8601 in UTC sorts as text; a maintenance without a start goes last.
    planned.sort(key=lambda m: (m.scheduled_for is None, m.scheduled_for or ""))

    return PlatformStatus(
        state=PlatformState.UNKNOWN,  # until judged
        indicator=indicator,
        description=one_line(description),
        incidents=tuple(incidents),
        maintenances=tuple(active),
        components=tuple(components),
        page_url=human_url,
        upcoming=tuple(planned),
    )


def _component_names(raw: dict[str, Any]) -> tuple[str, ...]:
    """The names of the components an incident or maintenance lists. Lenient: a
    malformed list costs the names, never the incident itself."""
    value = raw.get("components")
    if not isinstance(value, list):
        return ()
    return tuple(
        one_line(item["name"])
        for item in value
        if isinstance(item, dict) and isinstance(item.get("name"), str)
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
        if isinstance(value, str) and value.startswith("https://") and link_safe(value):
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
    if value.isascii() and value.isdigit():  # "²" is a digit to isdigit(), not to float()
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


async def fetch_platform(
    status_page: str, options: ProbeOptions, *, components: Sequence[str] = ALL_COMPONENTS
) -> StatusFetch:
    """Read and judge `{status_page}/api/v2/summary.json`, counting only the components
    `components` names (`[provider] components`). Never raises for bad input."""
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
    return StatusFetch(parse_summary(data, page_url=page_url, components=components))
