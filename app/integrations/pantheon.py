"""List the live sites of a Pantheon account (the API Pantheon's Terminus CLI uses).

Flow: trade the machine token for a session (POST authorize/machine-token), list the
user's own site memberships and, as Terminus does, the sites of every organisation the
user belongs to (each collection paged by `start=<last id>`; each site once, grouped
under its organisation's name or "Personal"), then for each site read its environments
(is Live initialised?) and Live's domains (custom ones preferred).

The importer only needs `SiteSource.list_sites()`; Pantheon's newer public API (v1,
personal access tokens) can replace TerminusClient behind that Protocol.

Secrets: the machine token travels only in a POST body, the session only in the
Authorization header; both are registered with app.redact, no request follows a
redirect (it could carry the header elsewhere), and no message includes either.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import httpx2

from app import __version__
from app.config import DEFAULT_DASHBOARD
from app.config_rules import is_loopback
from app.redact import register_secret
from app.sites_import import ImportCandidate, SkippedSite
from app.text import exception_chain

PAGE_SIZE = 100
MAX_PAGES = 200  # 20,000 sites: a runaway pager stops here instead of looping forever
REQUEST_TIMEOUT = 15.0
TOTAL_DEADLINE = 120.0
CONCURRENCY = 8
PERSONAL_GROUP = "Personal"  # the group of the sites the user is a direct member of


class ApiErrorKind(StrEnum):
    TOKEN = "token"  # the machine token was rejected
    UNREACHABLE = "unreachable"  # no answer (refused, DNS, timeout, 5xx)
    UNEXPECTED = "unexpected"  # an answer we cannot read


class PantheonApiError(Exception):
    """One line a person can act on; never contains the token or session."""

    def __init__(self, kind: ApiErrorKind, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class AccountListing:
    sites: tuple[ImportCandidate, ...]
    skipped: tuple[SkippedSite, ...]


class SiteSource(Protocol):
    """Anything that can list an account's sites for import."""

    async def list_sites(self) -> AccountListing: ...


def _nested(item: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A membership's object (its `site` or `organization`), or the entry itself."""
    nested = item.get(key)
    return nested if isinstance(nested, dict) else item


def backend_path(framework: str) -> str:
    """Where editors log in, by Pantheon's framework name ('' when we cannot tell)."""
    framework = framework.lower()
    if framework.startswith("drupal"):
        return "/user/login"
    if framework.startswith("wordpress"):
        return "/wp-login.php"
    return ""


def choose_domain(domains: list[Mapping[str, Any]], site_name: str) -> str:
    """Live's address for visitors: the primary custom domain, else the first custom
    one, else the platform domain (live-<name>.pantheonsite.io)."""
    custom = [
        d for d in domains
        if d.get("type") == "custom" and _is_hostname(d.get("id") or d.get("domain"))
    ]
    primary = [d for d in custom if d.get("primary") is True]
    for pick in (primary, custom):
        if pick:
            return str(pick[0].get("id") or pick[0].get("domain"))
    for d in domains:
        host = d.get("id") or d.get("domain")
        if d.get("type") == "platform" and _is_hostname(host):
            return str(host)
    return f"live-{site_name}.pantheonsite.io"


def _is_hostname(value: Any) -> bool:
    return (
        isinstance(value, str)
        and bool(value)
        and "*" not in value
        and not any(ch.isspace() or ch in "/@?#" for ch in value)
    )


class TerminusClient:
    """The Terminus API (https://terminus.pantheon.io/api by default)."""

    def __init__(
        self,
        api: str,
        machine_token: str,
        *,
        dashboard: str = DEFAULT_DASHBOARD,
        page_size: int = PAGE_SIZE,
        request_timeout: float = REQUEST_TIMEOUT,
        deadline: float = TOTAL_DEADLINE,
        verify: bool | Any = True,
    ) -> None:
        self._api = api.rstrip("/")
        self._token = machine_token.strip()
        register_secret(self._token)
        self._dashboard = dashboard.rstrip("/")
        self._page_size = page_size
        self._request_timeout = request_timeout
        self._deadline = deadline
        self._verify = verify
        self._host = urlsplit(self._api).hostname or self._api

    async def list_sites(self) -> AccountListing:
        try:
            async with asyncio.timeout(self._deadline):
                return await self._list_sites()
        except TimeoutError:
            raise PantheonApiError(
                ApiErrorKind.UNREACHABLE,
                f"the Pantheon API at {self._host} did not finish answering within "
                f"{self._deadline:g} s",
            ) from None

    async def _list_sites(self) -> AccountListing:
        async with httpx2.AsyncClient(
            timeout=httpx2.Timeout(self._request_timeout),
            follow_redirects=False,
            verify=self._verify,
            # The session token never goes to a proxy when the API is on this machine.
            trust_env=not is_loopback(self._host),
            headers={"User-Agent": f"lifeline/{__version__}"},
        ) as client:
            session, user_id = await self._authorize(client)
            auth = {"Authorization": f"Bearer {session}"}
            memberships = await self._memberships(client, auth, user_id)
            gate = asyncio.Semaphore(CONCURRENCY)

            async def one(site: Mapping[str, Any], group: str) -> ImportCandidate | SkippedSite:
                async with gate:
                    return await self._site(client, auth, site, group)

            results = await asyncio.gather(*(one(site, group) for site, group in memberships))
        sites = tuple(r for r in results if isinstance(r, ImportCandidate))
        skipped = tuple(r for r in results if isinstance(r, SkippedSite))
        return AccountListing(sites=sites, skipped=skipped)

    # -- steps ----------------------------------------------------------------------

    async def _authorize(self, client: httpx2.AsyncClient) -> tuple[str, str]:
        if not self._token:
            raise PantheonApiError(ApiErrorKind.TOKEN, "the Pantheon machine token is empty")
        answer = await self._request(
            client,
            "POST",
            "/authorize/machine-token",
            body={"machine_token": self._token, "client": "lifeline"},
            what="signing in",
        )
        if not isinstance(answer, dict):
            raise self._unexpected("signing in", "not a JSON object")
        session, user_id = answer.get("session"), answer.get("user_id")
        if not isinstance(session, str) or not session:
            raise self._unexpected("signing in", "no session in the answer")
        if not isinstance(user_id, str) or not user_id:
            raise self._unexpected("signing in", "no user_id in the answer")
        register_secret(session)
        return session, user_id

    async def _memberships(
        self, client: httpx2.AsyncClient, auth: dict[str, str], user_id: str
    ) -> list[tuple[Mapping[str, Any], str]]:
        """Every site the user can reach, once each, with the group it is listed under:
        the organisation's name for an organisation's site (most of an agency's client
        sites are reached only that way, as Terminus does it), else PERSONAL_GROUP."""
        user = quote(user_id, safe="")
        found: dict[str, tuple[Mapping[str, Any], str]] = {}
        for item in await self._paged(
            client, auth, f"/users/{user}/memberships/sites", "listing your sites"
        ):
            site = _nested(item, "site")
            found.setdefault(str(site.get("id") or item["id"]), (site, PERSONAL_GROUP))
        organisations = await self._paged(
            client, auth, f"/users/{user}/memberships/organizations",
            "listing your organisations",
        )
        for item in organisations:
            org = _nested(item, "organization")
            org_id = org.get("id")
            if not isinstance(org_id, str) or not org_id:
                raise self._unexpected("listing your organisations", "an entry without an id")
            profile = org.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            group = " ".join(name.split()) if isinstance(name, str) and name.strip() else org_id
            sites = await self._paged(
                client, auth, f"/organizations/{quote(org_id, safe='')}/memberships/sites",
                f"listing the sites of {group}",
            )
            for entry in sites:
                site = _nested(entry, "site")
                key = str(site.get("id") or entry["id"])
                # A client's site the user is also a direct member of belongs to the client.
                if key not in found or found[key][1] == PERSONAL_GROUP:
                    found[key] = (site, group)
        return list(found.values())

    async def _paged(
        self, client: httpx2.AsyncClient, auth: dict[str, str], path: str, what: str
    ) -> list[dict[str, Any]]:
        """A Terminus collection: `limit` per page, `start` = the last id seen; a short
        page (or one with nothing new) ends it."""
        items: dict[str, dict[str, Any]] = {}
        start: str | None = None
        for _ in range(MAX_PAGES):
            params = {"limit": str(self._page_size)}
            if start:
                params["start"] = start
            page = await self._request(
                client, "GET", path, headers=auth, params=params, what=what
            )
            if not isinstance(page, list):
                raise self._unexpected(what, "not a JSON list")
            new = 0
            for item in page:
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    raise self._unexpected(what, "an entry without an id")
                if item["id"] not in items:
                    items[item["id"]] = item
                    new += 1
            if len(page) < self._page_size or new == 0:
                break
            start = str(page[-1]["id"])
        return list(items.values())

    async def _site(
        self,
        client: httpx2.AsyncClient,
        auth: dict[str, str],
        site: Mapping[str, Any],
        group: str,
    ) -> ImportCandidate | SkippedSite:
        site_id = site.get("id")
        name = site.get("name")
        if not isinstance(site_id, str) or not isinstance(name, str) or not name:
            return SkippedSite(str(name or site_id or "?"), "the API gave no site name or id")
        label = site.get("label") if isinstance(site.get("label"), str) else ""
        shown = str(label or name)
        if site.get("frozen") is True or site.get("is_frozen") is True:
            return SkippedSite(shown, "the site is frozen")
        base = f"/sites/{quote(site_id, safe='')}"
        try:
            envs = await self._request(
                client, "GET", f"{base}/environments", headers=auth, what=f"reading {name}"
            )
            if not isinstance(envs, dict):
                return SkippedSite(shown, "unexpected answer for its environments")
            live = envs.get("live")
            if not isinstance(live, dict):
                return SkippedSite(shown, "it has no Live environment")
            if live.get("initialized") is False:
                return SkippedSite(shown, "its Live environment is not initialised yet")
            domains = await self._request(
                client,
                "GET",
                f"{base}/environments/live/domains",
                headers=auth,
                what=f"reading {name}'s domains",
            )
        except PantheonApiError as exc:
            if exc.kind is ApiErrorKind.UNEXPECTED:
                return SkippedSite(shown, exc.message)
            raise
        if not isinstance(domains, list):
            return SkippedSite(shown, "unexpected answer for its domains")
        host = choose_domain([d for d in domains if isinstance(d, dict)], name)
        framework = str(site.get("framework") or "")
        path = backend_path(framework)
        url = f"https://{host}/"
        return ImportCandidate(
            name=shown,
            url=url,
            backend_url=f"https://{host}{path}" if path else "",
            environment="live",
            dashboard_url=f"{self._dashboard}/sites/{site_id}#live",
            framework=framework,
            source_id=site_id,
            group=group,
        )

    # -- transport ----------------------------------------------------------------------

    async def _request(
        self,
        client: httpx2.AsyncClient,
        method: str,
        path: str,
        *,
        what: str,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        url = f"{self._api}{path}"
        try:
            response = await client.request(
                method, url, headers=headers, params=params, json=body
            )
        except httpx2.TimeoutException:
            raise PantheonApiError(
                ApiErrorKind.UNREACHABLE,
                f"the Pantheon API at {self._host} did not answer within "
                f"{self._request_timeout:g} s ({what})",
            ) from None
        except httpx2.ConnectError as exc:
            raise PantheonApiError(
                ApiErrorKind.UNREACHABLE,
                f"cannot reach the Pantheon API at {self._host} ({_connect_reason(exc)})",
            ) from None
        except httpx2.HTTPError as exc:
            raise PantheonApiError(
                ApiErrorKind.UNREACHABLE,
                f"the connection to the Pantheon API at {self._host} failed "
                f"({type(exc).__name__}, {what})",
            ) from None
        status = response.status_code
        if status in (401, 403):
            if path == "/authorize/machine-token":
                raise PantheonApiError(
                    ApiErrorKind.TOKEN,
                    f"Pantheon rejected the machine token (HTTP {status}); create a new one "
                    "in the Pantheon dashboard under Personal Settings > Machine Tokens",
                )
            raise PantheonApiError(
                ApiErrorKind.TOKEN,
                f"Pantheon refused access while {what} (HTTP {status}); check that the "
                "machine token belongs to the right account",
            )
        if 300 <= status < 400:
            raise self._unexpected(what, f"a redirect (HTTP {status}), not followed")
        if status == 404 and what.startswith("reading "):
            raise self._unexpected(what, "not found (HTTP 404)")
        if status >= 500:
            raise PantheonApiError(
                ApiErrorKind.UNREACHABLE,
                f"the Pantheon API at {self._host} is having trouble (HTTP {status}, {what})",
            )
        if status != 200:
            raise self._unexpected(what, f"HTTP {status}")
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            raise self._unexpected(what, "not JSON") from None

    def _unexpected(self, what: str, detail: str) -> PantheonApiError:
        return PantheonApiError(
            ApiErrorKind.UNEXPECTED,
            f"unexpected answer from the Pantheon API at {self._host} while {what}: {detail}",
        )


def _connect_reason(exc: BaseException) -> str:
    # httpx2 wraps the socket error a few levels down; the innermost one says why.
    for current in exception_chain(exc):
        if isinstance(current, ssl.SSLError):
            return "TLS certificate not trusted" if isinstance(
                current, ssl.SSLCertVerificationError
            ) else "TLS failed"
        if isinstance(current, socket.gaierror):
            return "host name not found"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
    return "connection failed"
