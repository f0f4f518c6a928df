"""The headless subcommands: each is app/commands/<module>.py with `run(args, paths) -> int`.

COMMANDS is the one table of them: app.cli dispatches through it, and the self-test
checks that a frozen build holds every module it names.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.paths import Paths

COMMANDS = {
    "check": "app.commands.check",
    "watch": "app.commands.watch",
    "history": "app.commands.history",
    "ticket": "app.commands.ticket",
    "outbox": "app.commands.outbox",
    "import": "app.commands.importer",
    "snooze": "app.commands.snooze",
}


def config_path(args: argparse.Namespace, paths: Paths) -> Path:
    """--config if given (before or after the subcommand), else the user's config file."""
    return args.config if getattr(args, "config", None) else paths.config_file
