"""Build an emergency ticket from what Lifeline saw: pure functions, no I/O.

The ticket is what a stressed person would want to type but never has the time to:
what is broken, since when, what both probes saw, what the status page says. Every
string goes through `redact` before it leaves this module, so a token in a probed URL,
a header or the user's own text never reaches the body, the clipboard or the outbox.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from app import planned
from app.clock import iso
from app.config import ContactConfig, ProviderConfig, SiteConfig
from app.events import SiteStatus
from app.models import (
    Incident,
    Maintenance,
    PlatformEvidence,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    ProbeResult,
    SiteResult,
    SiteState,
)
from app.platform_rule import describe
from app.redact import redact

SUBJECT_MAX = 200

# The ticket's own words where the label would mislead the support engineer: an
# "operational" site is only ever ticketed for a functional failure the probes miss.
_TICKET_WORDS: dict[SiteState, str] = {
    SiteState.UNKNOWN: "unreachable",
    SiteState.OPERATIONAL: "functional failure",
}


@dataclass(frozen=True)
class Evidence:
    """What the monitor (or a fresh check) knows about one site right now."""

    site: SiteConfig
    state: SiteState
    point_of_failure: PointOfFailure
    reason: str
    detected_at: datetime
    started_at: datetime | None = None
    result: SiteResult | None = None
    platform: PlatformStatus | None = None
    # Other Live sites failing with the platform as their point of failure in the same
    # check: the runbook asks "who has been affected, and how", so one grouped ticket.
    alike: tuple[SiteResult, ...] = ()


def affected_alike(site: str, results: Sequence[SiteResult]) -> tuple[SiteResult, ...]:
    """The other sites of a check that fail with the platform as point of failure."""
    return tuple(
        r
        for r in results
        if r.name != site
        and not r.state.is_good
        and r.state is not SiteState.UNKNOWN
        and r.point_of_failure is PointOfFailure.PLATFORM
    )


@dataclass(frozen=True)
class Ticket:
    """The ticket body of the JSON contract, as typed fields (see `to_body`)."""

    site: str
    environment: str
    url: str
    impact: str
    point_of_failure: str
    subject: str
    description: str
    started_at: str
    detected_at: str
    contact: dict[str, str] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = sanitize(
            {
                "site": self.site,
                "environment": self.environment,
                "url": self.url,
                "impact": self.impact,
                "point_of_failure": self.point_of_failure,
                "subject": self.subject,
                "description": self.description,
                "started_at": self.started_at,
                "detected_at": self.detected_at,
                "contact": dict(self.contact),
                "diagnostics": self.diagnostics,
            }
        )
        return body

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Ticket:
        def text(key: str) -> str:
            value = body.get(key)
            return value if isinstance(value, str) else ""

        contact = body.get("contact")
        diagnostics = body.get("diagnostics")
        return cls(
            site=text("site"),
            environment=text("environment"),
            url=text("url"),
            impact=text("impact"),
            point_of_failure=text("point_of_failure"),
            subject=text("subject"),
            description=text("description"),
            started_at=text("started_at"),
            detected_at=text("detected_at"),
            contact={str(k): str(v) for k, v in contact.items()}
            if isinstance(contact, dict)
            else {},
            diagnostics=dict(diagnostics) if isinstance(diagnostics, dict) else {},
        )

    def with_edits(
        self, *, description: str | None = None, contact: ContactConfig | None = None
    ) -> Ticket:
        changed = self
        if description is not None:
            changed = replace(changed, description=description)
        if contact is not None:
            changed = replace(changed, contact=contact_dict(contact))
        return changed

    def with_diagnostics(self, diagnostics: Mapping[str, Any]) -> Ticket:
        return replace(self, diagnostics=dict(diagnostics))


# --------------------------------------------------------------------------- evidence


def evidence_from_result(
    site: SiteConfig,
    result: SiteResult,
    platform: PlatformStatus | None,
    *,
    detected_at: datetime,
    started_at: datetime | None = None,
    alike: Sequence[SiteResult] = (),
) -> Evidence:
    return Evidence(
        site=site,
        state=result.state,
        point_of_failure=result.point_of_failure,
        reason=result.reason,
        detected_at=detected_at,
        started_at=started_at,
        result=result,
        platform=platform,
        alike=tuple(alike),
    )


def evidence_from_status(
    site: SiteConfig,
    status: SiteStatus | None,
    platform: PlatformStatus | None,
    *,
    detected_at: datetime,
) -> Evidence:
    """From the monitor's latest snapshot: instant, no network."""
    if status is None:
        return Evidence(
            site=site,
            state=SiteState.UNKNOWN,
            point_of_failure=PointOfFailure.NONE,
            reason="Lifeline has not checked this site yet.",
            detected_at=detected_at,
            platform=platform,
        )
    state = status.state
    if state is SiteState.OPERATIONAL and status.pending and status.suspected is not None:
        state = status.suspected  # seen failing once; the user is not waiting for proof
    started = status.first_failure_at
    if started is None and state is not SiteState.OPERATIONAL:
        started = status.since
    return Evidence(
        site=site,
        state=state,
        point_of_failure=status.point_of_failure,
        reason=status.reason,
        detected_at=detected_at,
        started_at=started,
        result=status.result,
        platform=platform,
    )


def is_operational(evidence: Evidence) -> bool:
    return evidence.state.is_good


def _ticket_word(state: SiteState) -> str:
    return _TICKET_WORDS.get(state, state.label.lower())


def live_only_reason(site: SiteConfig) -> str | None:
    """Why no emergency ticket can be filed for this environment (None: it can)."""
    if site.is_live:
        return None
    return (
        f"Emergency tickets are for the Live environment only; {site.name} is the "
        f"{site.environment!r} environment."
    )


# --------------------------------------------------------------------------- the ticket


def build_ticket(
    evidence: Evidence,
    *,
    contact: ContactConfig,
    provider: ProviderConfig,
    diagnostics: Mapping[str, Any],
    note: str = "",
) -> Ticket:
    started = evidence.started_at or evidence.detected_at
    return Ticket(
        site=evidence.site.name,
        environment=evidence.site.environment,
        url=evidence.site.url,
        impact=evidence.state.value,
        point_of_failure=evidence.point_of_failure.value,
        subject=build_subject(evidence, provider),
        description=build_description(evidence, provider, note=note),
        started_at=iso(started),
        detected_at=iso(evidence.detected_at),
        contact=contact_dict(contact),
        diagnostics=sanitize(dict(diagnostics)),
    )


def build_subject(evidence: Evidence, provider: ProviderConfig) -> str:
    site = evidence.site
    word = _ticket_word(evidence.state)
    subject = f"EMERGENCY: {site.name} ({site.environment}) {word}"
    detail = _headline_detail(evidence)
    if detail:
        subject += f": {detail}"
    if evidence.started_at is not None and not is_operational(evidence):
        subject += f" since {_clock(evidence.started_at, evidence.detected_at)}"
    incident = _incident(evidence.platform)
    if evidence.point_of_failure is PointOfFailure.PLATFORM and incident is not None:
        subject += f" (during {provider.name} incident: {incident.name})"
    if evidence.alike:
        subject += f" (and {len(evidence.alike)} more sites alike)"
    subject = " ".join(redact(subject).split())
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    return subject


def build_description(evidence: Evidence, provider: ProviderConfig, *, note: str = "") -> str:
    site = evidence.site
    lines: list[str] = []
    if note.strip():
        lines += [f"Note from the site owner: {note.strip()}", ""]
    if is_operational(evidence):
        lines.append(
            f"{site.name} ({site.environment} environment, {site.url}) has a significant "
            "functional failure that Lifeline's probes cannot see: its pages still load."
        )
    else:
        word = _ticket_word(evidence.state)
        lines.append(f"{site.name} ({site.environment} environment, {site.url}) is {word}.")
    dashboard = site.dashboard_link(provider.dashboard)
    if dashboard:
        lines.append(f"Its dashboard page: {dashboard}")
    if evidence.reason:
        lines.append(f"What is broken: {evidence.reason}")
    if evidence.started_at is not None and not is_operational(evidence):
        lines.append(
            f"Since: {_long(evidence.started_at)} (first failed check); "
            f"detected {_long(evidence.detected_at)}."
        )
    else:
        lines.append(f"Reported: {_long(evidence.detected_at)}.")
    if evidence.result is not None:
        lines += ["", "What Lifeline saw:"]
        lines.append(f"- {_probe_line('Anonymous visitors', evidence.result.anonymous)}")
        lines.append(f"- {_probe_line('Logged-in/editors (origin)', evidence.result.backend)}")
        share = evidence.result.cache_hit_ratio_24h
        if share is not None:
            lines.append(
                f"- Served from the CDN cache: {share:.0%} of visitor checks in the last 24 h"
            )
    if evidence.alike:
        count = len(evidence.alike)
        lines += ["", f"Other sites affected the same way ({count}), one ticket for all:"]
        lines += [f"- {_affected_line(other)}" for other in evidence.alike]
    lines += ["", f"Point of failure: {_point_of_failure_words(evidence, provider)}"]
    lines.append(f"{provider.name} status page: {_platform_words(evidence.platform)}")
    incident = _incident(evidence.platform)
    if incident is not None:
        link = f" {incident.url}" if incident.url else ""
        lines.append(f"Known incident: {incident.name} ({incident.status}){link}")
    outage_at = evidence.started_at or evidence.detected_at
    for maintenance in planned.near(evidence.platform, outage_at):
        lines.append(_maintenance_line(maintenance))
    lines += [
        "",
        "Full diagnostics (both probes with timings, cache evidence and request ids, the "
        "platform status and this site's recent history) are attached.",
    ]
    return redact("\n".join(lines))


def _headline_detail(evidence: Evidence) -> str:
    result = evidence.result
    if result is None or is_operational(evidence):
        return ""
    if evidence.state is SiteState.EDITORS_BLOCKED:
        probe = result.backend
    elif not result.anonymous.ok:
        probe = result.anonymous
    elif not result.backend.ok:
        probe = result.backend
    else:
        return ""
    return _probe_outcome(probe)


def _probe_outcome(probe: ProbeResult) -> str:
    if probe.detail:
        return probe.detail
    if probe.status is not None:
        return f"HTTP {probe.status}"
    if probe.error is not None:
        return probe.error.value
    return ""


def _probe_line(label: str, probe: ProbeResult) -> str:
    outcome = _probe_outcome(probe) or ("OK" if probe.ok else "failed")
    if probe.ok and probe.status is not None:
        outcome = f"{probe.status} OK" if not probe.detail else probe.detail
    parts = [f"{label} ({probe.url}): {outcome} in {probe.seconds:.2f} s"]
    if probe.cache.value != "unknown":
        parts.append(f"cache {probe.cache.value}")
    if probe.request_id:
        parts.append(f"request id {probe.request_id}")
    if probe.attempts > 1:
        parts.append(f"{probe.attempts} attempts")
    return ", ".join(parts)


def _affected_line(result: SiteResult) -> str:
    """One other affected site: what failed and the request ids support looks up."""
    probe = result.anonymous if result.state is SiteState.DOWN else result.backend
    parts = [f"{result.name} ({result.url}): {result.state.label.lower()}"]
    outcome = _probe_outcome(probe)
    if outcome:
        parts[0] += f", {outcome}"
    ids = [p.request_id for p in (result.anonymous, result.backend) if p.request_id]
    if ids:
        parts.append("request id " + ", ".join(dict.fromkeys(ids)))
    return "; ".join(parts)


def _point_of_failure_words(evidence: Evidence, provider: ProviderConfig) -> str:
    pof = evidence.point_of_failure
    found = evidence.result.platform_evidence if evidence.result is not None else None
    if pof is PointOfFailure.PLATFORM and found is PlatformEvidence.ERROR_PAGE:
        return (
            f"the {provider.name} platform: the site shows one of {provider.name}'s "
            "platform-side error pages, although the status page may show nothing yet."
        )
    if pof is PointOfFailure.PLATFORM and found is PlatformEvidence.CORRELATED:
        count = len(evidence.alike) + 1
        return (
            f"the {provider.name} platform, likely: {count} watched sites fail alike in the "
            "same check while the status page shows nothing yet (an isolated platform issue)."
        )
    if pof is PointOfFailure.PLATFORM:
        return f"the {provider.name} platform (an incident is reported on its status page)."
    if pof is PointOfFailure.SITE:
        return f"this site (the {provider.name} platform reports no matching incident)."
    if pof is PointOfFailure.NETWORK:
        return "unclear: Lifeline's own network looked unreliable at the time of the check."
    return "none found by the probes (reported by the site owner)."


def _platform_words(platform: PlatformStatus | None) -> str:
    if platform is None:
        return "not checked."
    if platform.state is PlatformState.UNKNOWN:
        return f"unknown ({platform.error or 'no answer'})."
    # The page's own words, or why Lifeline's verdict differs from them (issue 19).
    return describe(platform) or platform.state.value


def _maintenance_line(maintenance: Maintenance) -> str:
    """A maintenance within an hour of the outage: the support engineer's first question."""
    start, end = planned.starts(maintenance), planned.ends(maintenance)
    when = _long(start) if start is not None else "time not given"
    if start is not None and end is not None:
        when += f" to {_long(end)}"
    state = maintenance.status.replace("_", " ")
    link = f" {maintenance.url}" if maintenance.url else ""
    return f"Maintenance near this outage: {maintenance.name} ({state}, {when}){link}"


def _incident(platform: PlatformStatus | None) -> Incident | None:
    if platform is None or not platform.incidents:
        return None
    return platform.incidents[0]


# --------------------------------------------------------------------------- diagnostics


def diagnostics_block(
    check: Mapping[str, Any] | None,
    platform: Mapping[str, Any] | None,
    history: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The `diagnostics` object of the contract, redacted."""
    block: dict[str, Any] = sanitize(
        {
            "check": dict(check) if check is not None else {},
            "platform": dict(platform) if platform is not None else {},
            "history": [dict(item) for item in history],
        }
    )
    return block


def plain_text(ticket: Ticket, *, hotline: str = "") -> str:
    """The whole ticket as text to read out on the phone or paste into a dashboard form."""
    lines = [ticket.subject, "", ticket.description.rstrip(), ""]
    contact = [f"{k}: {v}" for k, v in ticket.contact.items() if v]
    if contact:
        lines += ["Contact:", *(f"  {item}" for item in contact), ""]
    lines += [
        f"Site: {ticket.site} ({ticket.environment}) {ticket.url}",
        f"Impact: {ticket.impact}; point of failure: {ticket.point_of_failure}",
        f"Started: {ticket.started_at}; detected: {ticket.detected_at}",
    ]
    if hotline:
        lines.append(f"Hotline: {hotline}")
    lines += ["", "Diagnostics:"]
    lines += _outline(ticket.diagnostics, indent=1)
    return redact("\n".join(lines).rstrip() + "\n")


def _outline(value: Any, *, indent: int) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, Mapping | list) and item:
                out.append(f"{pad}{key}:")
                out += _outline(item, indent=indent + 1)
            else:
                out.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping | list) and item:
                sub = _outline(item, indent=indent + 1)
                out.append(f"{pad}- {sub[0].strip()}")
                out += sub[1:]
            else:
                out.append(f"{pad}- {_scalar(item)}")
    else:
        out.append(f"{pad}{_scalar(value)}")
    return out


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Mapping | list):
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def diagnostics_json(ticket: Ticket) -> str:
    return json.dumps(ticket.diagnostics, indent=2, ensure_ascii=False)


# --------------------------------------------------------------------------- helpers


def sanitize(value: Any) -> Any:
    """Redact every string in a JSON-like value; keys that name a secret lose their value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if name.lower() in _SECRET_KEYS:
                out[name] = "***"
            else:
                out[name] = sanitize(item)
        return out
    if isinstance(value, list | tuple):
        return [sanitize(item) for item in value]
    if isinstance(value, datetime):
        return iso(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


_SECRET_KEYS = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key", "token"}
)


def contact_dict(contact: ContactConfig) -> dict[str, str]:
    return {"name": contact.name, "email": contact.email, "phone": contact.phone}


def _clock(moment: datetime, reference: datetime) -> str:
    moment = moment.astimezone(UTC)
    if moment.date() == reference.astimezone(UTC).date():
        return moment.strftime("%H:%M UTC")
    return moment.strftime("%b %d %H:%M UTC")


def _long(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
