"""`lifeline check`: one full check, printed, with Nagios exit codes."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import time

from app.check import UnknownSite, run_check, select_sites
from app.commands import config_path
from app.config import ConfigError, load_config
from app.logs import quiet_http_loggers
from app.models import EXIT_CODES, EXIT_USAGE
from app.paths import Paths
from app.printable import printable_lines
from app.report import format_report, report_to_json
from app.secret_hosts import foreign_secret_hosts

# Seconds of `--timeout` kept for assessing, printing and Python's start-up (about 0.3 s).
_RESERVE = 0.6


def run(args: argparse.Namespace, paths: Paths) -> int:
    started = time.monotonic()
    quiet_http_loggers()
    try:
        config = load_config(config_path(args, paths))
    except ConfigError as exc:
        print(f"lifeline: {exc.one_line()}", file=sys.stderr)
        return EXIT_USAGE
    for warning in foreign_secret_hosts(config):
        # stderr, so the report on stdout (and a monitoring system's parsing) is untouched.
        print(f"lifeline: warning: {warning}", file=sys.stderr)
    only: list[str] = list(args.site or [])
    try:
        select_sites(config, only)
    except UnknownSite as exc:
        print(f"lifeline: {exc}", file=sys.stderr)
        return EXIT_USAGE
    deadline = None
    if args.timeout is not None:
        # Room for the report, the output and the interpreter's own start-up.
        deadline = max(0.1, args.timeout - (time.monotonic() - started) - _RESERVE)
    report = asyncio.run(run_check(config, only=only, deadline=deadline))
    text = (
        json.dumps(report_to_json(report), indent=2, ensure_ascii=False)
        if args.json
        else format_report(report)
    )
    if isinstance(sys.stdout, io.TextIOWrapper):
        # A cron job with a non-UTF-8 locale must still get its report (and exit code).
        sys.stdout.reconfigure(errors="replace")
    try:
        # A last net: nothing from a server reaches the terminal as an escape.
        print(printable_lines(text), flush=True)
    except BrokenPipeError:
        # `lifeline check | head`: the reader left. Point stdout at /dev/null so the
        # interpreter's final flush does not complain; the exit code still counts.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_CODES[report.overall]
