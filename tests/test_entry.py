"""The `lifeline` program (lifeline.entry): above both layers, it picks what runs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from app.models import EXIT_USAGE
from app.paths import Paths
from lifeline import entry

ROOT = Path(__file__).resolve().parents[1]


def test_the_console_script_and_the_frozen_app_start_here() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["lifeline"] == "lifeline.entry:main"
    spec = (ROOT / "packaging" / "lifeline.spec").read_text()
    assert '"lifeline" / "__main__.py"' in spec


def test_a_subcommand_never_loads_qt_or_the_gui(tmp_path: Path) -> None:
    """`lifeline check` on a machine without a desktop must not pay for (or need) Qt."""
    config = tmp_path / "config.toml"
    config.write_text('[[site]]\nname = "x"\nurl = "ftp://nope"\n')  # refused: exit 3
    probe = (
        "import sys\n"
        "from lifeline.entry import main\n"
        f"code = main(['check', '--config', {str(config)!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'ui'))\n"
        "print(code, loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.strip() == f"{EXIT_USAGE} []", done.stderr


def test_the_gui_branches_go_to_ui(monkeypatch: pytest.MonkeyPatch, paths: Paths) -> None:
    import ui.main
    import ui.selftest

    chosen: list[str] = []

    def runner(name: str) -> Callable[[object, Paths], int]:
        def run(_args: object, _paths: Paths) -> int:
            chosen.append(name)
            return 0
        return run

    monkeypatch.setattr(ui.main, "run", runner("tray"))
    monkeypatch.setattr(ui.selftest, "run", runner("self-test"))
    assert entry.main([], paths=paths) == 0
    assert entry.main(["--self-test"], paths=paths) == 0
    assert chosen == ["tray", "self-test"]


def test_the_headless_cli_alone_asks_for_a_subcommand(
    capsys: pytest.CaptureFixture[str], paths: Paths
) -> None:
    from app.cli import main

    assert main([], paths=paths) == EXIT_USAGE
    assert "python -m lifeline" in capsys.readouterr().err
    assert main(["--no-such-option"], paths=paths) == EXIT_USAGE
