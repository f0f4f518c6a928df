"""Where the tray app runs in the bench: an isolated home, and a real desktop when there is one.

`isolated_env` points HOME and the XDG dirs at a temporary folder (the bench never reads
or writes the user's config, history or keyring). `desktop` gives Xvfb with Debian's
trayer as tray host (tests.xvfb.VirtualDesktop, the same desktop the e2e tests use), or
None with a one-line reason when those tools are missing.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import bench_env, ensure_debian_package, log


@contextmanager
def isolated_env(**extra: str) -> Iterator[tuple[dict[str, str], Path]]:
    home = Path(tempfile.mkdtemp(prefix="bench-home-"))
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    env = bench_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(runtime),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        **extra,
    )
    try:
        yield env, home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def log_file(home: Path) -> Path:
    """Where the app writes its log under `isolated_env` (platformdirs' user_log_dir)."""
    return home / ".local" / "state" / "lifeline" / "log" / "lifeline.log"


@contextmanager
def desktop() -> Iterator[dict[str, str] | None]:
    """Environment variables for an X desktop with a tray host, or None (reason logged)."""
    for binary, package in (("Xvfb", "xvfb"), ("trayer", "trayer"), ("xwininfo", "x11-utils")):
        if ensure_debian_package(binary, package) is None:
            log(f"desktop: {binary} missing and not installable here (Debian package {package})")
            yield None
            return
    from tests.xvfb import VirtualDesktop

    try:
        screen = VirtualDesktop()
        screen.start()
    except RuntimeError as exc:
        log(f"desktop: {exc}")
        yield None
        return
    try:
        env = screen.env({})
        yield {key: env[key] for key in ("DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")}
    finally:
        screen.close()


def app_env(base: dict[str, str], screen: dict[str, str] | None) -> dict[str, str]:
    """The tray app's environment: on the bench desktop when there is one, else offscreen."""
    env = dict(base)
    for var in ("WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "QT_QPA_PLATFORM", "DISPLAY"):
        env.pop(var, None)
    env.update(screen or {"QT_QPA_PLATFORM": "offscreen"})
    return env


def wait_for_line(path: Path, needle: str, timeout: float, step: float = 0.002) -> str | None:
    """The first line of the log at `path` containing `needle`, polled until `timeout`."""
    import time

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            text = ""
        for line in text.splitlines():
            if needle in line:
                return line
        time.sleep(step)
    return None
