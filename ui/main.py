"""`lifeline` with no subcommand: the tray app.

run() checks for a display, claims the single instance, loads the config, and wires the
parts together through their constructors: Monitor -> Bridge (worker loop) -> TrayIcon
(icon, menu, notifications), with the Settings dialog, the ticket form and start at
login plugged in as callables. Nothing here is global; nothing asks QApplication for it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from app import APP_DISPLAY_NAME, APP_ID, __version__
from app.config import Config, ConfigError, ConfigMissing, load_config
from app.logs import setup_logging
from app.models import EXIT_USAGE
from app.paths import Paths

if TYPE_CHECKING:  # types only: each of these loads when first used, not at start-up
    from PySide6.QtWidgets import QApplication, QDialog

    from app.demo import Demo
    from app.history import History
    from app.monitor import Monitor
    from app.planned import PlannedNotices
    from ui.desktop_notifications import DesktopNotifications
    from ui.outbox_offer import OutboxOffer
    from ui.status_window import StatusWindow
    from ui.tray import TrayIcon
    from ui.window.main_window import LifelineWindow
    from ui.workers import Workers

log = logging.getLogger("lifeline.ui")

TRAY_RETRY_MS = 2000
TRAY_WAIT_MS = 30_000  # a desktop still starting usually has its tray within seconds
EXIT_NO_DISPLAY = 2
QUIT_GRACE_MS = 6000


def display_problem(env: dict[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why Qt could not open a window here, or None. Checked before Qt aborts on it."""
    environ = os.environ if env is None else env
    plat = platform or sys.platform
    if not plat.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return None
    wayland = environ.get("WAYLAND_DISPLAY")
    display = environ.get("DISPLAY")
    if not display and not wayland:
        return "no display (DISPLAY and WAYLAND_DISPLAY are not set)"
    if display and not wayland and display.startswith(":"):
        number = display[1:].split(".", 1)[0]
        if number.isdigit() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return f"cannot reach the X display {display}"
    return None


def run(args: argparse.Namespace, paths: Paths) -> int:
    started = time.monotonic()
    setup_logging(paths.log_file)
    problem = display_problem()
    if problem:
        print(
            f"lifeline: {problem}; the tray app needs a desktop. Without one, use "
            "`lifeline check` (check once) or `lifeline watch` (monitor continuously).",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY

    qt_app = _make_qt_app()
    from ui.single_instance import SingleInstance

    demo_mode = bool(getattr(args, "demo", False))
    # The demo is its own instance: it must neither hide behind nor block the real app.
    instance = SingleInstance(paths.runtime_dir, "lifeline-demo" if demo_mode else "lifeline")
    wants_window = bool(getattr(args, "window", False))
    if not instance.claim():
        if instance.send("window" if wants_window else "menu"):
            opened = "its window" if wants_window else "its menu"
            print(f"lifeline: already running; opened {opened}.", file=sys.stderr)
            return 0
        print("lifeline: another Lifeline holds the lock but does not answer.", file=sys.stderr)
        return 1

    demo: Demo | None = None
    stuck = False
    code = 0
    try:
        if demo_mode:
            demo = _start_demo()
            if demo is None:
                return 1
            # Everything the demo writes (its config, history, drafts) stays in its
            # temporary folder, never in the user's real files.
            config, config_path, first_run = demo.config, demo.config_path, False
            paths = replace(paths, config_dir=demo.config_path.parent,
                            data_dir=demo.config_path.parent)
        else:
            config_path = args.config if getattr(args, "config", None) else paths.config_file
            try:
                config, first_run = load_config(config_path), False
            except ConfigMissing:
                config, first_run = Config(source=str(config_path)), True
            except ConfigError as exc:
                return _config_problem(exc)
        tray_app = TrayApp(qt_app, paths, config, config_path=config_path, started=started,
                           freeze_imports=True)
        tray_app.start(first_run=first_run)
        if wants_window and not first_run:
            tray_app.open_window()
        instance.requested.connect(tray_app.handle_request)
        code = qt_app.exec()
        stuck = not tray_app.close()
        return code
    finally:
        if demo is not None:
            demo.stop()
        instance.release()
        if stuck:
            # Python would wait at exit for a worker thread blocked in C (a keyring
            # prompt, a DNS lookup): the history is committed, so leave now.
            logging.shutdown()
            os._exit(code)


def _make_qt_app() -> QApplication:
    """The QApplication, with the interpreter tuned for a GUI thread that never waits."""
    # Qt is imported only now: `lifeline check` and the no-display path never load it.
    from PySide6.QtWidgets import QApplication

    from ui.interpreter import tune_for_gui

    # The GUI thread shares this process (and its GIL) with the monitor: with Python's
    # 5 ms switch interval a slot waited 40-70 ms at the end of a round; at 0.2 ms the
    # longest gap measured by bench.gui_heartbeat is 13-16 ms, at no measurable CPU cost.
    # The engine's imports are also frozen out of the GC (TrayApp, freeze_imports): a
    # full collection over them held the GIL for 30-35 ms. Both in ui/interpreter.py.
    tune_for_gui()
    from ui.qt_locale import prefer_utf8_locale

    prefer_utf8_locale()  # Qt's own switch, minus its three lines of warning
    qt_app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "lifeline"])
    assert isinstance(qt_app, QApplication)
    # Qt's StatusNotifierItem reports this as its Id and Title, and its notifications as
    # the app's name: what the panel's settings and the notification daemon show.
    qt_app.setApplicationName(APP_DISPLAY_NAME)
    qt_app.setApplicationDisplayName(APP_DISPLAY_NAME)
    qt_app.setApplicationVersion(__version__)
    qt_app.setDesktopFileName(APP_ID)
    qt_app.setQuitOnLastWindowClosed(False)  # closing Settings must not end monitoring
    _route_qt_messages()
    return qt_app


def _route_qt_messages() -> None:
    """Qt's own warnings go to the log file too (stderr is not seen from a tray app)."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("qt")
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


def _config_problem(exc: ConfigError) -> int:
    from PySide6.QtWidgets import QMessageBox

    log.error("config problem: %s", exc.one_line())
    print(f"lifeline: {exc.one_line()}", file=sys.stderr)
    box = QMessageBox(
        QMessageBox.Icon.Critical,
        f"{APP_DISPLAY_NAME}: config problem",
        f"{exc.one_line()}\n\nFix the file and start Lifeline again.",
        QMessageBox.StandardButton.Close,
    )
    box.exec()  # nothing else runs yet: a modal box is the whole app here
    return EXIT_USAGE


def _start_demo() -> Demo | None:
    module = _optional_module("app.demo")
    if module is None or not hasattr(module, "start"):
        print("lifeline: demo mode is not part of this build.", file=sys.stderr)
        return None
    demo: Demo = module.start()
    return demo


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise  # the module exists but something it needs does not: a real error
        return None


def _desktop_notifications(workers: Workers) -> DesktopNotifications | None:
    """The notification server spoken to directly, where a session bus is (Linux, BSD);
    elsewhere Qt's own messages (macOS, Windows: no NeedsAttention icon swap there)."""
    if sys.platform in ("darwin", "win32") or not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    from ui.desktop_notifications import DesktopNotifications

    return DesktopNotifications(workers)


class TrayApp:
    """The running app: owns the monitor's bridge, the tray (or status window), dialogs."""

    def __init__(
        self,
        qt_app: QApplication,
        paths: Paths,
        config: Config,
        *,
        config_path: Path | None,
        started: float,
        tray_wait_ms: int = TRAY_WAIT_MS,
        tray_retry_ms: int = TRAY_RETRY_MS,
        exit_app: Callable[[int], None] | None = None,
        freeze_imports: bool = False,
    ) -> None:
        """`freeze_imports`: gc.freeze() the check engine once imported (see run())."""
        from PySide6.QtCore import QTimer

        from app.credentials import CredentialStore
        from ui.bridge import Bridge
        from ui.errors import ErrorReporter
        from ui.icons import IconSet
        from ui.workers import Workers

        self._qt_app = qt_app
        self._paths = paths
        self._config_path = config_path
        self._started = started
        self._freeze_imports = freeze_imports
        self._tray_wait_ms = tray_wait_ms
        self._waited_ms = 0
        self._settings: QDialog | None = None
        self._quit_waits: list[QDialog] = []
        self._stopping = False
        self.status_window: StatusWindow | None = None
        self.window: LifelineWindow | None = None

        self.errors = ErrorReporter(log_file=str(paths.log_file))
        self.errors.install()
        self.store = CredentialStore(plaintext_path=paths.plaintext_secrets)
        self.history: History | None = None
        # Made on the worker thread: importing the check engine (aiohttp and all) takes
        # a good part of a second, and the icon should not wait for it.
        # Every background job of every window runs through these, on the monitor's loop
        # while it runs (and on a loop of their own before or after).
        self.workers = Workers()
        # The monitor is made from the bridge's config when it starts: on a first run
        # that is the config of the first Save, not the empty one (see start()).
        self.bridge = Bridge(lambda: self._make_monitor(self.bridge.config), config,
                             workers=self.workers)
        self.icons = IconSet()
        autostart = _optional_module("app.autostart")
        self.desktop_notifications = _desktop_notifications(self.workers)
        self.tray = self._make_tray(paths, autostart)
        # Saved tickets that could not be sent are offered (never sent silently) once the
        # checks show the network working again (issue 5). Set up from start(): its module
        # brings the ticket machinery (New Relic, the ticket form), a tenth of a second
        # of imports the icon should not wait for.
        self.outbox_offer: OutboxOffer | None = None
        # exit(), not quit(): Qt 6's quit() is refused while any window declines to close.
        self._exit = exit_app or qt_app.exit
        self.bridge.finished.connect(lambda: self._exit(0))
        self._tray_timer = QTimer()
        self._tray_timer.setInterval(tray_retry_ms)
        self._tray_timer.timeout.connect(self._retry_tray)
        self._signals = _SignalWakeup(lambda: self.quit(force=True))

    def _make_tray(self, paths: Paths, autostart: ModuleType | None) -> TrayIcon:
        """The tray icon with its menu's windows and actions plugged in."""
        from app.snooze import SnoozeStore
        from ui.snooze_actions import SnoozeActions
        from ui.tray import TrayIcon

        tray = TrayIcon(
            self.bridge,
            self.icons,
            open_settings=self.open_settings,
            open_ticket_form=self._ticket_opener(),
            autostart=autostart,
            on_quit=self.quit,
            show_error=self.errors.report,
            log_file=str(paths.log_file),
            planned_notices=self._planned_notices(paths),
            desktop_notifications=self.desktop_notifications,
        )
        tray.open_newrelic = self.open_newrelic
        tray.open_window = self.open_window
        tray.snooze_site = SnoozeActions(
            SnoozeStore(paths.snoozes), self.workers, self.bridge.check_now
        )
        return tray

    def _planned_notices(self, paths: Paths) -> PlannedNotices:
        """Which planned-maintenance notices were shown; written off the GUI thread."""
        from app.atomic import atomic_write_text
        from app.planned import PlannedNotices

        def save(path: Path, text: str) -> None:
            self.workers.submit(lambda: atomic_write_text(path, text), lane="planned-notices")

        return PlannedNotices(paths.planned_notices, save=save)

    def _make_monitor(self, config: Config) -> Monitor:
        from ui.interpreter import imports_frozen

        with imports_frozen() if self._freeze_imports else contextlib.nullcontext():
            from app.history import History
            from app.monitor import Monitor
            from app.silence import Silencer
            from app.snooze import SnoozeStore

            self.history = History(self._paths.history_db)
            silencer = Silencer(config, SnoozeStore(self._paths.snoozes))
            return Monitor(config, history=self.history, silencer=silencer)

    # -- start-up ------------------------------------------------------------------------

    def start(self, *, first_run: bool) -> None:
        # A first run stays silent until the first Save: no check (so no "platform
        # unknown" or "network down" balloon over the welcome dialog) and no history
        # database written before the user has agreed to anything.
        if not first_run:
            self.bridge.start()
        self._show_tray_or_wait()
        if self.desktop_notifications is not None:
            self.desktop_notifications.start()  # connects on a worker
        from ui.app_icon import app_icon

        # After the icon is up: every window from here on carries Lifeline's icon.
        self._qt_app.setWindowIcon(app_icon())
        # Imported on the worker, so the GUI thread does not pay for it either; the first
        # check (which the offer waits for) takes longer than this import.
        self.workers.submit(
            lambda: _optional_module("ui.outbox_offer"), self._watch_outbox,
            on_error=lambda exc: log.error("saved tickets cannot be offered", exc_info=exc),
        )
        if first_run:
            self._first_run()

    def _watch_outbox(self, module: ModuleType | None) -> None:
        if module is None or self.outbox_offer is not None:
            return
        self.outbox_offer = module.watch_outbox(self.bridge, paths=self._paths, store=self.store)
        self.outbox_offer.on_snapshot(self.bridge.snapshot)  # in case a check already ended

    def _show_tray_or_wait(self) -> None:
        from PySide6.QtWidgets import QSystemTrayIcon

        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.show()
            log.info(
                "tray icon shown %.0f ms after start", (time.monotonic() - self._started) * 1000
            )
            return
        log.info("no system tray yet; retrying for %d s", self._tray_wait_ms // 1000)
        self._tray_timer.start()

    def _retry_tray(self) -> None:
        from PySide6.QtWidgets import QSystemTrayIcon

        self._waited_ms += self._tray_timer.interval()
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._tray_timer.stop()
            self.tray.show()
            if self.status_window is not None:
                self.status_window.hide()
            log.info("system tray appeared after %d ms", self._waited_ms)
        elif self._waited_ms >= self._tray_wait_ms:
            # Stop polling: no timer keeps waking an idle process.
            self._tray_timer.stop()
            log.warning("no system tray after %d s: showing the status window",
                        self._waited_ms // 1000)
            self.show_status_window()

    def show_status_window(self) -> None:
        from ui.status_window import StatusWindow

        if self.status_window is None:
            self.status_window = StatusWindow(
                self.bridge, self.icons, open_settings=self.open_settings, on_quit=self.quit
            )
            self.tray.notification_fallback = self.status_window.show_notification
        self.status_window.show()
        self.status_window.raise_()
        self.status_window.activateWindow()

    def _first_run(self) -> None:
        settings = _optional_module("ui.settings")
        if settings is not None and hasattr(settings, "open_first_run"):
            self._settings = settings.open_first_run(
                paths=self._paths,
                store=self.store,
                on_saved=self._on_saved,
                workers=self.workers,
                config_path=self._config_path,
            )
            return
        self.errors.report(
            f"No configuration yet. Create {self._config_path} (one [[site]] table with a "
            "name and a url is enough) and start Lifeline again."
        )

    # -- actions --------------------------------------------------------------------------

    def handle_request(self, request: str) -> None:
        """A second launch asked for something."""
        if request == "settings":
            self.open_settings()
        elif request == "window":
            self.open_window()
        elif self.tray.tray.isVisible() and self.tray.tray.geometry().isValid():
            self.tray.open_menu()  # next to the icon (XEmbed: the tray says where it is)
        elif self.tray.tray.isVisible():
            # StatusNotifierItem: the panel draws the menu and opens it only on a click,
            # and never says where the icon is; the window is what a launch can show.
            self.open_window()
        else:
            self.show_status_window()

    def open_settings(self) -> None:
        if self._settings is not None and self._settings.isVisible():
            self._settings.raise_()
            self._settings.activateWindow()
            return
        settings = _optional_module("ui.settings")
        if settings is None:
            self.errors.report(f"Settings are not part of this build; edit {self._config_path}.")
            return
        dialog = settings.SettingsDialog(
            self.bridge.config,
            paths=self._paths,
            store=self.store,
            on_saved=self._on_saved,
            workers=self.workers,
            config_path=self._config_path,
        )
        self._settings = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _on_saved(self, config: Config) -> None:
        count = len(config.sites)
        log.info("settings saved: %d site%s", count, "" if count == 1 else "s")
        self.bridge.update_config(config)
        if not self.bridge.running and not self._stopping:
            self.bridge.start()  # the first Save of a first run: monitoring begins
            log.info("monitoring started after the first save")

    def _ticket_opener(self) -> Callable[[str | None], None] | None:
        # Looked up, not imported: the form's module loads on first use, so start-up
        # (time to icon) does not pay for it.
        if importlib.util.find_spec("ui.ticket_form") is None:
            return None

        def open_form(site: str | None) -> None:
            from ui.ticket_form import open_ticket_form

            open_ticket_form(
                site,
                bridge=self.bridge,
                paths=self._paths,
                store=self.store,
                config=self.bridge.config,
            )

        return open_form

    def open_window(self) -> None:
        """The Lifeline window (issue 15): made on first use, then shown again."""
        if self.window is None:
            from ui.tray import open_in_browser
            from ui.window.main_window import LifelineWindow

            self.window = LifelineWindow(
                self.bridge,
                self.icons,
                self.workers,
                history_path=self._paths.history_db,
                open_url=open_in_browser,
                open_ticket_form=self._ticket_opener(),
            )
        self.window.open()

    def open_newrelic(self, site_name: str) -> None:
        """A site's New Relic findings (issue 8), fetched on the bridge's worker."""
        from PySide6.QtCore import Qt

        from ui.newrelic_window import NewRelicWindow

        config = self.bridge.config
        site = config.site(site_name)
        if site is None:
            return
        window = NewRelicWindow(config, site, store=self.store, workers=self.workers)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._newrelic_window = window  # kept alive while open
        window.show()
        window.raise_()
        window.activateWindow()

    def quit(self, *, force: bool = False) -> None:
        """Quit from the menu (open windows may object, e.g. unsaved settings) or, with
        force (SIGTERM at logout), unconditionally."""
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QDialog, QMenu, QMessageBox

        if not force:
            self._qt_app.closeAllWindows()
            still_open = [
                w for w in self._qt_app.topLevelWidgets()
                if w.isVisible() and not isinstance(w, QMenu)
            ]
            if still_open:
                # A window asked first (unsaved settings: "Discard?"). If the user lets
                # it go, the quit goes on; if they keep editing, it is cancelled.
                log.info("quit waits for: %s", still_open[0].windowTitle())
                for window in still_open:
                    if (
                        isinstance(window, QDialog)
                        and not isinstance(window, QMessageBox)
                        and window not in self._quit_waits
                    ):
                        self._quit_waits.append(window)
                        window.finished.connect(self._retry_quit)
                return
        log.info("quitting")
        self._stopping = True
        self.tray.hide()
        if not self.bridge.running:
            self._exit(0)  # a first run closed before its first Save: nothing to flush
            return
        self.bridge.stop()  # bridge.finished ends the event loop once the monitor flushed
        QTimer.singleShot(QUIT_GRACE_MS, lambda: self._exit(0))

    def _retry_quit(self) -> None:
        self._quit_waits.clear()
        self.quit()

    def close(self) -> bool:
        """Release everything; False if the worker thread is still stuck (see run())."""
        self._tray_timer.stop()
        if self.bridge.running:
            self.bridge.stop()
        finished = self.bridge.join(QUIT_GRACE_MS / 1000)
        if finished and self.history is not None:
            try:
                self.history.close()
            except Exception:  # logged; the app is ending either way
                log.exception("closing the history database failed")
        else:
            log.warning("the worker thread is still busy (a hung keyring prompt or lookup?)")
        if self.window is not None:
            self.window.close_history()
        if self.desktop_notifications is not None:
            self.desktop_notifications.close()  # ends jeepney's reader thread
        self.workers.shutdown()
        self.errors.uninstall()
        self._signals.close()
        return finished


class _SignalWakeup:
    """SIGTERM/SIGINT end the app cleanly (history flushed), without a polling timer.

    Python runs signal handlers only when the interpreter gets control; a socket pair
    registered with set_wakeup_fd makes Qt's loop notice the signal at once.
    """

    def __init__(self, on_signal: Callable[[], None]) -> None:
        from PySide6.QtCore import QSocketNotifier

        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno())
        self._previous = {
            sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        self._on_signal = on_signal
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            data = self._read.recv(64)
            if data:
                log.info("signal %s received", list(data))
                self._on_signal()

    def close(self) -> None:
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._read.close()
        self._write.close()
