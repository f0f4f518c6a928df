"""The rules one config value must follow, and the schema entry that names them.

A rule takes what TOML (or a form) produced and returns the value the config holds, or
raises ValueError with a message written for the person who typed it. `setting()` is
how app/config.py attaches a rule, a label and a help text to each dataclass field, so
the loader, `validate_field`, the Settings form and the docs test all read one table.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from app.durations import parse_duration
from app.printable import printable

Rule = Callable[[Any], Any]
# How a form shows a value and turns what was entered into one before the rule runs:
# "lines" is a list entered one item per line (items may hold spaces), "choice" one of
# a Choice rule's options.
Kind = Literal["text", "int", "float", "list", "lines", "bool", "choice"]

SPEC = "lifeline.spec"  # the dataclass field metadata key
REQUIRED: Any = MISSING  # as a setting's default: the key has none and must be given


@dataclass(frozen=True)
class Spec:
    """One key's schema: its rule and how a person is told about it."""

    rule: Rule
    label: str  # the form label; `&` marks the mnemonic
    help: str = ""  # one sentence: tooltip in Settings
    accessible: str = ""  # the screen-reader name; default: the label without `&`
    kind: Kind | None = None  # default: from the field's type
    placeholder: str = ""
    in_form: bool = True  # False: kept as written, not shown in Settings
    empty_means_default: bool = False  # an empty form field stands for the default
    suggestions: tuple[str, ...] = ()  # completions offered in the form
    group: str = ""  # a titled box the form puts it in with the keys of the same group

    @property
    def plain_label(self) -> str:
        return self.label.replace("&&", "\0").replace("&", "").replace("\0", "&")


def setting(
    default: Any,
    rule: Rule,
    label: str,
    help: str = "",
    **options: Any,
) -> Any:
    """A dataclass field with its schema entry. Typed Any so `x: float = setting(...)`."""
    return field(default=default, metadata={SPEC: Spec(rule, label, help, **options)})


# --------------------------------------------------------------------------- rules


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type_name(value)}")
    return value.strip()


def name(value: Any) -> str:
    result = text(value)
    if not result:
        raise ValueError("must not be empty")
    return _one_printable_line(result)


def _one_printable_line(result: str) -> str:
    # An escape pasted with a word (a terminal's colour code) would reach the menu, the
    # ticket and `check`'s output; emoji joiners and accents are printable and stay.
    if printable(result) != result:
        raise ValueError("must be one line of printable text")
    return result


def optional_line(value: Any) -> str:
    """A one-line string, possibly empty (e.g. a site's group)."""
    return _one_printable_line(text(value))


def optional_uuid(value: Any) -> str:
    """A UUID such as Pantheon's site ids, or empty; kept in lower case."""
    result = text(value).lower()
    if result and not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                                   result):
        raise ValueError(f"{value!r} is not a UUID (like 3f2c...-...-...: the site's id)")
    return result


def site_refs(value: Any) -> tuple[str, ...]:
    """A non-empty list of site names, `group:NAME`s, or "*" (all)."""
    result = texts(value)
    if not result:
        raise ValueError('must name at least one site, "group:NAME" or "*" (all sites)')
    return result


def aware_datetime(value: Any) -> datetime:
    """A TOML date-time with its offset (2026-12-01T22:00:00Z): an instant, not a wall time."""
    if not isinstance(value, datetime):
        raise ValueError(
            f"must be a TOML date-time like 2026-12-01T22:00:00Z, not {type_name(value)}"
        )
    if value.tzinfo is None:
        raise ValueError(
            f"{value.isoformat()} has no offset: add Z (UTC) or one like -08:00"
        )
    return value


def optional_duration(value: Any) -> str:
    """A duration like 90m or 2h (empty: none)."""
    result = text(value)
    if result:
        parse_duration(result)
    return result


def timezone_name(value: Any) -> str:
    """An IANA time zone name (America/Los_Angeles), or UTC."""
    result = text(value)
    if result.upper() == "UTC":
        return "UTC"
    try:
        ZoneInfo(result)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"{result!r} is not a time zone name (an IANA name like America/Los_Angeles, "
            "or UTC)"
        ) from None
    return result


def recurrence(value: Any) -> str:
    """An RFC 5545 RRULE, as python-dateutil reads it (empty: none)."""
    result = text(value)
    if re.search(r"FREQ\s*=\s*(SECONDLY|MINUTELY|HOURLY)", result, re.IGNORECASE):
        raise ValueError(f"{result!r}: a maintenance window repeats at most daily")
    if result:
        try:
            rrulestr(result, dtstart=datetime(2000, 1, 1))
        except (ValueError, TypeError, OverflowError):
            raise ValueError(
                f"{result!r} is not an RRULE (like FREQ=WEEKLY;BYDAY=TU;BYHOUR=22;BYMINUTE=0)"
            ) from None
    return result


def environment(value: Any) -> str:
    result = text(value).lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,31}", result):
        raise ValueError(
            f"{value!r} is not an environment name (live, test, dev or a multidev name)"
        )
    return result


def validate_url(value: Any, *, allow_empty: bool = False) -> str:
    """An absolute http(s) URL without credentials in it. Raises ValueError."""
    result = text(value)
    if not result:
        if allow_empty:
            return ""
        raise ValueError("must not be empty")
    if any(ch.isspace() for ch in result):
        raise ValueError(f"{result!r} contains spaces")
    parts = urlsplit(result)
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise ValueError(f"{result!r} is not an http or https URL ({shown})")
    if not parts.hostname:
        raise ValueError(f"{result!r} has no host name")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "must not contain a user name or password (they would end up in logs and "
            "tickets); Lifeline keeps secrets in the keyring"
        )
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"{result!r} has an invalid port") from None
    return result


def is_loopback(host: str) -> bool:
    """This machine: localhost, 127.0.0.0/8, ::1 (plain http is only safe to these)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_url(value: Any, *, allow_empty: bool = False) -> str:
    """A URL a secret is sent to: https, or plain http to this machine only."""
    result = validate_url(value, allow_empty=allow_empty)
    parts = urlsplit(result)
    if result and parts.scheme.lower() != "https" and not is_loopback(parts.hostname or ""):
        raise ValueError(
            f"{result!r} must use https (a secret is sent there and would travel in clear "
            "text; plain http only to this machine)"
        )
    return result


def optional_secure_url(value: Any) -> str:
    return secure_url(value, allow_empty=True)


def url(value: Any) -> str:
    return validate_url(value)


def optional_url(value: Any) -> str:
    return validate_url(value, allow_empty=True)


def urls(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"must be a list of URLs, not {type_name(value)}")
    return tuple(validate_url(item) for item in value)


def texts(value: Any) -> tuple[str, ...]:
    """A list of one-line strings (e.g. words to look for in a page)."""
    if not isinstance(value, list | tuple):
        raise ValueError(f"must be a list of strings, not {type_name(value)}")
    return tuple(name(item) for item in value)


def patterns(value: Any) -> tuple[str, ...]:
    """A non-empty list of glob patterns ("*" matches everything)."""
    result = texts(value)
    if not result:
        raise ValueError('must name at least one pattern ("*" for all)')
    return result


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {type_name(value)}")
    return value


def number(*, minimum: float, exclusive: bool = False) -> Rule:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number, not {type_name(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        if value < minimum or (exclusive and value == minimum):
            relation = "greater than" if exclusive else "at least"
            raise ValueError(f"must be {relation} {minimum:g} (got {value:g})")
        return float(value)

    return check


def integer(*, minimum: int, maximum: int | None = None) -> Rule:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not {type_name(value)}")
        if value < minimum:
            raise ValueError(f"must be at least {minimum} (got {value})")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum} (got {value})")
        return value

    return check


def fraction(value: Any) -> float:
    result: float = number(minimum=0.0, exclusive=True)(value)
    if result >= 1:
        raise ValueError(f"must be between 0 and 1 (got {result:g})")
    return result


def one_of(*choices: str) -> Rule:
    def check(value: Any) -> str:
        result = text(value).lower()
        if result not in choices:
            options = " or ".join(f'"{c}"' for c in choices)
            raise ValueError(f"must be {options} (got {value!r})")
        return result

    return check


@dataclass(frozen=True)
class Option:
    """One value a Choice allows, with what a person sees for it."""

    value: str
    label: str  # shown in the form instead of the value
    gets: str = ""  # one line on what choosing it means ("" = nothing to add)


@dataclass(frozen=True)
class Choice:
    """A rule allowing one of a fixed set of values; the form offers them by label."""

    options: tuple[Option, ...]

    def __call__(self, value: Any) -> str:
        result: str = one_of(*self.values)(value)
        return result

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)

    def label_of(self, value: str) -> str:
        return next((o.label for o in self.options if o.value == value), value)

    def summary(self) -> tuple[str, ...]:
        """One line per distinct meaning, its options' labels joined: "Diamond/Platinum:
        an emergency on-call ticket"."""
        lines: list[tuple[list[str], str]] = []
        for option in self.options:
            if not option.gets:
                continue
            if lines and lines[-1][1] == option.gets:
                lines[-1][0].append(option.label)
            else:
                lines.append(([option.label], option.gets))
        return tuple(f"{'/'.join(labels)}: {gets}" for labels, gets in lines)


def choice(*options: Option) -> Choice:
    return Choice(options)


class KeyProblem(ValueError):
    """A rule across keys failed (e.g. start after end): names the key to point at."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


_KINDS: dict[str, Kind] = {
    "bool": "bool",
    "int": "int",
    "int|None": "int",
    "float": "float",
    "float|None": "float",
}


def kind_of(annotation: object, rule: Rule | None = None) -> Kind:
    """The form kind for a field's rule and type (a string under `from __future__ import
    annotations`)."""
    if isinstance(rule, Choice):
        return "choice"
    spelled = str(annotation).replace(" ", "")
    if spelled.startswith("tuple["):
        return "list"
    return _KINDS.get(spelled, "text")


def type_name(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)
