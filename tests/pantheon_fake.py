"""A fake of the Terminus API on a real loopback server, with the documented shapes.

Shapes as Pantheon's Terminus CLI reads them (pantheon-systems/terminus: the machine
token login answers {session, user_id, expires_at}; users/{id}/memberships/sites is a
JSON list of memberships, each with the site nested under "site", paged with
limit/start=<last id>; sites/{id}/environments is an object keyed by environment id
with "initialized"; .../domains is a list of {id, type: custom|platform, primary, ...}).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import Hang, LoopbackServer, Reply, Request

SESSION = "sess-9f8e7d6c5b4a-SECRET-SESSION"
USER_ID = "0f1e2d3c-aaaa-bbbb-cccc-123456789abc"


@dataclass
class FakeSite:
    name: str
    framework: str = "drupal9"
    label: str = ""
    frozen: bool = False
    live: bool = True  # has a Live environment at all
    initialized: bool = True
    custom: tuple[str, ...] = ()  # custom domains on Live
    primary: int = 0  # which custom domain is the primary one
    id: str = ""

    def as_site(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "label": self.label or self.name.replace("-", " ").title(),
            "created": 1700000000,
            "framework": self.framework,
            "organization": "",
            "service_level": "basic",
            "plan_name": "Basic",
            "upstream": {"label": "Drupal", "product_id": "upstream-id"},
            "php_version": "83",
            "holder_type": "user",
            "holder_id": USER_ID,
            "owner": USER_ID,
            "frozen": self.frozen,
            "is_frozen": self.frozen,
            "preferred_zone": "us-central1",
        }


@dataclass
class FakeOrganization:
    """An organisation (workspace) the user belongs to, with its sites."""

    name: str
    sites: list[FakeSite] = field(default_factory=list)
    id: str = ""

    def as_membership(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": "team_member",
            "user_id": USER_ID,
            "organization_id": self.id,
            "organization": {
                "id": self.id,
                "profile": {"name": self.name,
                            "machine_name": self.name.lower().replace(" ", "-")},
            },
        }


@dataclass
class PantheonFake:
    server: LoopbackServer
    token: str
    sites: list[FakeSite] = field(default_factory=list)  # the user's own memberships
    organizations: list[FakeOrganization] = field(default_factory=list)
    hang: bool = False
    broken: str = ""  # "login", "memberships", "environments", "domains": answer garbage
    pages_served: int = 0

    def __post_init__(self) -> None:
        for n, site in enumerate(self.sites):
            site.id = site.id or f"{n:08d}-0000-4000-8000-{n:012d}"
        for o, org in enumerate(self.organizations):
            org.id = org.id or f"{o:08d}-0000-4000-9000-{o:012d}"
            for n, site in enumerate(org.sites):
                site.id = site.id or f"{o:04d}{n:04d}-1111-4000-8000-{n:012d}"
        self.requests: list[str] = []
        self.server.route("*", self._handle)

    def all_sites(self) -> list[FakeSite]:
        every = {s.id: s for s in self.sites}
        for org in self.organizations:
            every.update({s.id: s for s in org.sites})
        return list(every.values())

    @property
    def api(self) -> str:
        return self.server.url

    def _handle(self, req: Request) -> Reply | Hang:
        if self.hang:
            return Hang()
        parts = urlsplit(req.path)
        path, query = parts.path, parse_qs(parts.query)
        self.requests.append(path)
        if path == "/authorize/machine-token" and req.method == "POST":
            return self._login(req)
        if req.headers.get("Authorization") != f"Bearer {SESSION}":
            return Reply.json({"message": "Unauthorized"}, status=401)
        if path == f"/users/{USER_ID}/memberships/sites":
            return self._memberships(query)
        if path == f"/users/{USER_ID}/memberships/organizations":
            orgs = [(o.id, o.as_membership()) for o in self.organizations]
            return Reply.json(_page(orgs, query))
        match = re.fullmatch(r"/organizations/([^/]+)/memberships/sites", path)
        if match:
            org = next((o for o in self.organizations if o.id == match.group(1)), None)
            if org is None:
                return Reply.json({"message": "Not found"}, status=404)
            self.pages_served += 1
            entries = [(s.id, {"id": s.id, "organization_id": org.id, "site": s.as_site()})
                       for s in org.sites]
            return Reply.json(_page(entries, query))
        match = re.fullmatch(r"/sites/([^/]+)/environments(/live/domains)?", path)
        if match:
            site = next((s for s in self.all_sites() if s.id == match.group(1)), None)
            if site is None:
                return Reply.json({"message": "Not found"}, status=404)
            return self._domains(site) if match.group(2) else self._environments(site)
        return Reply.json({"message": "Not found"}, status=404)

    def _login(self, req: Request) -> Reply:
        if self.broken == "login":
            return Reply(200, "<html>maintenance</html>")
        body = req.json()
        if body.get("machine_token") != self.token or body.get("client") != "lifeline":
            return Reply.json({"message": "Invalid machine token"}, status=401)
        return Reply.json(
            {"session": SESSION, "user_id": USER_ID, "expires_at": int(time.time()) + 3600}
        )

    def _memberships(self, query: dict[str, list[str]]) -> Reply:
        self.pages_served += 1
        if self.broken == "memberships":
            return Reply.json({"unexpected": True})
        limit = int(query.get("limit", ["100"])[0])
        start = query.get("start", [""])[0]
        ordered = sorted(self.sites, key=lambda s: s.id)
        if start:
            ordered = [s for s in ordered if s.id > start]
        page = ordered[:limit]
        return Reply.json(
            [
                {"id": s.id, "role": "team_member", "user_id": USER_ID, "site": s.as_site()}
                for s in page
            ]
        )

    def _environments(self, site: FakeSite) -> Reply:
        if self.broken == "environments":
            return Reply(200, "not json")
        envs: dict[str, Any] = {
            "dev": {"id": "dev", "initialized": True, "on_server_development": False},
            "test": {"id": "test", "initialized": site.initialized},
        }
        if site.live:
            envs["live"] = {"id": "live", "initialized": site.initialized, "locked": False}
        return Reply.json(envs)

    def _domains(self, site: FakeSite) -> Reply:
        if self.broken == "domains":
            return Reply.json({"not": "a list"})
        domains = [
            {
                "id": f"live-{site.name}.pantheonsite.io",
                "type": "platform",
                "status": "ok",
                "deletable": False,
                "primary": False,
            }
        ]
        for n, host in enumerate(site.custom):
            domains.append(
                {"id": host, "type": "custom", "status": "ok", "deletable": True,
                 "primary": n == site.primary}
            )
        return Reply.json(domains)


def _page(entries: list[tuple[str, dict[str, Any]]], query: dict[str, list[str]]) -> list[Any]:
    """Terminus paging: sorted by id, `limit` per page, `start` = the last id seen."""
    limit = int(query.get("limit", ["100"])[0])
    start = query.get("start", [""])[0]
    ordered = sorted(entries, key=lambda e: e[0])
    if start:
        ordered = [e for e in ordered if e[0] > start]
    return [entry for _, entry in ordered[:limit]]
