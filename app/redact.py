"""Keep secrets out of logs, tickets and error messages."""

from __future__ import annotations

import logging
import re

# Parameter names whose values are credentials in the wild.
_SECRET_NAMES = (
    r"token|key|secret|password|passwd|pwd|auth|session|signature|sig|code|credential"
)
# `name=value` after `?`, `&`, `#`, `;` or a space: query strings and fragments of any URL,
# absolute or relative, of any scheme (`#access_token=` in OAuth's implicit flow).
_SECRET_PAIR = re.compile(
    rf"(?i)(^|[?&#;\s])([\w.\[\]-]*(?:{_SECRET_NAMES})[\w.\[\]-]*)=([^&#\s\"'<>]+)"
)
# `scheme://user:password@host` for any scheme (ftp, wss, postgres, ...).
_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@\"'<>]*@")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}")
_KNOWN_TOKENS = re.compile(r"\bNRAK-[A-Z0-9]{10,}\b")

_extra: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret's value so it is masked wherever it shows up."""
    if value and len(value) >= 4:
        _extra.add(value)


def redact(text: str) -> str:
    for value in sorted(_extra, key=len, reverse=True):
        text = text.replace(value, "***")
    text = _USERINFO.sub(r"\1***@", text)
    text = _SECRET_PAIR.sub(r"\1\2=***", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
    return _KNOWN_TOKENS.sub("***", text)


class RedactingFilter(logging.Filter):
    """Applied to every handler, so no record leaves the process with a secret in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Formatted here once, redacted: handlers reuse exc_text as it is. A
            # traceback's last line quotes the exception, URL and token included.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
