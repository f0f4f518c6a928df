"""A site's recent transitions from the history database, for a ticket's diagnostics.

Blocking (SQLite): CLI or worker thread only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.tickets.builder import sanitize

HISTORY_WINDOW = timedelta(days=1)
HISTORY_LIMIT = 20


@dataclass(frozen=True)
class RecentHistory:
    entries: list[dict[str, Any]] = field(default_factory=list)
    first_failure_at: datetime | None = None  # when the current problem began, if known


def recent_history(path: Path, site: str, *, now: datetime | None = None) -> RecentHistory:
    """The last day of this site's transitions (newest last). Empty when there is none."""
    if not path.exists():
        return RecentHistory()
    from app.history import History

    now = now or datetime.now(UTC)
    transitions = History(path).transitions(
        site=site, since=now - HISTORY_WINDOW, limit=HISTORY_LIMIT
    )
    entries = [_entry(item) for item in transitions]
    entries.sort(key=lambda e: str(e.get("at", "")))
    return RecentHistory(entries=entries, first_failure_at=_problem_start(entries))


def _entry(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping):
        data = dict(item)
    elif hasattr(item, "to_json"):
        data = dict(item.to_json())
    else:
        from dataclasses import asdict, is_dataclass

        data = asdict(item) if is_dataclass(item) and not isinstance(item, type) else {}
    data.pop("result", None)  # the full probe detail is in diagnostics.check already
    clean: dict[str, Any] = sanitize(data)
    return clean


_OK_STATES = {"operational", "asleep"}


def _problem_start(entries: list[dict[str, Any]]) -> datetime | None:
    """The start of the trailing run of non-operational transitions."""
    start: str | None = None
    for entry in entries:
        state = str(entry.get("state", ""))
        if state in _OK_STATES:
            start = None
        elif start is None:
            start = str(entry.get("at", "")) or None
    if start is None:
        return None
    try:
        moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
