"""Start at login: the XDG autostart entry on Linux, a LaunchAgent on macOS.

The state is always read from the real file (the user may have removed it, or switched it
off in their desktop's "Startup Applications", which sets Hidden=true or
X-GNOME-Autostart-enabled=false), never remembered in our own config. Windows is not
supported yet: every call there raises AutostartUnsupported with a message to show.
"""

from __future__ import annotations

import os
import plistlib
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from app import APP_DISPLAY_NAME, APP_ID
from app.atomic import atomic_write_bytes, atomic_write_text

DESKTOP_FILE = f"{APP_ID}.desktop"
PLIST_FILE = f"{APP_ID}.plist"


class AutostartUnsupported(Exception):
    """Start at login is not available on this platform; the message says so."""


class AutostartError(Exception):
    """The entry could not be written or removed; the message is safe to show."""


def launch_command(
    *,
    executable: str | None = None,
    frozen: bool | None = None,
    which: str | None = None,
) -> list[str]:
    """The command that starts the installed tray app.

    A frozen build (PyInstaller) is its own binary. Otherwise the `lifeline` console
    script next to the interpreter (a venv or pipx install), else the one on PATH, else
    `python -m app` with this interpreter, which works from a source checkout.
    """
    exe = executable if executable is not None else sys.executable
    is_frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    if is_frozen:
        return [exe]
    script = Path(exe).parent / "lifeline"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = which if which is not None else shutil.which("lifeline")
    if found:
        return [found]
    return [exe, "-m", "app"]


# --------------------------------------------------------------------------- XDG


def _config_home(env: Mapping[str, str]) -> Path:
    value = env.get("XDG_CONFIG_HOME", "")
    # The spec says a relative path is invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / ".config"


def _config_dirs(env: Mapping[str, str]) -> list[Path]:
    value = env.get("XDG_CONFIG_DIRS", "") or "/etc/xdg"
    return [Path(p) for p in value.split(":") if p and os.path.isabs(p)]


def desktop_entry_path(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/autostart/<app id>.desktop"""
    return _config_home(os.environ if env is None else env) / "autostart" / DESKTOP_FILE


def _quote_exec_arg(arg: str) -> str:
    # Desktop Entry spec, "The Exec key": quote an argument with reserved characters,
    # backslash-escaping `"`, `` ` ``, `$` and `\` inside the quotes; then the whole
    # value is a string, where a backslash itself must be written twice.
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    if arg and not any(ch in reserved for ch in arg):
        quoted = arg
    else:
        inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
        quoted = f'"{inner}"'
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def exec_line(command: Sequence[str]) -> str:
    return " ".join(_quote_exec_arg(arg) for arg in command)


def desktop_entry(command: Sequence[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_DISPLAY_NAME}\n"
        "Comment=Watch your sites and your host's status page from the tray\n"
        f"Exec={exec_line(command)}\n"
        f"Icon={APP_ID}\n"
        "Terminal=false\n"
        "Categories=Network;Monitor;\n"
        "X-GNOME-Autostart-enabled=true\n"
        # The tray host may start after us; the app retries, a short delay saves a retry.
        "X-GNOME-Autostart-Delay=5\n"
    )


def _parse_entry(text: str) -> dict[str, str]:
    """The keys of the [Desktop Entry] group (no locale handling needed for ours)."""
    values: dict[str, str] = {}
    in_group = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            in_group = line == "[Desktop Entry]"
            continue
        if in_group and "=" in line:
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), value.strip())
    return values


def _entry_enabled(path: Path) -> bool | None:
    """True/False for an entry that exists and says so; None when there is no file."""
    try:
        text = path.read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return False
    values = _parse_entry(text)
    if values.get("Hidden", "").lower() == "true":
        return False
    return values.get("X-GNOME-Autostart-enabled", "true").lower() != "false"


def _xdg_is_enabled(env: Mapping[str, str]) -> bool:
    # A user entry, even a disabling one, overrides a system-wide one of the same name.
    user = _entry_enabled(desktop_entry_path(env))
    if user is not None:
        return user
    for folder in _config_dirs(env):
        system = _entry_enabled(folder / "autostart" / DESKTOP_FILE)
        if system is not None:
            return system
    return False


def _xdg_set_enabled(enabled: bool, env: Mapping[str, str], command: Sequence[str]) -> None:
    path = desktop_entry_path(env)
    try:
        if enabled:
            atomic_write_text(path, desktop_entry(command), mode=0o644)
            return
        system_entry = any(
            (folder / "autostart" / DESKTOP_FILE).is_file() for folder in _config_dirs(env)
        )
        if system_entry:
            # A packaged system-wide entry can only be switched off by a user entry.
            atomic_write_text(path, desktop_entry(command) + "Hidden=true\n", mode=0o644)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise AutostartError(
            f"could not update {path} ({exc.strerror or type(exc).__name__})"
        ) from None


# --------------------------------------------------------------------------- macOS


def launch_agent_path(env: Mapping[str, str] | None = None) -> Path:
    home = Path((os.environ if env is None else env).get("HOME") or Path.home())
    return home / "Library" / "LaunchAgents" / PLIST_FILE


def launch_agent(command: Sequence[str]) -> bytes:
    return plistlib.dumps(
        {"Label": APP_ID, "ProgramArguments": list(command), "RunAtLoad": True}
    )


def _mac_is_enabled(env: Mapping[str, str]) -> bool:
    try:
        data = plistlib.loads(launch_agent_path(env).read_bytes())
    except (OSError, ValueError, plistlib.InvalidFileException):
        return False
    return isinstance(data, dict) and bool(data.get("RunAtLoad")) and not data.get("Disabled")


def _mac_set_enabled(enabled: bool, env: Mapping[str, str], command: Sequence[str]) -> None:
    path = launch_agent_path(env)
    try:
        if enabled:
            atomic_write_bytes(path, launch_agent(command), mode=0o644)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise AutostartError(
            f"could not update {path} ({exc.strerror or type(exc).__name__})"
        ) from None


# --------------------------------------------------------------------------- public


def _unsupported(platform: str) -> AutostartUnsupported:
    return AutostartUnsupported(
        f"Start at login is not supported on {platform} yet; add Lifeline to your "
        "startup programs by hand."
    )


def is_supported(platform: str | None = None) -> bool:
    return not (platform or sys.platform).startswith(("win", "cygwin"))


def is_enabled(*, platform: str | None = None, env: Mapping[str, str] | None = None) -> bool:
    """Whether Lifeline starts at login, read from the real file every time."""
    plat = platform or sys.platform
    environ = os.environ if env is None else env
    if plat == "darwin":
        return _mac_is_enabled(environ)
    if not is_supported(plat):
        raise _unsupported(plat)
    return _xdg_is_enabled(environ)


def set_enabled(
    enabled: bool,
    *,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
) -> None:
    """Create or remove the entry (atomically). Raises AutostartError/AutostartUnsupported."""
    plat = platform or sys.platform
    environ = os.environ if env is None else env
    cmd = list(command) if command is not None else launch_command()
    if plat == "darwin":
        _mac_set_enabled(enabled, environ, cmd)
        return
    if not is_supported(plat):
        raise _unsupported(plat)
    _xdg_set_enabled(enabled, environ, cmd)
