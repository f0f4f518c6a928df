"""The vocabulary of a check: probe results, platform status, site and overall impact.

Plain frozen dataclasses and string enums, so results cross threads safely (the UI gets
them through queued signals) and serialise to JSON without ceremony (see app.report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SiteState(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"  # both probes OK, one slower than `slow`; also flapping
    EDITORS_BLOCKED = "editors_blocked"  # visitors served (cache), origin/backend failing
    DOWN = "down"  # anonymous visitors get an error
    UNKNOWN = "unknown"  # we cannot tell: the user's own network is down
    ASLEEP = "asleep"  # a non-live Pantheon environment idling (504 Target Not Responding)

    @property
    def is_good(self) -> bool:
        """Nothing to alarm anyone about: confirmation, history evidence, the point of
        failure and the ticket all treat these states alike."""
        return self in GOOD_SITE_STATES

    @property
    def label(self) -> str:
        """The word a person reads: capitalised, as it opens a menu line or a title;
        `label.lower()` inside a sentence (report, ticket, notification)."""
        return _SITE_LABELS[self]


class OverallState(StrEnum):
    OPERATIONAL = "operational"
    MAINTENANCE = "maintenance"
    DEGRADED = "degraded"
    EDITORS_BLOCKED = "editors_blocked"
    DOWN = "down"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _OVERALL_LABELS[self]


class PlatformState(StrEnum):
    OPERATIONAL = "operational"
    MAINTENANCE = "maintenance"
    DEGRADED = "degraded"
    OUTAGE = "outage"
    UNKNOWN = "unknown"

    @property
    def is_trouble(self) -> bool:
        """The status page reports a problem that can explain a failing site (the point
        of failure is then the platform). Maintenance is announced, so it is not."""
        return self in PLATFORM_TROUBLE

    @property
    def label(self) -> str:
        return _PLATFORM_LABELS[self]


# Read by the properties above, at call time (the classes must exist first).
GOOD_SITE_STATES = frozenset({SiteState.OPERATIONAL, SiteState.ASLEEP})
PLATFORM_TROUBLE = frozenset({PlatformState.DEGRADED, PlatformState.OUTAGE})
_SITE_LABELS: dict[SiteState, str] = {
    SiteState.OPERATIONAL: "Operational",
    SiteState.DEGRADED: "Degraded",
    SiteState.EDITORS_BLOCKED: "Editors blocked",
    SiteState.DOWN: "Down",
    SiteState.UNKNOWN: "Unknown",
    SiteState.ASLEEP: "Asleep",
}
_OVERALL_LABELS: dict[OverallState, str] = {
    OverallState.OPERATIONAL: "Operational",
    OverallState.MAINTENANCE: "Maintenance",
    OverallState.DEGRADED: "Degraded",
    OverallState.EDITORS_BLOCKED: "Editors blocked",
    OverallState.DOWN: "Down",
    OverallState.UNKNOWN: "Unknown",
}
_PLATFORM_LABELS: dict[PlatformState, str] = {
    PlatformState.OPERATIONAL: "Operational",
    PlatformState.MAINTENANCE: "Maintenance",
    PlatformState.DEGRADED: "Degraded",
    PlatformState.OUTAGE: "Outage",
    PlatformState.UNKNOWN: "Unknown",
}


class PointOfFailure(StrEnum):
    NONE = "none"
    SITE = "site"
    PLATFORM = "platform"
    NETWORK = "network"


class PlatformEvidence(StrEnum):
    """Why a failing site's point of failure is the platform."""

    STATUS_PAGE = "status_page"  # the status page reports trouble
    ERROR_PAGE = "error_page"  # a platform-side page from Pantheon's catalogue
    CORRELATED = "correlated"  # several watched sites fail alike in the same round


class ErrorKind(StrEnum):
    TIMEOUT = "timeout"
    REFUSED = "refused"
    DNS = "dns"
    TLS = "tls"
    REDIRECTS = "redirects"
    PROTOCOL = "protocol"
    HTTP = "http"
    CONTENT = "content"  # an answer that looks fine (a 200) but shows a broken page


# Errors that say "the connection itself failed": what every probe shows when the
# user's own network is gone (as opposed to a server that answered badly).
CONNECTION_ERRORS = frozenset({ErrorKind.TIMEOUT, ErrorKind.REFUSED, ErrorKind.DNS})


class ProbeKind(StrEnum):
    ANONYMOUS = "anonymous"
    BACKEND = "backend"


class CacheVerdict(StrEnum):
    HIT = "hit"
    MISS = "miss"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProbeResult:
    kind: ProbeKind
    url: str  # the URL requested
    final_url: str  # after redirects
    ok: bool
    status: int | None = None
    seconds: float = 0.0
    cache: CacheVerdict = CacheVerdict.UNKNOWN
    cache_headers: dict[str, str] = field(default_factory=dict)  # Age, X-Cache, ...
    request_id: str | None = None  # X-Styx-Req-Id, else Pantheon-Trace-Id
    styx_hostname: str | None = None  # X-Pantheon-Styx-Hostname
    error: ErrorKind | None = None
    detail: str = ""  # one line, e.g. "503 Database not Responding"
    attempts: int = 1
    # https only: the served certificate's host and end of validity (ISO 8601, UTC);
    # days left is counted from the check's own clock (app.impact), not the probe's.
    cert_host: str | None = None
    cert_expires: str | None = None
    cert_days_left: int | None = None

    @property
    def connection_failed(self) -> bool:
        return self.error in CONNECTION_ERRORS


@dataclass(frozen=True)
class Incident:
    name: str
    impact: str  # none|minor|major|critical (unknown values kept as-is)
    status: str  # investigating|identified|monitoring|resolved|postmortem
    url: str  # shortlink, https only (else "")
    components: tuple[str, ...] = ()  # the components it names ([] on the page: all)
    counted: bool = True  # False: only components outside `[provider] components`


@dataclass(frozen=True)
class Maintenance:
    name: str
    status: str  # scheduled|in_progress|verifying|completed
    url: str
    scheduled_for: str | None = None
    scheduled_until: str | None = None
    components: tuple[str, ...] = ()
    ident: str = ""  # the page's id: which maintenance a notice was sent for
    counted: bool = True  # False: only components outside `[provider] components`


@dataclass(frozen=True)
class Component:
    name: str
    status: str  # operational|degraded_performance|partial_outage|major_outage|...
    counted: bool = True  # False: outside `[provider] components` (shown, not judged)


@dataclass(frozen=True)
class PlatformStatus:
    state: PlatformState
    indicator: str | None = None
    description: str = ""
    incidents: tuple[Incident, ...] = ()
    maintenances: tuple[Maintenance, ...] = ()
    components: tuple[Component, ...] = ()
    error: str | None = None  # why the state is unknown
    page_url: str = ""  # the human status page
    connection_failed: bool = False  # unreachable at the connection level (network hint)
    reason: str = ""  # the evidence that decided `state`, in words (app.statuspage)
    upcoming: tuple[Maintenance, ...] = ()  # status "scheduled", soonest first


@dataclass(frozen=True)
class SiteResult:
    name: str
    url: str
    environment: str
    state: SiteState
    point_of_failure: PointOfFailure
    reason: str  # one sentence a person can act on
    anonymous: ProbeResult
    backend: ProbeResult
    # Set only when point_of_failure is platform: what says so (see PlatformEvidence).
    platform_evidence: PlatformEvidence | None = None
    cache_hit_ratio_24h: float | None = None  # visitor checks served from cache; None: unknown


@dataclass(frozen=True)
class CheckReport:
    checked_at: datetime  # timezone-aware UTC
    overall: OverallState
    point_of_failure: PointOfFailure
    platform: PlatformStatus
    sites: tuple[SiteResult, ...]
    canaries_ok: bool | None = None  # None: no canaries configured
    duration: float = 0.0

    def site(self, name: str) -> SiteResult | None:
        return next((s for s in self.sites if s.name == name), None)


# Worst first. Used to pick the overall state and to sort menus.
SITE_SEVERITY: dict[SiteState, int] = {
    SiteState.DOWN: 5,
    SiteState.EDITORS_BLOCKED: 4,
    SiteState.DEGRADED: 3,
    SiteState.UNKNOWN: 2,
    SiteState.ASLEEP: 0,
    SiteState.OPERATIONAL: 0,
}

OVERALL_SEVERITY: dict[OverallState, int] = {
    OverallState.DOWN: 5,
    OverallState.EDITORS_BLOCKED: 4,
    OverallState.DEGRADED: 3,
    OverallState.UNKNOWN: 2,
    OverallState.MAINTENANCE: 1,
    OverallState.OPERATIONAL: 0,
}

# Nagios plugin convention, so `lifeline check` works as an Icinga/Nagios check.
EXIT_CODES: dict[OverallState, int] = {
    OverallState.OPERATIONAL: 0,
    OverallState.MAINTENANCE: 0,
    OverallState.DEGRADED: 1,
    OverallState.EDITORS_BLOCKED: 1,
    OverallState.DOWN: 2,
    OverallState.UNKNOWN: 3,
}
EXIT_USAGE = 3
