"""`lifeline`: the tray app when run bare, the self-test with --self-test, else a
headless subcommand.

This module sits above both layers: it is the one place that knows both app/ (the core,
which never imports the GUI) and ui/ (Qt). The GUI modules are imported only when chosen,
so `lifeline check` never loads Qt.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.cli import parse, run_command
from app.paths import Paths, default_paths


def main(argv: Sequence[str] | None = None, *, paths: Paths | None = None) -> int:
    args = parse(argv)
    if isinstance(args, int):
        return args
    paths = paths or default_paths()
    if args.self_test:
        from ui.selftest import run as self_test

        return self_test(args, paths)
    if args.command is None:
        from ui.main import run as tray_app

        return tray_app(args, paths)
    return run_command(args, paths)
