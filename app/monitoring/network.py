"""What a round says about the user's own network.

When every probe of a round fails at the connection level, the round looks wider (the
other sites, the canaries, the status page when it may be read) before it believes
anything: if nothing at all answers, the network is down and no site is blamed; if only
the sites fail and nothing fresh can cross-check them, the verdict is UNSURE, which keeps
a site pending but cannot confirm an outage.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from app.models import ProbeResult
from app.statuspage import StatusFetch

NETWORK_REASON = (
    "Nothing can be reached (no site, not the status page, no canary): "
    "check your own internet connection."
)

ProbePair = tuple[ProbeResult, ProbeResult]


class Verdict(Enum):
    UP = "up"  # something answered
    DOWN = "down"  # every site, the status page and every canary failed to connect
    UNSURE = "unsure"  # every site failed to connect; nothing fresh to cross-check
    NONE = "none"  # no site probed: nothing to judge


def all_unreachable(pairs: Iterable[ProbePair]) -> bool:
    return all(a.connection_failed and b.connection_failed for a, b in pairs)


def first_verdict(probes: dict[str, ProbePair], fetch: StatusFetch | None) -> Verdict | None:
    """The verdict from the due sites alone; None when the round must look wider."""
    if not probes:
        if fetch is not None and not fetch.status.connection_failed:
            return Verdict.UP
        return Verdict.NONE
    if not all_unreachable(probes.values()):
        return Verdict.UP
    return None


def wider_verdict(
    probes: dict[str, ProbePair], canaries_ok: bool | None, fetch: StatusFetch | None
) -> Verdict:
    """The verdict once every site, the canaries and (if it could be read) the status
    page were tried."""
    if not all_unreachable(probes.values()) or canaries_ok:
        return Verdict.UP
    if fetch is None:
        return Verdict.UNSURE
    if fetch.status.connection_failed:
        return Verdict.DOWN
    return Verdict.UP
