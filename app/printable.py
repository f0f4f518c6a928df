"""Text from outside (page titles, headers, status pages, APIs) made safe for a terminal.

A page title like `\\x1b]0;owned\\x07` retitles the terminal that prints it, and C1 codes
(U+009B is a CSI) or bidi overrides can hide or reorder what a person reads. Every
control character becomes a space; the text stays otherwise as it was.
"""

from __future__ import annotations

import html

_CONTROLS = [
    *range(0x00, 0x20),  # C0, tab and line breaks included: callers keep lines apart
    0x7F,
    *range(0x80, 0xA0),  # C1
    0x2028, 0x2029,  # line and paragraph separators
    0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),  # bidi marks
]
_TABLE = dict.fromkeys(_CONTROLS, " ")


def printable(text: str) -> str:
    """`text` with every control character replaced by a space."""
    return text.translate(_TABLE)


def printable_lines(text: str) -> str:
    """Each line of `text` made printable; the line breaks between them kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


def plain_tooltip(text: str | None) -> str:
    """Outside text (a URL, a site name) as a tooltip Qt shows literally.

    Qt renders a tooltip as rich text when it guesses HTML in it (a `<` starting a tag),
    so such text is escaped and marked as rich text explicitly; other text stays as it is.
    """
    if not text:
        return ""
    line = printable(text)
    if "<" not in line and "&" not in line:
        return line
    return "<qt>" + html.escape(line) + "</qt>"


def link_safe(url: str) -> bool:
    """No whitespace (a tab passes a `" " not in` test), no control character and no
    `<`, `>` or `"`: a link from outside can then neither be rendered as markup nor
    smuggle a second word to whatever opens it."""
    return url.isprintable() and not any(c.isspace() or c in '<>"' for c in url)
