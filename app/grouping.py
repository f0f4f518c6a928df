"""Sites by group, and the words for silenced sites: what the tray menu shows of
`[[site]] group`, snoozes and maintenance windows. Pure and Qt-free.

Groups are listed worst first (then by name); a group's title is its name with the
counts of its states, "Client A: 1 down, 11 ok", silenced sites counted apart and
listed after the others. Sites
without a group stay at the top level. The group comes from the config (the snapshot
may predate a change of it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.config import Config
from app.events import MonitorSnapshot, SiteStatus
from app.models import SITE_SEVERITY, SiteState


@dataclass(frozen=True)
class Group:
    name: str
    sites: tuple[SiteStatus, ...]  # in menu order

    @property
    def worst(self) -> SiteState:
        """The worst state among its sites nobody silenced (operational if none)."""
        heard = [s.state for s in self.sites if s.silenced is None]
        return max(heard, key=lambda s: SITE_SEVERITY[s], default=SiteState.OPERATIONAL)

    @property
    def pending(self) -> bool:
        return any(s.pending and s.silenced is None for s in self.sites)

    @property
    def title(self) -> str:
        return f"{self.name}: {counts_text(self.sites)}"


def counts_text(sites: Iterable[SiteStatus]) -> str:
    """"1 down, 1 editors blocked, 11 ok, 1 snoozed, 2 in maintenance": worst first,
    silenced sites counted apart whatever their state."""
    counts: dict[str, int] = {}
    order: dict[str, int] = {}
    quiet = {"snooze": 0, "maintenance": 0}
    for site in sites:
        if site.silenced is not None:
            quiet[site.silenced] = quiet.get(site.silenced, 0) + 1
            continue
        word = "ok" if site.state.is_good else site.state.label.lower()
        counts[word] = counts.get(word, 0) + 1
        order[word] = -SITE_SEVERITY[site.state]
    parts = [f"{n} {word}" for word, n in sorted(counts.items(), key=lambda i: order[i[0]])]
    if quiet["snooze"]:
        parts.append(f"{quiet['snooze']} snoozed")
    if quiet["maintenance"]:
        parts.append(f"{quiet['maintenance']} in maintenance")
    return ", ".join(parts) or "no sites"


def menu_groups(
    snapshot: MonitorSnapshot, config: Config, key: Callable[[SiteStatus], Any]
) -> tuple[list[Group], list[SiteStatus]]:
    """The groups (worst first, then by name) and the ungrouped sites, each sorted by
    `key` (app.presentation.site_sort_key)."""
    group_of = {s.name: s.group for s in config.sites}
    members: dict[str, list[SiteStatus]] = {}
    loose: list[SiteStatus] = []
    for site in snapshot.sites:
        group = group_of.get(site.name, site.group)
        if group:
            members.setdefault(group, []).append(site)
        else:
            loose.append(site)
    def order(site: SiteStatus) -> tuple[bool, Any]:
        return site.silenced is not None, key(site)  # silenced ones after the others

    groups = [Group(name, tuple(sorted(sites, key=order))) for name, sites in members.items()]
    groups.sort(key=lambda g: (-SITE_SEVERITY[g.worst], g.name.casefold()))
    return groups, sorted(loose, key=order)


def menu_order(groups: Sequence[Group], loose: Sequence[SiteStatus]) -> list[str]:
    """Every site name in the order the menu shows them."""
    return [s.name for g in groups for s in g.sites] + [s.name for s in loose]


def silence_text(site: SiteStatus, now: datetime | None = None) -> str:
    """"in maintenance until 23:30", "snoozed until 09:00" ('' when not silenced); with
    `now`, the date too when the end is not today."""
    if site.silenced is None:
        return ""
    word = "in maintenance" if site.silenced == "maintenance" else "snoozed"
    if site.silenced_until is None:
        return word
    return f"{word} until {short_time(site.silenced_until, now or site.silenced_until)}"


def short_time(at: datetime, now: datetime) -> str:
    """HH:MM in local time; with the date when it is not today."""
    local = at.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%a %d %b %H:%M")
