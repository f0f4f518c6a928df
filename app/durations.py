"""Durations as people type them: `30m`, `2h`, `1d`, `90s`, `1h30m`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_DURATION = timedelta(days=366)  # a typo like 9999d is refused, not silently honoured


def parse_duration(text: str) -> timedelta:
    """A positive duration; raises ValueError with a message for the person who typed it."""
    cleaned = text.strip().replace(" ", "")
    if cleaned.startswith("-") and not _PART.sub("", cleaned[1:]):
        raise ValueError(f"{text!r}: a duration must be more than zero")
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(f"{text!r} is not a duration (like 30m, 2h, 1d or 1h30m)")
    seconds = sum(float(n) * _UNIT[unit.lower()] for n, unit in _PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be more than zero")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r}: at most {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


def duration_text(value: timedelta) -> str:
    """The short form back: 5400 s -> '1h30m'."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"
