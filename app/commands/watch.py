"""`lifeline watch`: headless monitoring, one line per event, until a duration or a signal.

Lines go to stdout as they happen (flushed, so a pipe sees them at once): plain text, or
with --json-lines one JSON object per line (the shape is in app/eventlines.py). Monitor
errors go to stderr. SIGINT and SIGTERM stop it cleanly: the round in flight is
abandoned, queued history writes are flushed, the history file is closed, exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import signal
import sys

from app.commands import config_path
from app.config import Config, ConfigError, load_config
from app.eventlines import json_line, text_line
from app.events import Event, MonitorError
from app.history import History
from app.logs import quiet_http_loggers
from app.models import EXIT_USAGE
from app.monitor import Monitor
from app.paths import Paths
from app.printable import printable
from app.redact import RedactingFilter
from app.silence import Silencer
from app.snooze import SnoozeStore


def run(args: argparse.Namespace, paths: Paths) -> int:
    quiet_http_loggers()
    _log_warnings_to_stderr()
    try:
        config = load_config(config_path(args, paths))
    except ConfigError as exc:
        print(f"lifeline: {exc.one_line()}", file=sys.stderr)
        return EXIT_USAGE
    duration: float | None = args.duration
    if duration is not None and (not math.isfinite(duration) or duration <= 0):
        print(
            f"lifeline: --duration must be a positive number of seconds (got {duration:g})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    history = History(paths.history_db)
    try:
        silencer = Silencer(config, SnoozeStore(paths.snoozes))
        asyncio.run(
            _watch(config, history, silencer, json_lines=args.json_lines, duration=duration)
        )
    finally:
        history.close()
    return 0


async def _watch(
    config: Config,
    history: History,
    silencer: Silencer,
    *,
    json_lines: bool,
    duration: float | None,
) -> None:
    monitor = Monitor(config, history=history, silencer=silencer)
    render = json_line if json_lines else text_line

    def show(event: Event) -> None:
        if isinstance(event, MonitorError):
            print(f"lifeline: {printable(event.message)}", file=sys.stderr, flush=True)
            return
        line = render(event)
        if line is None:
            return
        try:
            # A last net: nothing from a server reaches the terminal as an escape.
            print(printable(line), flush=True)
        except BrokenPipeError:
            # `lifeline watch | head -3`: the reader left; stop, as a pipeline expects.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            monitor.stop()

    monitor.subscribe(show)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: no handlers
            loop.add_signal_handler(sig, monitor.stop)
    if duration is not None:
        loop.call_later(duration, monitor.stop)
    if not json_lines:
        n = len(config.sites)
        print(
            f"lifeline: watching {n} site{'s' if n != 1 else ''} every "
            f"{config.monitor.interval:g} s; Ctrl+C to stop",
            file=sys.stderr,
            flush=True,
        )
    await monitor.run()


def _log_warnings_to_stderr() -> None:
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("lifeline: %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
