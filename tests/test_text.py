"""app.text: one bounded line, an exception as one line, an exception's causes."""

from __future__ import annotations

from app.text import error_line, exception_chain, one_line


def test_one_line_flattens_and_bounds() -> None:
    assert one_line("503  Database\nnot\tResponding") == "503 Database not Responding"
    bounded = one_line("word " * 100, 40)
    assert len(bounded) == 40 and bounded.endswith("\u2026")
    assert one_line("x" * 40, 40) == "x" * 40  # exactly at the limit: untouched


def test_error_line_falls_back_to_the_type_name() -> None:
    assert error_line(TimeoutError()) == "TimeoutError"
    assert error_line(OSError("disk\nfull")) == "disk full"
    assert len(error_line(ValueError("e" * 1000), 200)) == 200


def test_exception_chain_follows_cause_then_context() -> None:
    root = ConnectionRefusedError("refused")
    try:
        try:
            raise root
        except ConnectionRefusedError as inner:
            raise OSError("connect failed") from inner
    except OSError as outer:
        try:
            raise RuntimeError("while reporting") from None
        except RuntimeError:
            pass
        chain = exception_chain(outer)
    assert [type(e) for e in chain] == [OSError, ConnectionRefusedError]
    assert chain[1] is root


def test_exception_chain_stops_at_a_cycle() -> None:
    first, second = ValueError("a"), KeyError("b")
    first.__cause__, second.__cause__ = second, first
    assert exception_chain(first) == [first, second]
