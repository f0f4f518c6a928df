"""`lifeline check`: one full check, printed, with Nagios exit codes.

Silenced sites (snoozed, or inside a `[[maintenance]]` window) are checked and shown,
marked `silenced`, but the exit code and the summary line are the other sites': a host
in maintenance pages nobody.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.check import UnknownSite, group_sites, run_check, select_sites
from app.clock import iso
from app.commands import config_path
from app.config import Config, ConfigError, ConfigMissing, load_config
from app.impact import overall_point_of_failure, overall_state
from app.logs import quiet_http_loggers
from app.models import EXIT_CODES, EXIT_USAGE, CheckReport, PointOfFailure
from app.paths import Paths
from app.printable import printable_lines
from app.report import format_report, nagios_text, no_pipe, perfdata, report_to_json
from app.secret_hosts import foreign_secret_hosts
from app.silence import Silence, Silencer
from app.snooze import SnoozeStore

# Seconds of `--timeout` kept for assessing, printing and Python's start-up (about 0.3 s).
_RESERVE = 0.6


def run(args: argparse.Namespace, paths: Paths) -> int:
    started = time.monotonic()
    quiet_http_loggers()
    try:
        config = load_config(config_path(args, paths))
    except ConfigError as exc:
        if args.json:
            # A monitoring system parsing --json gets JSON for this too (on stdout).
            print(json.dumps(config_error_json(exc), indent=2, ensure_ascii=False))
        print(f"lifeline: {exc.one_line()}", file=sys.stderr)
        return EXIT_USAGE
    for warning in foreign_secret_hosts(config):
        # stderr, so the report on stdout (and a monitoring system's parsing) is untouched.
        print(f"lifeline: warning: {warning}", file=sys.stderr)
    only: list[str] = list(args.site or [])
    try:
        select_sites(config, only)
        if args.group:
            only += group_sites(config, args.group)
            if not only:
                raise UnknownSite("the group has no sites")
    except UnknownSite as exc:
        print(f"lifeline: {exc}", file=sys.stderr)
        return EXIT_USAGE
    deadline = None
    if args.timeout is not None:
        # Room for the report, the output and the interpreter's own start-up.
        deadline = max(0.1, args.timeout - (time.monotonic() - started) - _RESERVE)
    report = asyncio.run(
        run_check(config, only=only, deadline=deadline, cache_share=cache_shares(paths))
    )
    silences = Silencer(config, SnoozeStore(paths.snoozes)).at(report.checked_at)
    heard = unsilenced(report, silences)
    text = (
        json.dumps(check_json(report, heard, config, silences), indent=2, ensure_ascii=False)
        if args.json
        else check_text(report, heard, silences)
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
    return EXIT_CODES[heard.overall]


def cache_shares(paths: Paths) -> dict[str, float]:
    """How often visitors were served from cache over 24 h, from the tray's or watch's
    history; {} without one (then app.history and sqlite3 are not even imported: a
    plugin's start-up counts)."""
    if not paths.history_db.exists():
        return {}
    from app.history import read_cache_hit_ratios

    return read_cache_hit_ratios(paths.history_db, since=datetime.now(UTC) - timedelta(hours=24))


def unsilenced(report: CheckReport, silences: Mapping[str, Silence]) -> CheckReport:
    """The report as if only the sites nobody silenced were checked (exit code, summary)."""
    if not any(s.name in silences for s in report.sites):
        return report
    if report.point_of_failure is PointOfFailure.NETWORK:
        return report  # nothing answered: that is news whatever is silenced
    sites = tuple(s for s in report.sites if s.name not in silences)
    overall = overall_state((s.state for s in sites), report.platform.state)
    return replace(
        report,
        sites=sites,
        overall=overall,
        point_of_failure=overall_point_of_failure(overall, sites, report.platform),
    )


def summary(report: CheckReport, heard: CheckReport, silences: Mapping[str, Silence]) -> str:
    """The plugin line (before perfdata) for the sites nobody silenced, naming the others."""
    text = nagios_text(heard)
    names = [s.name for s in report.sites if s.name in silences]
    if not names:
        return text
    shown = ", ".join(f"{n}: {silences[n].kind}" for n in names[:3])
    shown += f", +{len(names) - 3} more" if len(names) > 3 else ""
    if not heard.sites and heard is not report:
        # Every site is silenced: only the platform is left to speak of.
        return text.replace("no sites to check", f"every site silenced ({no_pipe(shown)})", 1)
    return f"{text}; {len(names)} silenced ({no_pipe(shown)})"


def check_text(report: CheckReport, heard: CheckReport, silences: Mapping[str, Silence]) -> str:
    lines = format_report(report).split("\n")
    lines[0] = f"{summary(report, heard, silences)} | {perfdata(report)}"
    return "\n".join(lines)


def config_error_json(exc: ConfigError) -> dict[str, object]:
    """`check --json`'s answer when there is no usable config: the state is unknown."""
    return {
        "overall": {"state": "unknown", "point_of_failure": None},
        "sites": [],
        "exit_code": EXIT_USAGE,
        "summary": f"UNKNOWN - {exc.one_line()}",
        "error": {
            "kind": "config_missing" if isinstance(exc, ConfigMissing) else "config",
            "message": exc.one_line(),
            "file": exc.source,
            "line": exc.line,
            "key": exc.key or None,
        },
    }


def check_json(
    report: CheckReport, heard: CheckReport, config: Config, silences: Mapping[str, Silence]
) -> dict[str, Any]:
    doc = report_to_json(report)
    for site in doc["sites"]:
        configured = config.site(site["name"])
        silence = silences.get(site["name"])
        site["group"] = configured.group if configured else ""
        site["silenced"] = silence.kind if silence else None
        site["silenced_until"] = iso(silence.until) if silence else None
    doc["exit_code"] = EXIT_CODES[heard.overall]
    doc["summary"] = summary(report, heard, silences)
    return doc
