"""Functional failures behind a 200: a page that answers but shows a broken site.

A PHP fatal error, a CMS's "cannot reach the database" page or a white screen is often
served with status 200, so the status code alone would call the site operational.
`content_problem` looks at the bounded body prefix a probe already read and names what it
found, quoted and shortened, never more of the page than the matched words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.text import one_line

QUOTE_MAX = 100  # characters of a matched text quoted in the detail

# PHP prints "Fatal error: ... on line N", in HTML as "<b>Fatal error</b>: ... on line
# <b>N</b>"; an uncaught exception puts the stack trace between the two. Anchored at a
# literal found with str.find first: a regex scanning every position of a 64 KiB page
# costs about as much as the probe itself.
_PHP_STARTS = ("Fatal error", "Parse error")
_PHP_ERROR = re.compile(r"(?:Fatal|Parse) error(?:</b>)?:.{0,4000}?\bon line\b", re.DOTALL)
_BUILTIN_TEXTS = (
    ("WordPress", "Error establishing a database connection"),
    ("Drupal", "The website encountered an unexpected error"),
)
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class ContentRules:
    """What a probe's body is checked for. `expect`/`forbid` apply to the visitor page
    only; the built-in patterns to both probes."""

    expect: str = ""
    forbid: tuple[str, ...] = ()
    builtin: bool = True


def quote(text: str) -> str:
    """'"Fatal error: Uncaught Error: Call to undefined…"': one line, tags dropped."""
    flat = one_line(_TAG.sub("", text))
    if len(flat) > QUOTE_MAX:
        flat = flat[: QUOTE_MAX - 1].rstrip() + "…"
    return f'"{flat}"'


def _php_error(text: str) -> str:
    """The first line of a PHP fatal or parse error in `text` ('' when none)."""
    for start in _PHP_STARTS:
        at = text.find(start)
        while at >= 0:
            found = _PHP_ERROR.match(text, at)
            if found:
                return found.group(0).split("\n", 1)[0]
            at = text.find(start, at + 1)
    return ""


def builtin_problem(text: str, *, status: int, content_type: str, complete: bool) -> str:
    """What a built-in pattern found in `text` ('' when nothing)."""
    php = _php_error(text)
    if php:
        return f"PHP error on the page: {quote(php)}"
    for cms, words in _BUILTIN_TEXTS:
        if words in text:
            return f"{cms} error on the page: {quote(words)}"
    is_html = content_type.split(";", 1)[0].strip().lower() == "text/html"
    if status == 200 and is_html and complete and (not text or text.isspace()):
        return "blank page: a 200 text/html answer with an empty body (a white screen)"
    return ""


def content_problem(
    text: str,
    rules: ContentRules,
    *,
    visitor: bool,
    status: int,
    content_type: str,
    complete: bool,
    window: int,
) -> str:
    """Why the page counts as failed, in one line; '' when it looks fine.

    `text`: the decoded body prefix (at most `window` bytes were read); `complete`: the
    whole body was read.
    """
    if rules.builtin:
        found = builtin_problem(text, status=status, content_type=content_type, complete=complete)
        if found:
            return found
    if not visitor:
        return ""
    for words in rules.forbid:
        if words and words in text:
            return f"forbidden text found on the page: {quote(words)}"
    if rules.expect and rules.expect not in text:
        where = "the page" if complete else f"the first {window // 1024} KiB of the page"
        return f"expected text {quote(rules.expect)} not found in {where}"
    return ""
