"""The words of the Lifeline window's detail pane: a probe in one line, a transition in
one line. Plain text (app.presentation.plain), so nothing from a server is markup."""

from __future__ import annotations

from datetime import datetime

from app.history import Transition
from app.models import CacheVerdict, ProbeResult
from app.presentation import plain

PROBE_NAMES = {"anonymous": "Visitor", "backend": "Editor (origin)"}


def probe_line(probe: ProbeResult) -> str:
    """'Visitor: 200 in 0.21 s, cache hit, request id abc, certificate 54 days'."""
    parts = [f"{probe.status}" if probe.status is not None else "no answer"]
    parts[0] += f" in {probe.seconds:.2f} s"
    if probe.error is not None:
        parts.append(f"{probe.error.value} error")
    if probe.detail:
        parts.append(probe.detail)
    if probe.cache is not CacheVerdict.UNKNOWN:
        parts.append(f"cache {probe.cache.value}")
    if probe.request_id:
        parts.append(f"request id {probe.request_id}")
    if probe.cert_days_left is not None:
        parts.append(f"certificate {probe.cert_days_left} days")
    return plain(f"{PROBE_NAMES.get(probe.kind.value, probe.kind.value)}: " + ", ".join(parts), 240)


def transition_line(t: Transition) -> str:
    """'Sun 29 Nov 14:02  operational → down: 503 from the origin'."""
    when = t.at.astimezone().strftime("%a %d %b %H:%M")
    before = t.previous or "start"
    flap = " (flapping)" if t.flapping else ""
    reason = f": {t.reason}" if t.reason else ""
    return plain(f"{when}  {before} \u2192 {t.state}{flap}{reason}", 240)


def since_line(at: datetime | None) -> str:
    return "" if at is None else f"since {at.astimezone().strftime('%a %d %b %H:%M')}"
