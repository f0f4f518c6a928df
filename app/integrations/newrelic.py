"""New Relic findings for a site: its slowest transactions and error rate, via NerdGraph.

Pantheon's runbook for a slow or failing site starts with New Relic's slowest
transactions; a ticket that carries them saves support a round trip. New Relic is
evidence, never a dependency: every call has a short total deadline, and
ticket_findings() returns {"error": why} instead of raising, so a ticket never waits
on it. The user API key travels only in the API-Key header; no redirect is followed.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2

from app import __version__
from app.config import Config, NewRelicConfig, SiteConfig
from app.config_rules import is_loopback
from app.credentials import ENV_OVERRIDES, NEWRELIC_KEY, CredentialError, CredentialStore
from app.redact import redact, register_secret
from app.text import exception_chain

T = TypeVar("T")

WINDOW_MINUTES = 30
TOP = 5
DEFAULT_DEADLINE = 3.0

# Two NRQL queries in one round trip (GraphQL aliases), passed as variables so an
# app name with quotes cannot break the GraphQL document.
GRAPHQL = """query LifelineFindings($account: Int!, $slowest: Nrql!, $errors: Nrql!) {
  actor {
    account(id: $account) {
      slowest: nrql(query: $slowest) { results }
      errors: nrql(query: $errors) { results }
    }
  }
}"""


class NewRelicError(Exception):
    """One line, safe to show and to put in a ticket (never contains the key)."""


@dataclass(frozen=True)
class SlowTransaction:
    name: str
    average_s: float
    p95_s: float | None
    count: int


@dataclass(frozen=True)
class Findings:
    app: str
    window_minutes: int
    slowest: tuple[SlowTransaction, ...]
    error_rate_percent: float | None  # None: no transactions in the window
    requests: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": "New Relic (NerdGraph)",
            "app": self.app,
            "window": f"last {self.window_minutes} minutes",
            "slowest_transactions": [asdict(t) for t in self.slowest],
            "error_rate_percent": self.error_rate_percent,
            "requests": self.requests,
        }


def nrql_string(value: str) -> str:
    """A single-quoted NRQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def slowest_query(app: str, *, minutes: int = WINDOW_MINUTES, top: int = TOP) -> str:
    # FACET results are ordered by the first function, so average(duration) comes first.
    return (
        "SELECT average(duration), percentile(duration, 95), count(*) FROM Transaction "
        f"WHERE appName = {nrql_string(app)} SINCE {minutes} minutes ago "
        f"FACET name LIMIT {top}"
    )


def errors_query(app: str, *, minutes: int = WINDOW_MINUTES) -> str:
    return (
        "SELECT percentage(count(*), WHERE error IS true) AS 'errorRate', "
        "count(*) AS 'requests' FROM Transaction "
        f"WHERE appName = {nrql_string(app)} SINCE {minutes} minutes ago"
    )


async def fetch_findings(
    settings: NewRelicConfig,
    app: str,
    api_key: str,
    *,
    deadline: float = DEFAULT_DEADLINE,
    verify: bool | Any = True,
) -> Findings:
    """Query NerdGraph; raises NewRelicError (one line) on any failure or past `deadline`."""
    if settings.account_id is None:
        raise NewRelicError("no New Relic account_id in the [newrelic] settings")
    if not app:
        raise NewRelicError("no New Relic app name (newrelic_app) for this site")
    register_secret(api_key)
    url = settings.graphql_url
    host = urlsplit(url).hostname or url
    payload = {
        "query": GRAPHQL,
        "variables": {
            "account": settings.account_id,
            "slowest": slowest_query(app),
            "errors": errors_query(app),
        },
    }
    try:
        async with asyncio.timeout(deadline):
            async with httpx2.AsyncClient(
                timeout=httpx2.Timeout(deadline),
                follow_redirects=False,
                verify=verify,
                trust_env=not is_loopback(host),  # the key never goes to a proxy for loopback
                headers={"User-Agent": f"lifeline/{__version__}"},
            ) as client:
                response = await client.post(
                    url,
                    json=payload,
                    headers={"API-Key": api_key, "Content-Type": "application/json"},
                )
                body = response.content
    except TimeoutError:
        raise NewRelicError(f"New Relic ({host}) did not answer within {deadline:g} s") from None
    except httpx2.TimeoutException:
        raise NewRelicError(f"New Relic ({host}) did not answer within {deadline:g} s") from None
    except httpx2.HTTPError as exc:
        raise NewRelicError(f"cannot reach New Relic at {host} ({_reason(exc)})") from None
    status = response.status_code
    if status in (401, 403):
        raise NewRelicError(
            f"New Relic rejected the API key (HTTP {status}); it needs a user key (NRAK-…)"
        )
    if 300 <= status < 400:
        raise NewRelicError(f"New Relic answered with a redirect (HTTP {status}), not followed")
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: found by fuzzing
        raise NewRelicError(
            f"unexpected answer from New Relic (HTTP {status}, not JSON)"
        ) from None
    if not isinstance(doc, dict):
        raise NewRelicError("unexpected answer from New Relic (not a JSON object)")
    errors = doc.get("errors")
    if isinstance(errors, list) and errors:
        raise NewRelicError(f"New Relic: {_first_error(errors)}")
    if status != 200:
        raise NewRelicError(f"New Relic answered HTTP {status}")
    return parse_findings(doc, app)


def parse_findings(doc: Mapping[str, Any], app: str) -> Findings:
    """Read NerdGraph's {"data": {"actor": {"account": {...}}}} answer. Raises NewRelicError."""
    account = _dig(doc, "data", "actor", "account")
    if not isinstance(account, dict):
        raise NewRelicError("unexpected answer from New Relic (no account data)")
    slow_rows = _dig(account, "slowest", "results")
    error_rows = _dig(account, "errors", "results")
    if not isinstance(slow_rows, list) or not isinstance(error_rows, list):
        raise NewRelicError("unexpected answer from New Relic (no NRQL results)")
    slowest: list[SlowTransaction] = []
    for row in slow_rows:
        if not isinstance(row, dict):
            continue
        name = row.get("name") or row.get("facet")
        if isinstance(name, list):
            name = " / ".join(str(part) for part in name)
        average = _number(row.get("average.duration"))
        if not isinstance(name, str) or average is None:
            continue
        slowest.append(
            SlowTransaction(
                name=name,
                average_s=round(average, 3),
                p95_s=_p95(row.get("percentile.duration")),
                count=int(_number(row.get("count")) or 0),
            )
        )
    slowest.sort(key=lambda t: t.average_s, reverse=True)
    rate: float | None = None
    requests: int | None = None
    if error_rows and isinstance(error_rows[0], dict):
        requests_value = _number(error_rows[0].get("requests"))
        requests = int(requests_value) if requests_value is not None else None
        rate_value = _number(error_rows[0].get("errorRate"))
        rate = round(rate_value, 2) if rate_value is not None and requests else None
    return Findings(
        app=app,
        window_minutes=WINDOW_MINUTES,
        slowest=tuple(slowest[:TOP]),
        error_rate_percent=rate,
        requests=requests,
    )


async def ticket_findings(
    config: Config, site: SiteConfig, store: CredentialStore, *, deadline: float = DEFAULT_DEADLINE
) -> dict[str, Any]:
    """The findings for a ticket's diagnostics, or {"error": why}. Never raises and never
    takes longer than `deadline` (the keyring read included)."""
    if not site.newrelic_app:
        return {"error": f"no New Relic app is set for {site.name} (newrelic_app)"}
    if config.newrelic.account_id is None:
        return {"error": "no New Relic account_id in the [newrelic] settings"}
    try:
        async with asyncio.timeout(deadline):
            # The keyring can block on an unlock prompt: off the loop, inside the deadline.
            key = await asyncio.to_thread(store.get, NEWRELIC_KEY)
            if not key:
                return {
                    "error": "no New Relic API key (save one in Settings or set "
                    f"{ENV_OVERRIDES[NEWRELIC_KEY]})"
                }
            # The outer timeout bounds the total; this one only has to be no shorter.
            findings = await fetch_findings(
                config.newrelic, site.newrelic_app, key, deadline=deadline
            )
    except TimeoutError:
        return {"error": f"New Relic did not answer within {deadline:g} s"}
    except CredentialError as exc:
        return {"error": redact(str(exc))}
    except NewRelicError as exc:
        return {"error": redact(str(exc))}
    return findings.as_dict()


async def alongside(
    work: Awaitable[T],
    config: Config,
    site: SiteConfig,
    store: CredentialStore,
    *,
    deadline: float = DEFAULT_DEADLINE,
) -> tuple[T, dict[str, Any] | None]:
    """Run `work` (a ticket's fresh check) and the New Relic query side by side.

    The findings are None when the site has no `newrelic_app` (nothing to say). As the
    query runs during the check and is bounded by `deadline`, New Relic adds no wait
    beyond that deadline to a ticket, and usually none at all.
    """
    if not site.newrelic_app:
        return await work, None
    result, findings = await asyncio.gather(
        work, ticket_findings(config, site, store, deadline=deadline)
    )
    return result, findings


def with_findings(
    diagnostics: Mapping[str, Any], findings: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The diagnostics block with a "newrelic" entry when there are findings (or why not)."""
    block = dict(diagnostics)
    if findings is not None:
        block["newrelic"] = dict(findings)
    return block


def findings_lines(findings: Mapping[str, Any]) -> list[str]:
    """Plain-text lines for a ticket body or a details window."""
    if "error" in findings:
        return [f"New Relic: not available ({findings['error']})"]
    lines = [f"New Relic, {findings.get('app', '')}, {findings.get('window', '')}:"]
    rate = findings.get("error_rate_percent")
    requests = findings.get("requests")
    if rate is not None:
        lines.append(f"  error rate {rate:g}% of {requests} requests")
    elif requests == 0:
        lines.append("  no transactions recorded")
    rows = findings.get("slowest_transactions") or []
    if rows:
        lines.append("  slowest transactions (average / 95th percentile, calls):")
    for row in rows:
        p95 = row.get("p95_s")
        p95_text = f"{p95:.2f} s" if isinstance(p95, int | float) else "?"
        lines.append(
            f"    {row.get('name')}: {row.get('average_s', 0):.2f} s / {p95_text}, "
            f"{row.get('count', 0)}"
        )
    return lines


# --------------------------------------------------------------------------- helpers


def _dig(doc: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _p95(value: Any) -> float | None:
    # NRQL answers percentile() as {"95": seconds}; accept a bare number too.
    if isinstance(value, dict):
        value = value.get("95") if "95" in value else next(iter(value.values()), None)
    number = _number(value)
    return round(number, 3) if number is not None else None


def _first_error(errors: list[Any]) -> str:
    first = errors[0]
    message = first.get("message") if isinstance(first, dict) else str(first)
    text = " ".join(str(message or "unknown error").split())
    if len(text) > 200:
        text = text[:199] + "…"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return redact(text) + more


def _reason(exc: BaseException) -> str:
    for current in exception_chain(exc):
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        name = type(current).__name__
        if "SSL" in name or "Certificate" in name:
            return "TLS failed"
    return type(exc).__name__
