"""Start at login, against the isolated XDG dirs (conftest points XDG_CONFIG_HOME at tmp)."""

from __future__ import annotations

import os
import plistlib
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app import APP_ID
from app.autostart import (
    AutostartUnsupported,
    _parse_entry,
    desktop_entry_path,
    exec_line,
    is_enabled,
    is_supported,
    launch_agent_path,
    launch_command,
    set_enabled,
)


def test_entry_lives_in_xdg_config_home() -> None:
    path = desktop_entry_path()
    assert path == Path(os.environ["XDG_CONFIG_HOME"]) / "autostart" / f"{APP_ID}.desktop"


def test_enable_writes_a_valid_entry_and_disable_removes_it() -> None:
    assert is_enabled() is False
    set_enabled(True, command=["/opt/lifeline/bin/lifeline"])
    path = desktop_entry_path()
    assert path.is_file()
    assert is_enabled() is True
    entry = _parse_entry(path.read_text())
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "/opt/lifeline/bin/lifeline"
    assert entry["Name"] == "Lifeline"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    # nothing but the entry in the folder: the write went through a temp file + rename
    assert [p.name for p in path.parent.iterdir()] == [path.name]

    set_enabled(False)
    assert not path.exists()
    assert is_enabled() is False
    set_enabled(False)  # idempotent


def test_is_enabled_reflects_the_real_file() -> None:
    set_enabled(True, command=["lifeline"])
    path = desktop_entry_path()
    path.unlink()  # the user deleted it behind our back
    assert is_enabled() is False
    set_enabled(True, command=["lifeline"])
    # GNOME's "Startup Applications" switch and the spec's Hidden key both turn it off
    text = path.read_text()
    path.write_text(text.replace("Autostart-enabled=true", "Autostart-enabled=false"))
    assert is_enabled() is False
    set_enabled(True, command=["lifeline"])
    path.write_text(path.read_text() + "Hidden=true\n")
    assert is_enabled() is False


def test_system_entry_is_switched_off_with_a_hidden_user_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = tmp_path / "etc-xdg"
    (system / "autostart").mkdir(parents=True)
    (system / "autostart" / f"{APP_ID}.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Lifeline\nExec=lifeline\n"
    )
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(system))
    assert is_enabled() is True
    set_enabled(False, command=["lifeline"])
    assert _parse_entry(desktop_entry_path().read_text())["Hidden"] == "true"
    assert is_enabled() is False
    set_enabled(True, command=["lifeline"])
    assert is_enabled() is True


def test_relative_xdg_config_home_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    home = Path(os.environ["HOME"])
    assert desktop_entry_path() == home / ".config" / "autostart" / f"{APP_ID}.desktop"


@pytest.mark.parametrize(
    "command",
    [
        ["/usr/bin/lifeline"],
        ["/home/a b/.venv/bin/lifeline"],
        ["/opt/x/python3", "-m", "app"],
        ['/tmp/we"ird$dir`x\\y/lifeline', "100%"],
    ],
)
def test_exec_line_round_trips_through_the_spec_unquoting(command: list[str]) -> None:
    line = exec_line(command)
    # Undo the two layers as a desktop launcher does: string escapes, then Exec quoting
    # (which is shell-compatible for the characters the spec allows to be escaped).
    assert _unquote_exec(line.replace("\\\\", "\\")) == command


def _unquote_exec(value: str) -> list[str]:
    """The spec's Exec unquoting, written independently of the code under test."""
    args: list[str] = []
    current: str | None = None
    quoted = False
    chars = iter(value)
    for ch in chars:
        if quoted:
            if ch == "\\":
                current = (current or "") + next(chars)
            elif ch == '"':
                quoted = False
            else:
                current = (current or "") + ch
        elif ch == '"':
            quoted = True
            current = current or ""
        elif ch == " ":
            if current is not None:
                args.append(current)
            current = None
        elif ch == "%":
            assert next(chars) == "%"
            current = (current or "") + "%"
        else:
            current = (current or "") + ch
    if current is not None:
        args.append(current)
    return args


def test_launch_command_prefers_the_script_next_to_the_interpreter(tmp_path: Path) -> None:
    bindir = tmp_path / "venv" / "bin"
    bindir.mkdir(parents=True)
    python = bindir / "python"
    python.write_text("")
    assert launch_command(executable=str(python), frozen=True) == [str(python)]
    on_path = "/usr/local/bin/lifeline"
    assert launch_command(executable=str(python), frozen=False, which=on_path) == [on_path]
    assert launch_command(executable=str(python), frozen=False, which="") == [
        str(python), "-m", "app"
    ]
    script = bindir / "lifeline"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert launch_command(executable=str(python), frozen=False) == [str(script)]


def test_default_command_starts_this_installation() -> None:
    command = launch_command()
    # In the dev venv the console script sits next to the interpreter.
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("lifeline ")
    assert command[0].startswith(str(Path(sys.executable).parent)) or command[0] == sys.executable


def test_macos_launch_agent(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert is_enabled(platform="darwin", env=env) is False
    binary = "/Applications/Lifeline.app/Contents/MacOS/lifeline"
    set_enabled(True, platform="darwin", env=env, command=[binary])
    path = launch_agent_path(env)
    data = plistlib.loads(path.read_bytes())
    assert data == {
        "Label": APP_ID,
        "ProgramArguments": [binary],
        "RunAtLoad": True,
    }
    assert is_enabled(platform="darwin", env=env) is True
    set_enabled(False, platform="darwin", env=env)
    assert not path.exists()


def test_windows_says_not_supported_yet() -> None:
    assert is_supported("win32") is False
    with pytest.raises(AutostartUnsupported, match="not supported on win32 yet"):
        is_enabled(platform="win32")
    with pytest.raises(AutostartUnsupported):
        set_enabled(True, platform="win32", command=["x"])
