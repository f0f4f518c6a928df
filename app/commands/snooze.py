"""`lifeline snooze SITE DURATION | SITE --off | --list [--json]`: silence one site for a
while (a deploy, a planned migration) without pausing every notification.

A snoozed site is still checked and recorded; it raises no notification, does not colour
the tray icon and does not set `lifeline check`'s exit code. Snoozes live in the data dir
(app/snooze.py), so the tray picks one up within one interval, without a restart.

Exit codes: 0 done; 3 bad input (unknown site, bad duration, invalid config);
7 the snooze file could not be read or written.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from app.clock import iso
from app.commands import config_path
from app.config import Config, ConfigError, ConfigMissing, load_config
from app.durations import parse_duration
from app.models import EXIT_USAGE
from app.paths import Paths
from app.presentation import local_time
from app.printable import printable, printable_lines
from app.snooze import SnoozeError, SnoozeStore

EXIT_STORE = 7


class UnknownSite(ValueError):
    """SITE is not in the config."""

Now = Callable[[], datetime]


def run(args: argparse.Namespace, paths: Paths, *, now: Now = lambda: datetime.now(UTC)) -> int:
    store = SnoozeStore(paths.snoozes)
    moment = now()
    try:
        if args.list:
            if args.site or args.duration or args.off:
                return _usage("--list takes no site, duration or --off")
            return _list(store, moment, as_json=args.json)
        if not args.site:
            return _usage("name a site (lifeline snooze SITE 2h), or --list")
        try:
            config = load_config(config_path(args, paths))
        except ConfigMissing:
            config = Config()
        except ConfigError as exc:
            return _usage(exc.one_line())
        try:
            name = resolve(config, args.site)
        except UnknownSite as exc:
            return _usage(str(exc))
        if args.off:
            if args.duration:
                return _usage("--off takes no duration")
            ended = store.unsnooze(name, now=moment)
            _print({"site": name, "snoozed": False} if args.json else
                   f"{name}: snooze ended" if ended else f"{name} was not snoozed", args.json)
            return 0
        if not args.duration:
            return _usage(f"how long? e.g. lifeline snooze {args.site} 2h (or --off)")
        try:
            until = moment + parse_duration(args.duration)
        except ValueError as exc:
            return _usage(str(exc))
        store.snooze(name, until, now=moment)
        _print({"site": name, "snoozed": True, "until": iso(until)} if args.json else
               f"{name} snoozed until {local_time(until, moment)} ({iso(until)})", args.json)
        return 0
    except SnoozeError as exc:
        print(f"lifeline snooze: {printable(str(exc))}", file=sys.stderr)
        return EXIT_STORE


def resolve(config: Config, wanted: str) -> str:
    """The configured name of `wanted` (case-insensitive). Raises UnknownSite."""
    for site in config.sites:
        if site.name.casefold() == wanted.strip().casefold():
            return site.name
    names = ", ".join(s.name for s in config.sites) or "none configured"
    raise UnknownSite(f"no site named {wanted!r} (sites: {names})")


def _list(store: SnoozeStore, moment: datetime, *, as_json: bool) -> int:
    snoozes = store.active(moment)
    if as_json:
        _print({"snoozes": [{"site": s.site, "until": iso(s.until)} for s in snoozes]}, True)
    elif not snoozes:
        _print("No site is snoozed.", False)
    else:
        width = max(len(s.site) for s in snoozes)
        _print("\n".join(
            f"{s.site:<{width}}  until {local_time(s.until, moment)} ({iso(s.until)})"
            for s in snoozes
        ), False)
    return 0


def _usage(message: str) -> int:
    print(f"lifeline snooze: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def _print(value: object, as_json: bool) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False) if as_json else str(value)
    print(printable_lines(text), flush=True)
