"""A site's recent transitions from the history database, for a ticket's diagnostics.

Blocking (SQLite): CLI or worker thread only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.history import History, HistoryError, Transition
from app.models import GOOD_SITE_STATES
from app.tickets.builder import sanitize

log = logging.getLogger(__name__)

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
    now = now or datetime.now(UTC)
    try:
        with History(path) as history:
            transitions = history.transitions(
                site=site, since=now - HISTORY_WINDOW, limit=HISTORY_LIMIT, kinds=("site",)
            )
    except HistoryError as exc:
        # History enriches a ticket; a broken history file must not stop one.
        log.warning("ticket without history: %s", exc)
        return RecentHistory()
    entries = [_entry(item) for item in transitions]
    return RecentHistory(entries=entries, first_failure_at=_problem_start(transitions))


def _entry(item: Transition) -> dict[str, Any]:
    clean: dict[str, Any] = sanitize(item.to_json())
    return clean


def _problem_start(transitions: Sequence[Transition]) -> datetime | None:
    """When the current problem began: the first of the trailing non-operational run."""
    start: datetime | None = None
    for item in transitions:  # oldest first
        if item.state in GOOD_SITE_STATES:  # a StrEnum set holds its plain strings
            start = None
        elif start is None:
            start = item.at
    return start
