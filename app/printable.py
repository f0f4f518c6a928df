"""Text from outside (page titles, headers, status pages, APIs) made safe for a terminal.

A page title like `\\x1b]0;owned\\x07` retitles the terminal that prints it, and C1 codes
(U+009B is a CSI) or bidi overrides can hide or reorder what a person reads. Every
control character becomes a space; the text stays otherwise as it was.
"""

from __future__ import annotations

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
