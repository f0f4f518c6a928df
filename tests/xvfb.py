"""A real X desktop for tests and screenshots: Xvfb plus Debian's `trayer` as tray host.

Xvfb picks a free display itself (-displayfd), so parallel runs do not collide. The
environment handed to the app drops the session bus and Wayland, so Qt talks XEmbed to
trayer (the tray we screenshot) instead of some StatusNotifier host of the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TOOLS = ("Xvfb", "trayer", "import", "xwininfo")
PANEL_HEIGHT = 32


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def poll(predicate: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy (returned) or `timeout` passes (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(step)


class VirtualDesktop:
    def __init__(self, width: int = 800, height: int = 600, *, tray: bool = True) -> None:
        self.width = width
        self.height = height
        self.tray = tray
        self.display = ""
        self._procs: list[subprocess.Popen[bytes]] = []
        self._logs = Path(tempfile.mkdtemp(prefix="lifeline-xvfb-"))

    def __enter__(self) -> VirtualDesktop:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
             f"{self.width}x{self.height}x24", "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=open(self._logs / "xvfb.log", "wb"),  # noqa: SIM115 - lives with the process
        )
        self._procs.append(xvfb)
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()  # Xvfb writes it once it accepts clients
        if not number:
            self.close()
            raise RuntimeError(f"Xvfb did not start: {(self._logs / 'xvfb.log').read_text()}")
        self.display = f":{number}"
        if self.tray:
            self.start_tray()

    def start_tray(self) -> None:
        trayer = subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel",
             "--width", "160", "--height", str(PANEL_HEIGHT), "--transparent", "false",
             "--SetDockType", "true", "--SetPartialStrut", "true", "--expand", "false"],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=open(self._logs / "trayer.log", "wb"),  # noqa: SIM115
        )
        self._procs.append(trayer)
        if poll(self.panel_geometry, timeout=10) is None:
            raise RuntimeError(f"trayer did not map its panel: {self.log('trayer')}")

    def log(self, name: str) -> str:
        path = self._logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        for var in ("WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "QT_QPA_PLATFORM"):
            env.pop(var, None)
        env["DISPLAY"] = self.display
        env["QT_QPA_PLATFORM"] = "xcb"
        env["XDG_SESSION_TYPE"] = "x11"
        return env

    def panel_geometry(self) -> tuple[int, int, int, int] | None:
        """(x, y, width, height) of trayer's panel window, or None before it is mapped."""
        out = subprocess.run(
            ["xwininfo", "-root", "-tree"], env=self.env(), capture_output=True, text=True
        ).stdout
        for line in out.splitlines():
            if '"panel": ("panel" "trayer")' in line:
                geometry = line.split(")")[-1].split()[0]  # e.g. 160x32+640+0
                size, _, rest = geometry.partition("+")
                w, h = (int(v) for v in size.split("x"))
                x, y = (int(v) for v in rest.split("+")[:2])
                return x, y, w, h
        return None

    def screenshot(self, path: Path, *, crop: tuple[int, int, int, int] | None = None) -> Path:
        cmd = ["import", "-window", "root"]
        if crop is not None:
            x, y, w, h = crop
            cmd += ["-crop", f"{w}x{h}+{x}+{y}", "+repage"]
        subprocess.run([*cmd, str(path)], env=self.env(), check=True, capture_output=True)
        return path

    def close(self) -> None:
        stop_all(self._procs)
        shutil.rmtree(self._logs, ignore_errors=True)


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    """End the programs a desktop started, the last started first (politely, then not),
    and forget them."""
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    procs.clear()
