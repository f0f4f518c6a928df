"""`lifeline --self-test`: check this installation, offline, one line per step.

Meant for the frozen app first (what PyInstaller left out shows up here, not on a
user's desktop), but it runs the same from a source checkout or a pip/pipx install.
Offscreen and without the network: every request goes to a server on 127.0.0.1 that
the self-test starts itself. Prints `ok  <step>: <detail>` or `FAIL <step>: <why>` per
step and exits 0 only when every step passed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from app import APP_ID, __version__
from app.paths import Paths
from ui.resource_dirs import resource_dirs

_IMPORTED_AT = time.monotonic()

# A minimal, valid Statuspage v2 summary: all systems operational.
_SUMMARY = {
    "page": {"id": "selftest", "name": "Self-test", "url": "https://status.invalid"},
    "status": {"indicator": "none", "description": "All Systems Operational"},
    "components": [{"id": "c1", "name": "Sites", "status": "operational"}],
    "incidents": [],
    "scheduled_maintenances": [],
}
CHECK_DEADLINE = 20.0  # seconds for the loopback check, far above its ~0.1 s


class StepFailed(Exception):
    """A step found something wrong; the message says what, in one line."""


@dataclass
class Context:
    paths: Paths | None
    out: TextIO
    app: Any = None  # the QApplication
    first_icon_after: float | None = None  # seconds from process start
    clock_origin: str = "process start"
    failed: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- timing


def process_age() -> tuple[float, str]:
    """Seconds since this process started, and what they are counted from.

    Linux tells the start time in /proc; elsewhere the count starts when this module
    was imported, which leaves out the interpreter's own start-up (said in the label).
    """
    try:
        stat = Path("/proc/self/stat").read_text()
        # Field 22 (starttime) counts clock ticks since boot; the command name before
        # it may contain spaces, hence the split after the closing parenthesis.
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK")), "process start"
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _IMPORTED_AT, "self-test start"


# --------------------------------------------------------------------------- steps


def step_qt(ctx: Context) -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QLibraryInfo
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon  # noqa: F401 - the tray's

    from ui.qt_locale import prefer_utf8_locale

    prefer_utf8_locale()  # else Qt's locale warning lands in the middle of the report
    ctx.app = QApplication.instance() or QApplication([sys.argv[0], "-platform", "offscreen"])
    # Where Qt looks for plugins: its own path, and what a bundle's runtime hook added.
    roots = [QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath), *ctx.app.libraryPaths()]
    folders = list(dict.fromkeys(Path(root) / "platforms" for root in roots))
    names = sorted({
        p.name.removeprefix("libq").removeprefix("q").split(".")[0]
        for folder in folders
        for p in folder.glob("*")
        if p.suffix in (".so", ".dll", ".dylib")
    })
    needed = {"linux": "xcb", "darwin": "cocoa", "win32": "windows"}.get(sys.platform)
    if needed and needed not in names:
        looked = ", ".join(str(f) for f in folders)
        raise StepFailed(f"the {needed} platform plugin is missing (looked in {looked})")
    loads = ""
    if sys.platform.startswith("linux") and _check_loadable(folders, "libqxcb.so"):
        loads = " (xcb loads with this system's libraries)"

    return f"PySide6 {pyside_version}, platform plugins: {', '.join(names) or 'none found'}{loads}"


def _check_loadable(folders: list[Path], filename: str) -> bool:
    """Load a platform plugin's library to prove its system libraries are there.

    Offscreen hides it, but the tray needs the X11 plugin, which links libxcb-* and
    libxkbcommon from the system: a missing one is Qt's "could not load the Qt platform
    plugin" at the user's first start. The dynamic loader names the missing library.
    """
    import ctypes

    for folder in folders:
        plugin = folder / filename
        if plugin.exists():
            try:
                ctypes.CDLL(str(plugin))
            except OSError as exc:
                raise StepFailed(f"{filename} cannot load: {exc}") from None
            return True
    return False


def step_modules(ctx: Context) -> str:
    """Every module of app/ and ui/ imports: what a frozen build left out fails here.

    The CLI, the tray and its optional parts import modules by name, so a missing one
    (or one that needs an excluded Qt module) would only show when a user clicks.
    """
    import pkgutil

    import app
    import ui

    names = []
    for package in (app, ui):
        prefix = package.__name__ + "."
        names += [m.name for m in pkgutil.walk_packages(package.__path__, prefix)]
    # __main__ modules run the program when imported; this module is already running.
    names = [n for n in names if not n.endswith("__main__") and n != __name__]
    broken = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:
            broken.append(f"{name} ({type(exc).__name__}: {exc})")
    if broken:
        raise StepFailed(f"{len(broken)} of {len(names)} modules do not import: "
                         + "; ".join(broken))
    required = {"ui.main", "ui.tray", "app.monitor", *_cli_commands()}
    missing = sorted(required - set(names))
    if missing:
        raise StepFailed(f"missing from this build: {', '.join(missing)}")
    return f"{len(names)} modules of app/ and ui/ import"


def _cli_commands() -> set[str]:
    from app.commands import COMMANDS

    return set(COMMANDS.values())


def step_icons(ctx: Context) -> str:
    from PySide6.QtGui import QColor

    from app.models import OverallState
    from ui import icons
    from ui.palette import glyph_colour

    states = list(OverallState)
    sizes = icons.SIZES
    for state in states:
        colour, glyph = icons.OVERALL_LOOK[state]
        want = QColor(colour)
        for size in sizes:
            image = icons.render_image(colour, glyph, False, size)
            if ctx.first_icon_after is None:
                ctx.first_icon_after, ctx.clock_origin = process_age()
            if image.isNull() or image.width() != size:
                raise StepFailed(f"{state.value} at {size} px: no image")
            fill, glyph_px = _count_pixels(image, want, QColor(glyph_colour(colour)))
            area = size * size
            # The tray spec: the state colour is most of the icon, and a glyph is drawn.
            if fill < 0.4 * area or glyph_px < 0.03 * area:
                raise StepFailed(
                    f"{state.value} at {size} px: {fill} state-coloured and {glyph_px} glyph "
                    f"pixels of {area}"
                )
    icon_set = icons.IconSet()
    for state in states:
        icon = icon_set.overall(state)
        if icon.isNull():
            raise StepFailed(f"the tray icon for {state.value} is empty")
    return f"{len(states)} states x {len(sizes)} sizes rendered"


def _count_pixels(image: Any, want: Any, glyph: Any) -> tuple[int, int]:
    fill = white = 0
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if pixel.alpha() < 200:
                continue
            if (
                abs(pixel.red() - want.red()) < 24
                and abs(pixel.green() - want.green()) < 24
                and abs(pixel.blue() - want.blue()) < 24
            ):
                fill += 1
            elif (
                abs(pixel.red() - glyph.red()) < 56
                and abs(pixel.green() - glyph.green()) < 56
                and abs(pixel.blue() - glyph.blue()) < 56
            ):
                white += 1  # the glyph (white, or dark on amber)
    return fill, white


def find_resources() -> tuple[Path, Path, list[Path]]:
    """(desktop entry, SVG icon, PNG icons) from the first place that has them all."""
    for base in resource_dirs():
        desktop = next(
            (p for p in (base / f"{APP_ID}.desktop", base / "applications" / f"{APP_ID}.desktop")
             if p.is_file()),
            None,
        )
        svg = next(
            (p for p in (base / "icons" / f"{APP_ID}.svg",
                         base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg")
             if p.is_file()),
            None,
        )
        pngs = sorted((base / "icons" / "hicolor").glob(f"*/apps/{APP_ID}.png"))
        if desktop and svg and pngs:
            return desktop, svg, pngs
    looked = ", ".join(str(p) for p in resource_dirs())
    raise StepFailed(f"no desktop entry and app icon found (looked in {looked})")


def step_resources(ctx: Context) -> str:
    from PySide6.QtGui import QImage
    from PySide6.QtSvg import QSvgRenderer

    desktop, svg, pngs = find_resources()
    entry = desktop.read_text("utf-8")
    if "[Desktop Entry]" not in entry or f"Icon={APP_ID}" not in entry or "Exec=" not in entry:
        raise StepFailed(f"{desktop} is not Lifeline's desktop entry")
    if not QSvgRenderer(str(svg)).isValid():
        raise StepFailed(f"{svg} does not load as SVG")
    for png in pngs:
        size = int(png.parent.parent.name.split("x")[0])
        image = QImage(str(png))
        if image.isNull() or image.width() != size:
            raise StepFailed(f"{png} does not load as a {size} px PNG")
    sizes = sorted(int(p.parent.parent.name.split("x")[0]) for p in pngs)
    return (
        f"desktop entry, SVG icon and {len(pngs)} PNGs ({sizes[0]}..{sizes[-1]} px) "
        f"from {desktop.parent}"
    )


def step_keyring(ctx: Context) -> str:
    from importlib.metadata import entry_points

    from app.credentials import CredentialStore

    # keyring discovers backends through this entry-point group; a frozen app without
    # keyring's metadata (or without the modules) never finds the Secret Service.
    found = {ep.name: ep.value for ep in entry_points(group="keyring.backends")}
    if not found:
        raise StepFailed("keyring's backend entry points are missing (metadata not bundled)")
    broken = []
    for name, module in sorted(found.items()):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            # Platform backends import fine everywhere; a failure means a module was
            # left out of the bundle.
            broken.append(f"{name} ({exc})")
    if broken:
        raise StepFailed(f"keyring backends that do not import: {', '.join(broken)}")
    if sys.platform.startswith("linux"):
        import secretstorage  # noqa: F401 - SecretService needs it at run time

        if "SecretService" not in found:
            raise StepFailed("keyring's SecretService backend is not registered")
    store = CredentialStore()
    name = store.backend_name
    if store.available():
        return f"backend {name} ({len(found)} backends registered)"
    # Not a failure: a headless box has no keyring; the app then keeps secrets for the
    # session only, and says so in Settings.
    reason = store.unavailable_reason or "no usable backend"
    return f"no usable backend here ({reason}); {len(found)} backends registered"


class _Handler(BaseHTTPRequestHandler):
    server: _LoopbackServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.paths_seen.append(self.path)
        if self.path.startswith("/api/v2/summary.json"):
            body = json.dumps(_SUMMARY).encode()
            ctype = "application/json"
        else:
            body = b"<!doctype html><title>self-test</title><p>ok</p>"
            ctype = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the self-test prints its own lines


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.paths_seen: list[str] = []


@contextmanager
def loopback_server() -> Iterator[_LoopbackServer]:
    server = _LoopbackServer()
    thread = threading.Thread(target=server.serve_forever, name="selftest-http", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def selftest_config(base: str) -> Any:
    from app.config import Config, MonitorConfig, ProviderConfig, SiteConfig

    return Config(
        provider=ProviderConfig(name="Self-test", status_page=base),
        monitor=MonitorConfig(timeout=5.0, retries=0, interval=60.0, slow=5.0),
        sites=(
            SiteConfig(name="selftest", url=f"{base}/", backend_url=f"{base}/user/login"),
        ),
    )


def step_check(ctx: Context) -> str:
    from app.models import OverallState

    with _loopback_only(), loopback_server() as server:
        host, port = server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        config = selftest_config(f"http://{host}:{port}")
        started = time.monotonic()
        how, report = asyncio.run(_one_check(config))
        took = time.monotonic() - started
        seen = list(server.paths_seen)
    expected = {"/", "/user/login", "/api/v2/summary.json"}
    if not expected <= set(seen):
        raise StepFailed(f"the check did not request {sorted(expected - set(seen))}")
    if report.overall is not OverallState.OPERATIONAL:
        reasons = "; ".join(s.reason for s in report.sites) or report.platform.error or ""
        raise StepFailed(f"{how}: expected operational, got {report.overall.value} ({reasons})")
    return (
        f"1 site and its status page on 127.0.0.1:{port} checked through the {how}: "
        f"operational in {took:.2f} s"
    )


@contextmanager
def _loopback_only() -> Iterator[None]:
    # A proxy from the environment must not carry requests meant for 127.0.0.1.
    saved = {k: os.environ.get(k) for k in ("NO_PROXY", "no_proxy")}
    for key in saved:
        os.environ[key] = ",".join(filter(None, [saved[key], "127.0.0.1", "localhost"]))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def _one_check(config: Any) -> tuple[str, Any]:
    """One check through the monitor when it exists, else through run_check."""
    try:
        monitor_mod = importlib.import_module("app.monitor")
    except ModuleNotFoundError:
        monitor_mod = None
    if monitor_mod is not None and hasattr(monitor_mod, "Monitor"):
        return "monitor", await _monitor_check(monitor_mod.Monitor, config)
    from app.check import probe_options, run_check

    options = replace(probe_options(config), trust_env=False)
    report = await asyncio.wait_for(run_check(config, options=options), CHECK_DEADLINE)
    return "check runner", report


async def _monitor_check(monitor_cls: Callable[..., Any], config: Any) -> Any:
    from app.events import CheckCompleted, MonitorError

    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(event: object) -> None:
        if done.done():
            return
        if isinstance(event, CheckCompleted) and event.snapshot.report is not None:
            done.set_result(event.snapshot.report)
        elif isinstance(event, MonitorError):
            done.set_exception(StepFailed(f"monitor error: {event.message}"))

    def on_event(event: object) -> None:
        # Subscribers may be called from the monitor's own thread.
        loop.call_soon_threadsafe(settle, event)

    monitor = monitor_cls(config)
    monitor.subscribe(on_event)
    task = asyncio.ensure_future(monitor.run())
    try:
        waiting = [done, task]
        finished, _ = await asyncio.wait(
            waiting, timeout=CHECK_DEADLINE, return_when=asyncio.FIRST_COMPLETED
        )
        if done in finished:
            return done.result()
        if task in finished:
            task.result()  # raises what ended the monitor
            raise StepFailed("the monitor stopped before its first check completed")
        raise StepFailed(f"no completed check within {CHECK_DEADLINE:.0f} s")
    finally:
        monitor.stop()
        try:
            await asyncio.wait_for(task, 5)
        except (asyncio.CancelledError, TimeoutError):
            task.cancel()


def step_autostart(ctx: Context) -> str:
    autostart = importlib.import_module("app.autostart")
    if not autostart.is_supported():
        return "not supported on this platform"
    command = autostart.launch_command()
    return f"start at login would run {autostart.exec_line(command)}"


STEPS: list[tuple[str, Callable[[Context], str]]] = [
    ("qt", step_qt),
    ("icons", step_icons),
    ("modules", step_modules),
    ("resources", step_resources),
    ("keyring", step_keyring),
    ("check", step_check),
    ("autostart", step_autostart),
]


# --------------------------------------------------------------------------- entry


def run(args: argparse.Namespace | None = None, paths: Paths | None = None) -> int:
    return self_test(paths=paths)


def self_test(*, paths: Paths | None = None, out: TextIO | None = None) -> int:
    # Offscreen whatever the session has: the self-test must pass on a server, in CI,
    # and never flash a window on a desktop.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    ctx = Context(paths=paths, out=out or sys.stdout)
    frozen = "frozen" if getattr(sys, "frozen", False) else "Python package"
    _say(ctx, f"lifeline {__version__} self-test ({frozen}, {sys.platform}, Python "
              f"{sys.version.split()[0]})")
    for name, step in STEPS:
        try:
            detail = step(ctx)
        except StepFailed as exc:
            ctx.failed.append(name)
            _say(ctx, f"FAIL {name}: {exc}")
        except Exception as exc:  # report any breakage as this step's failure, then go on
            ctx.failed.append(name)
            _say(ctx, f"FAIL {name}: {type(exc).__name__}: {exc}")
        else:
            _say(ctx, f"ok  {name}: {detail}")
    if ctx.first_icon_after is not None:
        _say(ctx, f"ok  startup: first icon {ctx.first_icon_after:.2f} s after {ctx.clock_origin}")
    else:
        ctx.failed.append("startup")
        _say(ctx, "FAIL startup: no icon was rendered")
    if ctx.failed:
        _say(ctx, f"self-test FAILED: {', '.join(ctx.failed)}")
        return 1
    _say(ctx, "self-test passed")
    return 0


def _say(ctx: Context, line: str) -> None:
    print(line, file=ctx.out, flush=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(self_test())
