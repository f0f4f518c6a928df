"""No secret in any output: redact() on every form a URL takes, logs with tracebacks,
the crash dialog's summary (issue 12, defects 8 and 11)."""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.logs import setup_logging
from app.redact import redact

SECRET = "s3cr3t-Tok-9911"


@pytest.mark.parametrize(
    "text",
    [
        f"https://h.example/cb#access_token={SECRET}&token_type=bearer",
        f"GET /login?token={SECRET} failed",
        f"redirected to /reset?next=/&password={SECRET}",
        f"ftp://admin:{SECRET}@files.example/pub",
        f"wss://push.example/socket?api_key={SECRET}",
        f"postgres://app:{SECRET}@db.internal:5432/x",
        f"sftp://{SECRET}@h.example/",
        f"https://h.example/p;session={SECRET}",
        f"https://h.example/p?token={SECRET};more",
        f"access_token={SECRET}",
        f"https://u:{SECRET}@h.example/?token=x#code={SECRET}",
    ],
)
def test_redact_masks_every_form_a_secret_takes_in_a_url(text: str) -> None:
    assert SECRET not in redact(text)


def test_redact_keeps_ordinary_text() -> None:
    text = "503 Page not found | Shop (https://live-shop.example/?page=2#top) x=1"
    assert redact(text) == text


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(saved[0])
    for handler in saved[1]:
        root.addHandler(handler)


def test_a_logged_traceback_is_redacted(tmp_path: Path, root_logging: None) -> None:
    log_file = tmp_path / "logs" / "lifeline.log"
    setup_logging(log_file)
    try:
        raise ConnectionError(f"could not reach https://api.example/?token={SECRET}")
    except ConnectionError:
        logging.getLogger("lifeline.test").exception("sending failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "Traceback" in text and "ConnectionError: could not reach" in text
    assert SECRET not in text


def test_stack_info_is_redacted(tmp_path: Path, root_logging: None) -> None:
    log_file = tmp_path / "lifeline.log"
    setup_logging(log_file)
    # The stack quotes this source line, the literal URL and its token with it.
    logging.getLogger("t").warning("here", stack_info=True)  # /x?token=s3cr3t-Tok-9911
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "Stack (most recent call last)" in text and "/x?token=***" in text
    assert SECRET not in text


@pytest.mark.qt_no_exception_capture
def test_the_crash_dialog_summary_is_redacted(qtbot: Any) -> None:
    from ui.errors import ErrorReporter

    shown: list[str] = []
    reporter = ErrorReporter(log_file="lifeline.log", show=shown.append)
    try:
        raise RuntimeError(f"bad answer from ftp://me:{SECRET}@h.example/?sig={SECRET}")
    except RuntimeError as exc:
        reporter.excepthook(RuntimeError, exc, exc.__traceback__)
    reporter.report(f"Monitoring stopped: wss://h.example/?token={SECRET}")
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=3000)
    assert shown[0].startswith("RuntimeError: bad answer from ftp://***@h.example/")
    assert all(SECRET not in text for text in shown)


def test_the_log_file_is_private_when_created_rotated_or_left_by_an_old_version(
    tmp_path: Path, root_logging: None
) -> None:
    log_file = tmp_path / "logs" / "lifeline.log"
    log_file.parent.mkdir()
    old = tmp_path / "logs" / "old.log"
    old.write_text("written by an older Lifeline\n")
    old.chmod(0o644)
    for path in (log_file, old):
        setup_logging(path)
        logging.getLogger("lifeline.test").warning("a line")
        assert path.stat().st_mode & 0o777 == 0o600
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    handler.doRollover()
    logging.getLogger("lifeline.test").warning("after rotation")
    assert old.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "logs" / "old.log.1").stat().st_mode & 0o777 == 0o600
