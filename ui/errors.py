"""Unexpected exceptions: logged with their traceback and shown, never silent.

PySide6 hands an exception raised in a slot to sys.excepthook and carries on; the
default hook prints to a stderr nobody reads (the app starts from a menu or at login).
This hook logs it and tells the user, once per burst, without a modal loop.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox

from app import APP_DISPLAY_NAME
from app.redact import redact

log = logging.getLogger("lifeline.errors")

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


class ErrorReporter(QObject):
    """Owns the hook. `show` is how a message reaches the user (a box by default)."""

    _report = Signal(str)  # hop to the GUI thread when a worker thread raised

    def __init__(
        self,
        *,
        log_file: str = "",
        show: Callable[[str], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._log_file = log_file
        self._show = show or self._message_box
        self._previous: ExceptHook | None = None
        self._previous_thread_hook: Callable[[threading.ExceptHookArgs], object] | None = None
        self._box: QMessageBox | None = None
        self._unseen = 0
        self.count = 0
        self._report.connect(self._present, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._previous = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook = self._previous
        if self._previous_thread_hook is not None:
            threading.excepthook = self._previous_thread_hook

    def excepthook(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            if self._previous is not None:
                self._previous(kind, exc, tb)
            return
        self.count += 1
        log.error("unexpected error", exc_info=(kind, exc, tb))
        # The exception's text may quote a URL with its token (the log is redacted too).
        summary = redact(" ".join(f"{kind.__name__}: {exc}".split()))[:300]
        # Queued even on the GUI thread: the hook may run inside a paint or a menu.
        self._report.emit(summary)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def report(self, message: str) -> None:
        """An error that is not an exception (e.g. the bridge's error signal)."""
        log.error("%s", message)
        self._report.emit(redact(message))

    @Slot(str)
    def _present(self, summary: str) -> None:
        self._show(summary)

    def _message_box(self, summary: str) -> None:
        if self._box is not None and self._box.isVisible():
            # A burst of errors: one box, counting, instead of a pile of windows.
            self._unseen += 1
            self._box.setInformativeText(f"{self._unseen} more since. Details in {self._log_file}")
            return
        self._unseen = 0
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            f"{APP_DISPLAY_NAME}: unexpected error",
            f"Something went wrong, and Lifeline kept running.\n\n{summary}",
            QMessageBox.StandardButton.Close,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        if self._log_file:
            box.setInformativeText(f"Details are in {self._log_file}")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._forget_box)
        self._box = box
        box.open()
        QTimer.singleShot(0, box.raise_)

    @Slot()
    def _forget_box(self) -> None:
        self._box = None
