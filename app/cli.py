"""The command line of the headless tool: the parser, and running a subcommand.

Each subcommand lives in app/commands/<name>.py with `run(args, paths) -> int`; they are
imported only when chosen, so `lifeline check` never loads Qt. The `lifeline` program
itself is lifeline.entry: it sits above app/ and ui/ and picks the tray app, the
self-test or a subcommand from here. The core never imports the GUI.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from app import __version__
from app.commands import COMMANDS, config_path
from app.models import EXIT_USAGE
from app.paths import Paths, default_paths

if TYPE_CHECKING:
    _Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["COMMANDS", "build_parser", "config_path", "main", "parse", "run_command"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lifeline",
        description=(
            "Watch sites and their host's status page; file an emergency ticket in one click."
        ),
    )
    parser.add_argument("--version", action="version", version=f"lifeline {__version__}")
    parser.add_argument("--config", type=Path, help="config file (default: the user config dir)")
    parser.add_argument(
        "--demo", action="store_true", help="run the tray app against a built-in simulator"
    )
    parser.add_argument(
        "--self-test", action="store_true", help="check this installation offline and exit"
    )
    parser.add_argument(
        "--window",
        action="store_true",
        help="open the Lifeline window (in the running tray app, or starting it)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_check(sub)
    _add_watch(sub)
    _add_history(sub)
    _add_ticket(sub)
    _add_outbox(sub)
    _add_snooze(sub)
    _add_import(sub)
    return parser


# One function per subcommand: its options, next to its help text.


def _add_check(sub: _Commands) -> None:
    check = sub.add_parser("check", help="check every site once and exit (Nagios exit codes)")
    _config_opt(check)
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument(
        "--site", action="append", metavar="NAME", help="only this site (repeatable)"
    )
    check.add_argument(
        "--group", action="append", metavar="NAME", help="only this group's sites (repeatable)"
    )
    check.add_argument(
        "-t",
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="print a result within this many seconds; what has not answered counts as "
        "timed out (keep it under the monitoring engine's own check timeout)",
    )


def _add_watch(sub: _Commands) -> None:
    watch = sub.add_parser("watch", help="monitor continuously, one line per event")
    _config_opt(watch)
    watch.add_argument("--json-lines", action="store_true", help="one JSON object per event")
    watch.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long")


def _add_history(sub: _Commands) -> None:
    history = sub.add_parser("history", help="past state changes and uptime")
    _config_opt(history)
    history.add_argument("--site", metavar="NAME")
    history.add_argument("--group", metavar="NAME", help="only the sites of this group")
    history.add_argument("--since", default="24h", help="e.g. 30m, 24h, 7d (default 24h)")
    history.add_argument("--json", action="store_true")


def _add_ticket(sub: _Commands) -> None:
    ticket = sub.add_parser("ticket", help="check a site and file an emergency ticket")
    _config_opt(ticket)
    ticket.add_argument("--site", required=True, metavar="NAME")
    ticket.add_argument("--note", default="", help="what you see that probes cannot")
    ticket.add_argument("--force", action="store_true", help="file even if the site looks fine")
    ticket.add_argument("--json", action="store_true")
    ticket.add_argument(
        "--open", action="store_true", help="open the dashboard's support page in a browser"
    )


def _add_outbox(sub: _Commands) -> None:
    outbox = sub.add_parser(
        "outbox", help="saved ticket drafts: list, send, drop, filed, handled"
    )
    _config_opt(outbox)
    outbox.add_argument(
        "action", nargs="?", default="list", choices=["list", "send", "drop", "filed", "handled"]
    )
    outbox.add_argument("id", nargs="?", help="draft id (send: all pending when omitted)")
    outbox.add_argument("--json", action="store_true")


def _add_snooze(sub: _Commands) -> None:
    snooze = sub.add_parser(
        "snooze", help="silence one site for a while (checked and recorded, not notified)"
    )
    _config_opt(snooze)
    snooze.add_argument("site", nargs="?", metavar="SITE")
    snooze.add_argument("duration", nargs="?", metavar="DURATION", help="e.g. 30m, 2h, 1d")
    snooze.add_argument("--off", action="store_true", help="end the site's snooze now")
    snooze.add_argument("--list", action="store_true", help="the snoozes running now")
    snooze.add_argument("--json", action="store_true")


def _add_import(sub: _Commands) -> None:
    imp = sub.add_parser("import", help="import sites from a hosting account")
    _config_opt(imp)
    imp.add_argument("source", choices=["pantheon"])
    imp.add_argument("--dry-run", action="store_true", help="show what would be added")
    imp.add_argument("--json", action="store_true")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 1 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 1 to 86400")
    return value


def _config_opt(parser: argparse.ArgumentParser) -> None:
    # Accept --config after the subcommand too (`lifeline check --config x.toml`).
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code when there is nothing to run (a usage
    error: 3, as Nagios wants; --help and --version: 0)."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors; Nagios wants 3
        code = exc.code if isinstance(exc.code, int) else EXIT_USAGE
        return EXIT_USAGE if code == 2 else code


def run_command(args: argparse.Namespace, paths: Paths) -> int:
    module = importlib.import_module(COMMANDS[args.command])
    try:
        status: int = module.run(args, paths)
    except KeyboardInterrupt:
        return 130
    return status


def main(argv: Sequence[str] | None = None, *, paths: Paths | None = None) -> int:
    """The headless tool alone (tests, scripts): a subcommand is required. The tray app
    and --self-test start from lifeline.entry, the `lifeline` program."""
    args = parse(argv)
    if isinstance(args, int):
        return args
    if args.command is None or args.self_test:
        print("lifeline: the tray app and --self-test start from the `lifeline` program "
              "(python -m lifeline); here, name a subcommand.", file=sys.stderr)
        return EXIT_USAGE
    return run_command(args, paths or default_paths())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
