"""Small text helpers shared by the core and the UI: one bounded line, an exception as
one line, an exception's chain of causes.

Timestamps have their own home in app.clock (`iso`).
"""

from __future__ import annotations

from app.printable import printable

ONE_LINE_MAX = 160  # fits a probe's detail, a status-page name, a menu line


def one_line(text: str, limit: int = ONE_LINE_MAX) -> str:
    """Whitespace runs (line breaks included) become one space; longer than `limit`
    characters ends in an ellipsis, so the result is never longer than `limit`. Control
    characters (a page title's terminal escape) become spaces too."""
    flat = " ".join(printable(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def error_line(exc: BaseException, limit: int = 300) -> str:
    """An exception as one bounded line for a person: its message, else its type's name
    (a bare `TimeoutError()` says nothing by its message)."""
    return one_line(str(exc), limit) or type(exc).__name__


def exception_chain(exc: BaseException) -> list[BaseException]:
    """`exc`, then what caused it (`raise ... from`), else what it interrupted, and so on:
    where the real reason of a wrapped transport error hides. Stops at a cycle."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
