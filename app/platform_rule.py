"""The platform's state from what its status page says is true now (the rule).

Pure and light (no HTTP stack): app.statuspage reads the page, the tray and the ticket
describe the result. The rule as a table is in docs/statuspage.md:

- outage: the indicator is major/critical, a component is major_outage, or a
  major/critical incident is not yet fixed (investigating, identified);
- degraded: the indicator is minor, a component is degraded_performance/partial_outage,
  or any other incident is open (one in monitoring counts at most as degraded: its
  impact is the worst it ever reached, not what is true now);
- maintenance: a maintenance is in progress or verifying, or a component is under
  maintenance, and nothing above holds.

`[provider] components` (glob patterns) restricts which components, and which incidents
and maintenances naming them, count; the others are shown but not judged.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import replace

from app.models import Component, Incident, Maintenance, PlatformState, PlatformStatus

ALL_COMPONENTS: tuple[str, ...] = ("*",)

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
SEVERE_IMPACT = frozenset({"major", "critical"})
# Once an incident is being monitored the fix is in: its impact is history, not news.
# Any other open status (including one Lifeline does not know) is taken as not fixed.
RECOVERING_INCIDENT = frozenset({"monitoring"})


def worst(*states: PlatformState) -> PlatformState:
    return max(states, key=lambda s: _RANK.get(s, 0), default=PlatformState.OPERATIONAL)


def indicator_state(indicator: str | None) -> PlatformState | None:
    """The state the page itself claims (None: no indicator, nothing was read)."""
    if indicator is None:
        return None
    return INDICATOR_STATES.get(indicator.lower(), PlatformState.DEGRADED)


def incident_state(incident: Incident) -> PlatformState:
    """Outage only while a major/critical incident is not yet fixed; otherwise degraded."""
    recovering = incident.status.lower() in RECOVERING_INCIDENT
    if incident.impact.lower() in SEVERE_IMPACT and not recovering:
        return PlatformState.OUTAGE
    return PlatformState.DEGRADED


def watches(patterns: Sequence[str], component: str) -> bool:
    """Whether `[provider] components` (case-insensitive globs) names this component."""
    name = component.casefold()
    return any(fnmatch.fnmatchcase(name, p.casefold()) for p in patterns)


def judge(status: PlatformStatus, components: Sequence[str] = ALL_COMPONENTS) -> PlatformStatus:
    """The state from present evidence, restricted to the watched components.

    The indicator counts too, unless some of the trouble the page lists is outside the
    watched components: the indicator sums up all of it, so the listed trouble that is
    watched then decides alone. The evidence that decided is kept, in words, as
    `reason`. A status that was never read (no indicator) is returned as it is.
    """
    page_state = indicator_state(status.indicator)
    if status.error is not None or page_state is None:
        return status

    def named(names: tuple[str, ...]) -> bool:
        # An incident or maintenance that names no component concerns the whole page.
        return not names or any(watches(components, n) for n in names)

    comps = tuple(replace(c, counted=watches(components, c.name)) for c in status.components)
    incidents = tuple(replace(i, counted=named(i.components)) for i in status.incidents)
    active = tuple(replace(m, counted=named(m.components)) for m in status.maintenances)
    upcoming = tuple(replace(m, counted=named(m.components)) for m in status.upcoming)

    evidence: list[tuple[PlatformState, str]] = []
    evidence += [(incident_state(i), _incident_words(i)) for i in incidents if i.counted]
    evidence += [
        (COMPONENT_STATES.get(c.status, PlatformState.DEGRADED), _component_words(c))
        for c in comps
        if c.counted
    ]
    evidence += [(PlatformState.MAINTENANCE, _maintenance_words(m)) for m in active if m.counted]
    listed: tuple[Component | Incident | Maintenance, ...] = (*comps, *incidents, *active)
    ignored = [x for x in listed if not x.counted]
    if not ignored:
        evidence.append((page_state, f"the page's indicator is {status.indicator}"))
    state = worst(*(s for s, _ in evidence))
    reason = ""
    if state is not PlatformState.OPERATIONAL:
        reason = next(words for s, words in evidence if s is state)
    elif ignored and page_state is not PlatformState.OPERATIONAL:
        # The page reports trouble, none of it where the user looks: say so, never "fine".
        outside = ", ".join(_ignored_words(x) for x in ignored[:3])
        more = f" and {len(ignored) - 3} more" if len(ignored) > 3 else ""
        reason = f"only what you do not watch is affected ({outside}{more})"
    return replace(
        status,
        state=state,
        reason=reason,
        components=comps,
        incidents=incidents,
        maintenances=active,
        upcoming=upcoming,
    )


def describe(status: PlatformStatus) -> str:
    """The platform's state in words that never contradict the page: when Lifeline's
    state differs from the page's indicator, say why and what the page says."""
    if status.state is PlatformState.UNKNOWN:
        return status.error or "the status page was not read"
    page_state = indicator_state(status.indicator)
    if page_state is not None and page_state is not status.state and status.reason:
        return f"{status.reason}; the page's indicator says {status.indicator}"
    return status.description or status.reason


def _words(value: str) -> str:
    return value.replace("_", " ")


def _incident_words(incident: Incident) -> str:
    return f"'{incident.name}' ({incident.impact}, {incident.status})"


def _component_words(component: Component) -> str:
    return f"'{component.name}' {_words(component.status)}"


def _maintenance_words(maintenance: Maintenance) -> str:
    return f"'{maintenance.name}' (maintenance {_words(maintenance.status)})"


def _ignored_words(item: Component | Incident | Maintenance) -> str:
    if isinstance(item, Component):
        return _component_words(item)
    if isinstance(item, Incident):
        return _incident_words(item)
    return _maintenance_words(item)
