"""Merge sites offered by a hosting account into a Config. Pure: no I/O.

The rules an import promises the user: sites already in the config (matched by URL)
are left exactly as they are, nothing is ever removed or edited, and every added site
gets a name no other site has. The caller writes the result (save_config, atomic).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from app.config import Config, SiteConfig, validate_url


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
    cleaned = _WHITESPACE.sub(" ", name).strip()
    return cleaned or fallback


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
            continue
        name = unique_name(label, taken)
        site = SiteConfig(
            name=name,
            url=url,
            backend_url=backend,
            environment=candidate.environment or "live",
            dashboard_url=dashboard,
        )
        added.append(site)
        taken.add(name.casefold())
        by_url[key] = name
    new_config = replace(config, sites=(*config.sites, *added))
    return ImportPlan(
        config=new_config, added=tuple(added), present=tuple(present), invalid=tuple(invalid)
    )
