"""Uptime from the history's rows: span arithmetic only, no SQL.

Only watched time counts (coverage spans), minus the site's maintenance windows, and only
once the site's state is known; time in a downtime state counts against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from app.history_file import ts
from app.history_rows import MAINTENANCE
from app.models import SiteState

DOWNTIME_STATES = frozenset({SiteState.DOWN.value})  # visitors get an error


def served_share(
    spans: list[tuple[float, float]],
    timeline: list[tuple[float, str]],
    windows: list[tuple[float, float]],
) -> float | None:
    """Share (0..1) of the watched `spans`, outside maintenance `windows`, in which the
    site (its sorted `timeline` of (time, new state)) served visitors; None if no state
    was known in any of it."""
    known = down = 0.0
    for span_start, span_end in _minus(spans, windows):
        for seg_start, seg_end, state in _segments(timeline, span_start, span_end):
            if state is None or state == SiteState.UNKNOWN.value:
                continue
            known += seg_end - seg_start
            if state in DOWNTIME_STATES:
                down += seg_end - seg_start
    if known <= 0:
        return None
    return max(0.0, min(1.0, 1.0 - down / known))


def _segments(
    timeline: list[tuple[float, str]], start: float, end: float
) -> Iterator[tuple[float, float, str | None]]:
    """(from, to, state) pieces of [start, end] from a sorted list of (time, new state)."""
    state: str | None = None
    cursor = start
    for at, new_state in timeline:
        if at <= start:
            state = new_state
            continue
        if at >= end:
            break
        if at > cursor:
            yield cursor, at, state
            cursor = at
        state = new_state
    if end > cursor:
        yield cursor, end, state


def maintenance_spans(
    rows: list[tuple[Any, ...]], end: float, opening: str = MAINTENANCE
) -> list[tuple[float, float]]:
    """The maintenance spans from a site's sorted (at, state, evidence) maintenance rows
    (or snooze spans from its snooze rows, with `opening` "snoozed"). A span not closed
    by an "ended" row (Lifeline stopped inside it) lasts until the end its window had,
    at most `end`."""
    spans: list[tuple[float, float]] = []
    opened: float | None = None
    planned_end = end
    for at, state, evidence in rows:
        if state == opening:
            if opened is not None and float(at) > planned_end:
                spans.append((opened, planned_end))  # the earlier one ran out unrecorded
                opened = None
            opened = float(at) if opened is None else opened
            planned_end = _until(evidence, end)
        elif opened is not None:
            spans.append((opened, min(float(at), planned_end)))
            opened = None
    if opened is not None:
        spans.append((opened, min(end, planned_end)))
    return spans


def _until(evidence: Any, default: float) -> float:
    try:
        until = json.loads(evidence)["until"] if evidence else None
        return ts(datetime.fromisoformat(str(until).replace("Z", "+00:00"))) if until else default
    except (ValueError, TypeError, KeyError):
        return default


def _minus(
    spans: list[tuple[float, float]], holes: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The parts of `spans` outside every hole (both sorted by start)."""
    out: list[tuple[float, float]] = []
    for start, stop in spans:
        cursor = start
        for hole_start, hole_stop in holes:
            if hole_stop <= cursor or hole_start >= stop:
                continue
            if hole_start > cursor:
                out.append((cursor, hole_start))
            cursor = max(cursor, hole_stop)
        if cursor < stop:
            out.append((cursor, stop))
    return out
