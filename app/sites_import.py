"""Merge sites offered by a hosting account into a Config. Pure: no I/O.

The rules an import promises the user: sites already in the config (matched by URL)
are never renamed, moved or removed; the only change to one is filling its `group` or
`pantheon_site_id` when that is still empty (a re-run after the config predates groups);
every added site gets a name no other site has. The caller writes the result
(save_config, atomic).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from app.config import Config, SiteConfig, validate_url
from app.config_rules import optional_uuid
from app.printable import printable


@dataclass(frozen=True)
class ImportCandidate:
    """A site as a hosting account describes it, before it becomes a [[site]]."""

    name: str
    url: str
    backend_url: str = ""
    environment: str = "live"
    dashboard_url: str = ""
    framework: str = ""
    source_id: str = ""  # the host's id for the site (Pantheon: its UUID)
    group: str = ""  # the client it belongs to (Pantheon: its organisation, or "Personal")


@dataclass(frozen=True)
class SkippedSite:
    """A site the account has that will not be imported, and why (one phrase)."""

    name: str
    why: str


@dataclass(frozen=True)
class ImportPlan:
    config: Config  # the config with the new sites appended
    added: tuple[SiteConfig, ...]
    present: tuple[tuple[ImportCandidate, str], ...]  # (candidate, name it has already)
    invalid: tuple[SkippedSite, ...]  # candidates whose URL we could not accept
    filled: tuple[SiteConfig, ...] = ()  # present sites given an empty group or site id

    @property
    def changed(self) -> bool:
        """Whether the config differs from the one planned against (so it must be written)."""
        return bool(self.added or self.filled)


def normalise_url(url: str) -> str:
    """The form two URLs are compared in: host lower-cased, default port, scheme and a
    trailing slash ignored (http://Example.com/ and https://example.com are one site)."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError:
        return url.strip().lower()
    scheme = parts.scheme.lower()
    if port is not None and not (
        (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    ):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{path}{query}"


_WHITESPACE = re.compile(r"\s+")


def _clean_name(name: str, fallback: str) -> str:
    return _one_line(name) or fallback


def unique_name(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted (2)`, `wanted (3)`... whichever is free (case-insensitive)."""
    if wanted.casefold() not in taken:
        return wanted
    n = 2
    while f"{wanted} ({n})".casefold() in taken:
        n += 1
    return f"{wanted} ({n})"


def plan_import(config: Config, candidates: Sequence[ImportCandidate]) -> ImportPlan:
    """What importing `candidates` into `config` adds, and the config that results."""
    by_url = {normalise_url(site.url): site.name for site in config.sites}
    sites = {site.name: site for site in config.sites}  # present ones, maybe completed
    taken = {site.name.casefold() for site in config.sites}
    added: list[SiteConfig] = []
    present: list[tuple[ImportCandidate, str]] = []
    invalid: list[SkippedSite] = []
    for candidate in candidates:
        label = _clean_name(candidate.name, fallback=candidate.url)
        try:
            url = validate_url(candidate.url)
            backend = validate_url(candidate.backend_url, allow_empty=True)
            dashboard = validate_url(candidate.dashboard_url, allow_empty=True)
        except ValueError as exc:
            invalid.append(SkippedSite(label, f"not importable ({exc})"))
            continue
        key = normalise_url(url)
        if key in by_url:
            present.append((candidate, by_url[key]))
            existing = sites.get(by_url[key])  # None: added by this import already
            if existing is not None:
                sites[existing.name] = _fill_empty(existing, candidate)
            continue
        name = unique_name(label, taken)
        site = SiteConfig(
            name=name,
            url=url,
            backend_url=backend,
            environment=candidate.environment or "live",
            dashboard_url=dashboard,
            group=_one_line(candidate.group),
            pantheon_site_id=_site_id(candidate.source_id),
        )
        added.append(site)
        taken.add(name.casefold())
        by_url[key] = name
    originals = {site.name: site for site in config.sites}
    filled = tuple(site for site in sites.values() if site != originals[site.name])
    kept = tuple(sites[site.name] for site in config.sites)
    new_config = replace(config, sites=(*kept, *added))
    return ImportPlan(
        config=new_config,
        added=tuple(added),
        present=tuple(present),
        invalid=tuple(invalid),
        filled=filled,
    )


def _one_line(text: str) -> str:
    """A label from the account as the config's rules take it: one line, no control
    character (they would be refused there, and the whole import with them)."""
    return _WHITESPACE.sub(" ", printable(text)).strip()


def _site_id(source_id: str) -> str:
    try:
        return optional_uuid(source_id)
    except ValueError:
        return ""  # another host's id form: not a Pantheon site id


def _fill_empty(site: SiteConfig, candidate: ImportCandidate) -> SiteConfig:
    """`site` with its group and Pantheon site id taken from the account where empty;
    nothing the user set is changed."""
    group = site.group or _one_line(candidate.group)
    site_id = site.pantheon_site_id or _site_id(candidate.source_id)
    return replace(site, group=group, pantheon_site_id=site_id)
