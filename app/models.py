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


class OverallState(StrEnum):
    OPERATIONAL = "operational"
    MAINTENANCE = "maintenance"
    DEGRADED = "degraded"
    EDITORS_BLOCKED = "editors_blocked"
    DOWN = "down"
    UNKNOWN = "unknown"


class PlatformState(StrEnum):
    OPERATIONAL = "operational"
    MAINTENANCE = "maintenance"
    DEGRADED = "degraded"
    OUTAGE = "outage"
    UNKNOWN = "unknown"


class PointOfFailure(StrEnum):
    NONE = "none"
    SITE = "site"
    PLATFORM = "platform"
    NETWORK = "network"


class ErrorKind(StrEnum):
    TIMEOUT = "timeout"
    REFUSED = "refused"
    DNS = "dns"
    TLS = "tls"
    REDIRECTS = "redirects"
    PROTOCOL = "protocol"
    HTTP = "http"


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

    @property
    def connection_failed(self) -> bool:
        return self.error in CONNECTION_ERRORS


@dataclass(frozen=True)
class Incident:
    name: str
    impact: str  # none|minor|major|critical (unknown values kept as-is)
    status: str  # investigating|identified|monitoring|resolved|postmortem
    url: str  # shortlink, https only (else "")


@dataclass(frozen=True)
class Maintenance:
    name: str
    status: str  # scheduled|in_progress|verifying|completed
    url: str
    scheduled_for: str | None = None
    scheduled_until: str | None = None


@dataclass(frozen=True)
class Component:
    name: str
    status: str  # operational|degraded_performance|partial_outage|major_outage|...


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
