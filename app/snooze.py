"""Snoozes: a site silenced for a while, kept in the data dir (never in config.toml).

The file is `snoozes.json` next to the history: {"version": 1, "snoozes": {site: end}},
ends in ISO 8601 UTC. The CLI (`lifeline snooze`) and the tray both write it, each time
read-modify-write and atomically (a reader sees the old file or the new one); the monitor
re-reads it when its modification time or size changed, at most once per round, so a
snooze made anywhere is honoured within one interval without a restart. An expired
snooze ends by itself: it is ignored, and dropped at the next write.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.atomic import atomic_write_text
from app.clock import iso, utc

FILE_VERSION = 1


class SnoozeError(Exception):
    """The snooze file cannot be read or written; one line naming the file."""


@dataclass(frozen=True)
class Snooze:
    site: str
    until: datetime  # UTC


class SnoozeStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) of what is cached
        self._cached: dict[str, datetime] = {}

    # ------------------------------------------------------------------ reading

    def read(self) -> dict[str, datetime]:
        """Every snooze in the file, expired ones included. Raises SnoozeError."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise SnoozeError(f"{self.path}: cannot read the snoozes ({exc})") from None
        return _parse(raw, self.path)

    def current(self, now: datetime) -> dict[str, datetime]:
        """The snoozes still running at `now`; the file is re-read only when it changed.
        Raises SnoozeError (the cache is kept, so one bad write does not unsnooze all)."""
        try:
            stat = os.stat(self.path)
            seen: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            seen = None
        if seen != self._seen:
            self._cached = self.read() if seen is not None else {}
            self._seen = seen
        return {site: end for site, end in self._cached.items() if end > now}

    def active(self, now: datetime) -> list[Snooze]:
        """The running snoozes, soonest end first (for `snooze --list`)."""
        running = {site: end for site, end in self.read().items() if end > now}
        return [Snooze(site, end) for site, end in sorted(running.items(), key=lambda i: i[1])]

    # ------------------------------------------------------------------ writing

    def snooze(self, site: str, until: datetime, *, now: datetime) -> None:
        """Silence `site` until `until` (replacing a snooze it had). Raises SnoozeError."""
        snoozes = {s: end for s, end in self.read().items() if end > now}
        snoozes[site] = utc(until)
        self._write(snoozes)

    def unsnooze(self, site: str, *, now: datetime) -> bool:
        """End `site`'s snooze; False when it had none running. Raises SnoozeError."""
        snoozes = {s: end for s, end in self.read().items() if end > now}
        had = snoozes.pop(site, None) is not None
        self._write(snoozes)
        return had

    def _write(self, snoozes: dict[str, datetime]) -> None:
        doc = {"version": FILE_VERSION, "snoozes": {s: iso(end) for s, end in snoozes.items()}}
        try:
            atomic_write_text(self.path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise SnoozeError(
                f"{self.path}: cannot write the snoozes ({exc.strerror or exc})"
            ) from None


def _parse(raw: str, path: Path) -> dict[str, datetime]:
    try:
        doc = json.loads(raw)
    except ValueError:
        raise SnoozeError(f"{path}: the snooze file is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("snoozes"), dict):
        raise SnoozeError(f"{path}: the snooze file has no snoozes table")
    if isinstance(doc.get("version"), int) and doc["version"] > FILE_VERSION:
        raise SnoozeError(f"{path}: the snooze file is from a newer Lifeline")
    out: dict[str, datetime] = {}
    for site, end in doc["snoozes"].items():
        try:
            when = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
        except ValueError:
            continue  # one unreadable entry is skipped, the others still count
        out[str(site)] = when if when.tzinfo else when.replace(tzinfo=UTC)
    return out
