"""Keep secrets out of logs, tickets and error messages."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters whose values are credentials in the wild.
_SECRET_PARAMS = re.compile(
    r"(token|key|secret|password|passwd|pwd|auth|session|signature|sig|code|credential)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}")
_KNOWN_TOKENS = re.compile(r"\bNRAK-[A-Z0-9]{10,}\b")
_URL = re.compile(r"https?://[^\s\"'<>]+")

_extra: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret's value so it is masked wherever it shows up."""
    if value and len(value) >= 4:
        _extra.add(value)


def redact_url(url: str) -> str:
    """Drop userinfo and mask token-like query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if _SECRET_PARAMS.search(k) else v) for k, v in pairs], safe="*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact(text: str) -> str:
    for value in sorted(_extra, key=len, reverse=True):
        text = text.replace(value, "***")
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
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
        return True
