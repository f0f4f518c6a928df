"""Logging set-up shared by the CLI and the tray app."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path

from app.redact import RedactingFilter

# httpx2 (like httpx) logs every request's full URL at INFO, query and userinfo
# included; that is where tokens leak. Keep it, and its transport, at WARNING; aiohttp
# (the probes' transport) too, so a debug log level never prints its internals.
_NOISY = ("httpx2", "httpx", "httpcore", "httpcore2", "hpack", "asyncio", "aiohttp")


class PrivateLogFile(logging.handlers.RotatingFileHandler):
    """A rotating log only its owner can read (0600, as every other file of Lifeline):
    it names sites, URLs and errors. Rotated and pre-existing files get the same mode."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if hasattr(os, "fchmod"):  # POSIX; Windows has no such mode bits
            os.fchmod(fd, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115


def quiet_http_loggers() -> None:
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup_logging(
    log_file: Path | None, *, level: int = logging.INFO, stderr: bool = False
) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            PrivateLogFile(log_file, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        )
    if stderr:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(fmt)
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    quiet_http_loggers()
