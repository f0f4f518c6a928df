"""`lifeline history`: past state changes and uptime, from the history file.

Reads only: a missing history file is reported as "no history yet", never created.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta

from app.check import UnknownSite, group_sites
from app.clock import iso
from app.commands import config_path
from app.config import ConfigError, load_config
from app.history import History, HistoryError, Transition
from app.models import EXIT_USAGE
from app.paths import Paths
from app.printable import printable_lines

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, *, now: datetime) -> datetime:
    """'30m', '24h', '7d', '2w', or an ISO date/time (UTC unless it says otherwise)."""
    match = _SPAN.match(text)
    if match:
        seconds = float(match.group(1)) * _UNIT[match.group(2).lower()]
        try:
            return now - timedelta(seconds=seconds)
        except OverflowError:
            raise ValueError(
                f"--since {text.strip()!r} reaches back before the year 1; "
                "use a shorter span or a date like 2026-11-27"
            ) from None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since {text!r}: use a duration like 30m, 24h, 7d, 2w or a date like 2026-11-27"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def run(args: argparse.Namespace, paths: Paths) -> int:
    now = datetime.now(UTC)
    try:
        since = parse_since(args.since, now=now)
    except ValueError as exc:
        print(f"lifeline: {exc}", file=sys.stderr)
        return EXIT_USAGE
    members: list[str] | None = None  # --group: its sites, from the config
    if getattr(args, "group", None):
        try:
            members = group_sites(load_config(config_path(args, paths)), [args.group])
        except (ConfigError, UnknownSite) as exc:
            message = exc.one_line() if isinstance(exc, ConfigError) else str(exc)
            print(f"lifeline: {message}", file=sys.stderr)
            return EXIT_USAGE
    path = paths.history_db
    if not path.exists():
        if args.json:
            empty: dict[str, object] = {"since": iso(since), "sites": [], "transitions": []}
            if args.site:
                empty["timings"] = []
            _print(json.dumps(empty, indent=2))
        else:
            _print(
                f"No history yet ({path} does not exist); `lifeline watch` or the tray app "
                "record it."
            )
        return 0
    try:
        with History(path) as history:
            rows = history.transitions(site=args.site, since=since)
            names = [args.site] if args.site else history.sites()
            if members is not None:
                rows = [t for t in rows if t.site in members]
                names = [n for n in members if not args.site or n == args.site]
            # The response-time buckets for one site (for every site they would be huge).
            timings = history.timings(args.site, since=since) if args.site else None
            uptime = {
                name: (
                    history.uptime(name, timedelta(hours=24), now=now),
                    history.uptime(name, timedelta(days=7), now=now),
                )
                for name in names
            }
    except HistoryError as exc:
        print(f"lifeline: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        doc = {
            "since": iso(since),
            "sites": [
                {"name": n, "uptime_24h": _round(u[0]), "uptime_7d": _round(u[1])}
                for n, u in uptime.items()
            ],
            "transitions": [t.to_json() for t in rows],
        }
        if timings is not None:
            doc["timings"] = [b.to_json() for b in timings]
        _print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        _print(format_history(rows, uptime, since=since))
    return 0


def format_history(
    rows: list[Transition],
    uptime: dict[str, tuple[float | None, float | None]],
    *,
    since: datetime,
) -> str:
    lines: list[str] = []
    if uptime:
        width = max(4, *(len(n) for n in uptime))
        lines.append(f"{'Site':<{width}}  {'24 h':>9}  {'7 d':>9}")
        for name, (day, week) in uptime.items():
            lines.append(f"{name:<{width}}  {_pct(day):>9}  {_pct(week):>9}")
        lines.append("")
    if not rows:
        lines.append(f"No state changes since {iso(since)}.")
        return "\n".join(lines)
    lines.append(f"State changes since {iso(since)}:")
    for t in rows:
        who = f"{t.site}: " if t.site else ""
        before = t.previous or "(start)"
        flap = " (flapping)" if t.flapping else ""
        ids = _request_ids(t)
        reason = f" - {t.reason}" if t.reason else ""
        lines.append(f"{iso(t.at)}  {t.kind:<8}  {who}{before} -> {t.state}{flap}{reason}{ids}")
    return "\n".join(lines)


def _request_ids(t: Transition) -> str:
    ids = [
        str(probe["request_id"])
        for key in ("anonymous", "backend")
        if isinstance(probe := t.evidence.get(key), dict) and probe.get("request_id")
    ]
    return f" [request id {', '.join(dict.fromkeys(ids))}]" if ids else ""


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f} %"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 5)


def _print(text: str) -> None:
    try:
        # History holds what servers said: nothing of it reaches the terminal as an escape.
        print(printable_lines(text), flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
