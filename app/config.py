"""config.toml: parse, validate, modify and write, as pure functions.

The file is the user's preferences only (sites, provider, monitor numbers, contact).
Runtime state lives in the data dir; secrets live in the keyring. Every problem is
reported as one ConfigError naming the file, the key, the line when it can be found,
and what is wrong, so the CLI prints one line and exits 3 instead of a traceback.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from app.atomic import atomic_write_text

DEFAULT_STATUS_PAGE = "https://status.pantheon.io"
DEFAULT_HOTLINE = "1-866-415-7624"
DEFAULT_DASHBOARD = "https://dashboard.pantheon.io"
DEFAULT_PANTHEON_API = "https://terminus.pantheon.io/api"


class ConfigError(Exception):
    """A config problem, phrased for the person who wrote the file."""

    def __init__(
        self, message: str, *, source: str = "", key: str = "", line: int | None = None
    ) -> None:
        self.message = message
        self.source = source
        self.key = key
        self.line = line
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = self.source or "config"
        if self.line is not None:
            where += f":{self.line}"
        what = f"{self.key}: " if self.key else ""
        return f"{where}: {what}{self.message}"


class ConfigMissing(ConfigError):
    """No config file yet (first run)."""


@dataclass(frozen=True)
class ProviderConfig:
    name: str = "Pantheon"
    status_page: str = DEFAULT_STATUS_PAGE
    hotline: str = DEFAULT_HOTLINE
    ticket_api: str = ""
    dashboard: str = DEFAULT_DASHBOARD
    ticket_timeout: float = 8.0
    api: str = DEFAULT_PANTHEON_API


@dataclass(frozen=True)
class MonitorConfig:
    interval: float = 60.0
    timeout: float = 10.0
    slow: float = 3.0
    retries: int = 1
    canaries: tuple[str, ...] = ()
    concurrency: int = 100
    failures_to_alert: int = 2
    successes_to_recover: int = 2
    retry_interval: float = 10.0
    flap_threshold: float = 0.3
    remind_every: float = 1800.0
    history_days: int = 90


@dataclass(frozen=True)
class ContactConfig:
    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class NewRelicConfig:
    account_id: int | None = None
    region: str = "us"
    endpoint: str = ""

    @property
    def graphql_url(self) -> str:
        if self.endpoint:
            return self.endpoint
        if self.region == "eu":
            return "https://api.eu.newrelic.com/graphql"
        return "https://api.newrelic.com/graphql"


@dataclass(frozen=True)
class SiteConfig:
    name: str
    url: str
    backend_url: str = ""
    environment: str = "live"
    newrelic_app: str = ""
    dashboard_url: str = ""

    @property
    def probe_backend_url(self) -> str:
        return self.backend_url or self.url

    @property
    def is_live(self) -> bool:
        return self.environment == "live"


@dataclass(frozen=True)
class Config:
    provider: ProviderConfig = field(default_factory=ProviderConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    contact: ContactConfig = field(default_factory=ContactConfig)
    newrelic: NewRelicConfig = field(default_factory=NewRelicConfig)
    sites: tuple[SiteConfig, ...] = ()
    source: str = ""  # the file it came from, for messages; not written back

    def site(self, name: str) -> SiteConfig | None:
        return next((s for s in self.sites if s.name == name), None)


# --------------------------------------------------------------------------- parsing


def load_config(path: Path) -> Config:
    """Read and validate a config file. Raises ConfigError (ConfigMissing if absent)."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigMissing(
            "no config file here yet; copy examples/config.toml or open Settings in the app",
            source=source,
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror})", source=source) from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM (some Windows editors add one) is fine
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"the file is not UTF-8 text (byte {exc.start})", source=source
        ) from None
    return parse_config(text, source=source)


_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_config(text: str, *, source: str = "config.toml") -> Config:
    """Parse and validate config text. Pure: no I/O."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        line = None
        match = _TOML_LINE.search(msg)
        if match:
            line = int(match.group(1))
            msg = _TOML_LINE.sub("", msg).strip()
        raise ConfigError(f"invalid TOML: {msg}", source=source, line=line) from None
    return config_from_dict(data, source=source, text=text)


def config_from_dict(data: Mapping[str, Any], *, source: str = "", text: str = "") -> Config:
    locate = _Locator(text)

    def fail(key: str, message: str, *, table: str = "", index: int | None = None) -> ConfigError:
        return ConfigError(
            message, source=source, key=key, line=locate.find(table, index, key.split(".")[-1])
        )

    _reject_unknown(data, {"provider", "monitor", "contact", "newrelic", "site"}, "", fail)

    provider = _section(data, "provider", ProviderConfig, fail)
    monitor = _section(data, "monitor", MonitorConfig, fail)
    contact = _section(data, "contact", ContactConfig, fail)
    newrelic = _section(data, "newrelic", NewRelicConfig, fail)

    raw_sites = data.get("site", [])
    if not isinstance(raw_sites, list):
        raise fail("site", "must be a list of [[site]] tables")
    sites: list[SiteConfig] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_sites):
        label = f"site[{index + 1}]"
        if not isinstance(raw, dict):
            raise ConfigError(
                "must be a [[site]] table",
                source=source,
                key=label,
                line=locate.find("", None, "site"),
            )
        for required in ("name", "url"):
            if required not in raw:
                raise ConfigError(
                    "is missing (every [[site]] needs a name and a url)",
                    source=source,
                    key=f"{label}.{required}",
                    line=locate.find("site", index, None),
                )
        site = _build(SiteConfig, raw, f"{label}", fail, table="site", index=index)
        folded = site.name.casefold()
        if folded in seen:
            raise fail(
                f"{label}.name",
                f"{site.name!r} is already the name of site[{seen[folded] + 1}]; "
                "names must be unique",
                table="site",
                index=index,
            )
        seen[folded] = index
        sites.append(site)

    config = Config(
        provider=provider,
        monitor=monitor,
        contact=contact,
        newrelic=newrelic,
        sites=tuple(sites),
        source=source,
    )
    return config


def _section(
    data: Mapping[str, Any], name: str, cls: type[Any], fail: Callable[..., ConfigError]
) -> Any:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise fail(name, f"must be a [{name}] table")
    return _build(cls, raw, name, fail, table=name, index=None)


def _reject_unknown(
    raw: Mapping[str, Any],
    allowed: set[str],
    prefix: str,
    fail: Callable[..., ConfigError],
    *,
    table: str = "",
    index: int | None = None,
) -> None:
    for key in raw:
        if key not in allowed:
            hint = _closest(key, allowed)
            suggestion = f" (did you mean {hint!r}?)" if hint else ""
            known = ", ".join(sorted(allowed))
            raise fail(
                f"{prefix}.{key}" if prefix else key,
                f"unknown key{suggestion}; known keys: {known}",
                table=table,
                index=index,
            )


def _closest(key: str, allowed: set[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _build(
    cls: type[Any],
    raw: Mapping[str, Any],
    prefix: str,
    fail: Callable[..., ConfigError],
    *,
    table: str,
    index: int | None,
) -> Any:
    known = {f.name for f in fields(cls) if f.name != "source"}
    _reject_unknown(raw, known, prefix, fail, table=table, index=index)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        check = _VALIDATORS.get((cls.__name__, key))
        name = f"{prefix}.{key}"
        if check is None:  # pragma: no cover - every field has a validator
            raise AssertionError(f"no validator for {cls.__name__}.{key}")
        try:
            values[key] = check(value)
        except ValueError as exc:
            raise fail(name, str(exc), table=table, index=index) from None
    return cls(**values)


# --------------------------------------------------------------------------- validators


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {_type_name(value)}")
    return value.strip()


def _name(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("must not be empty")
    if any(ch in text for ch in "\n\r\t"):
        raise ValueError("must be one line")
    return text


def _environment(value: Any) -> str:
    text = _text(value).lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,31}", text):
        raise ValueError(
            f"{value!r} is not an environment name (live, test, dev or a multidev name)"
        )
    return text


def validate_url(value: Any, *, allow_empty: bool = False) -> str:
    """An absolute http(s) URL without credentials in it. Raises ValueError."""
    text = _text(value)
    if not text:
        if allow_empty:
            return ""
        raise ValueError("must not be empty")
    if any(ch.isspace() for ch in text):
        raise ValueError(f"{text!r} contains spaces")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise ValueError(f"{text!r} is not an http or https URL ({shown})")
    if not parts.hostname:
        raise ValueError(f"{text!r} has no host name")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "must not contain a user name or password (they would end up in logs and "
            "tickets); Lifeline keeps secrets in the keyring"
        )
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"{text!r} has an invalid port") from None
    return text


def _url(value: Any) -> str:
    return validate_url(value)


def _optional_url(value: Any) -> str:
    return validate_url(value, allow_empty=True)


def _urls(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"must be a list of URLs, not {_type_name(value)}")
    return tuple(validate_url(item) for item in value)


def _number(*, minimum: float, exclusive: bool = False) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number, not {_type_name(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        if value < minimum or (exclusive and value == minimum):
            relation = "greater than" if exclusive else "at least"
            raise ValueError(f"must be {relation} {minimum:g} (got {value:g})")
        return float(value)

    return check


def _integer(*, minimum: int, maximum: int | None = None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not {_type_name(value)}")
        if value < minimum:
            raise ValueError(f"must be at least {minimum} (got {value})")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum} (got {value})")
        return value

    return check


def _fraction(value: Any) -> float:
    number = _number(minimum=0.0, exclusive=True)(value)
    if number >= 1:
        raise ValueError(f"must be between 0 and 1 (got {number:g})")
    return number


def _region(value: Any) -> str:
    text = _text(value).lower()
    if text not in ("us", "eu"):
        raise ValueError(f"must be \"us\" or \"eu\" (got {value!r})")
    return text


def _account_id(value: Any) -> int:
    return _integer(minimum=1)(value)


def _type_name(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


_VALIDATORS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("ProviderConfig", "name"): _name,
    ("ProviderConfig", "status_page"): _url,
    ("ProviderConfig", "hotline"): _name,
    ("ProviderConfig", "ticket_api"): _optional_url,
    ("ProviderConfig", "dashboard"): _url,
    ("ProviderConfig", "ticket_timeout"): _number(minimum=0.0, exclusive=True),
    ("ProviderConfig", "api"): _url,
    ("MonitorConfig", "interval"): _number(minimum=1.0),
    ("MonitorConfig", "timeout"): _number(minimum=0.0, exclusive=True),
    ("MonitorConfig", "slow"): _number(minimum=0.0, exclusive=True),
    ("MonitorConfig", "retries"): _integer(minimum=0, maximum=10),
    ("MonitorConfig", "canaries"): _urls,
    ("MonitorConfig", "concurrency"): _integer(minimum=1, maximum=2000),
    ("MonitorConfig", "failures_to_alert"): _integer(minimum=1, maximum=100),
    ("MonitorConfig", "successes_to_recover"): _integer(minimum=1, maximum=100),
    ("MonitorConfig", "retry_interval"): _number(minimum=0.0, exclusive=True),
    ("MonitorConfig", "flap_threshold"): _fraction,
    ("MonitorConfig", "remind_every"): _number(minimum=0.0),
    ("MonitorConfig", "history_days"): _integer(minimum=1, maximum=3650),
    ("ContactConfig", "name"): _text,
    ("ContactConfig", "email"): _text,
    ("ContactConfig", "phone"): _text,
    ("NewRelicConfig", "account_id"): _account_id,
    ("NewRelicConfig", "region"): _region,
    ("NewRelicConfig", "endpoint"): _optional_url,
    ("SiteConfig", "name"): _name,
    ("SiteConfig", "url"): _url,
    ("SiteConfig", "backend_url"): _optional_url,
    ("SiteConfig", "environment"): _environment,
    ("SiteConfig", "newrelic_app"): _text,
    ("SiteConfig", "dashboard_url"): _optional_url,
}


def validate_field(section: str, key: str, value: Any) -> Any:
    """Validate one value as the loader would (for forms). Raises ValueError."""
    cls = {
        "provider": "ProviderConfig",
        "monitor": "MonitorConfig",
        "contact": "ContactConfig",
        "newrelic": "NewRelicConfig",
        "site": "SiteConfig",
    }[section]
    return _VALIDATORS[(cls, key)](value)


class _Locator:
    """Best-effort line numbers for keys, so messages can say where to look."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, table: str, index: int | None, key: str | None) -> int | None:
        if not self.lines:
            return None
        start = 0
        if table:
            header = re.compile(
                rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]" if index is not None
                else rf"^\s*\[\s*{re.escape(table)}\s*\]"
            )
            hits = [n for n, line in enumerate(self.lines) if header.match(line)]
            wanted = index or 0
            if len(hits) <= wanted:
                return None
            start = hits[wanted]
            if key is None:
                return start + 1
            start += 1
        key_re = re.compile(
            rf"^\s*[\"']?{re.escape(key or '')}[\"']?\s*=" if table
            else rf"^\s*(\[+\s*{re.escape(key or '')}\s*\]|{re.escape(key or '')}\s*=)"
        )
        for n in range(start, len(self.lines)):
            line = self.lines[n]
            if n > start and re.match(r"^\s*\[", line) and table:
                break
            if key and key_re.match(line):
                return n + 1
        return None


# --------------------------------------------------------------------------- writing


def config_to_dict(config: Config) -> dict[str, Any]:
    """The TOML document for a config: every section, defaults included, so users see them."""

    def table(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if value is None:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    doc: dict[str, Any] = {
        "provider": table(config.provider),
        "monitor": table(config.monitor),
    }
    contact = table(config.contact)
    if any(contact.values()):
        doc["contact"] = contact
    if config.newrelic != NewRelicConfig():
        doc["newrelic"] = table(config.newrelic)
    sites = []
    for site in config.sites:
        entry = {k: v for k, v in table(site).items() if v != "" or k in ("name", "url")}
        sites.append(entry)
    if sites:
        doc["site"] = sites
    return doc


def config_to_toml(config: Config) -> str:
    header = "# Lifeline configuration. Secrets are kept in the system keyring, never here.\n\n"
    return header + tomli_w.dumps(config_to_dict(config))


def save_config(config: Config, path: Path) -> None:
    """Validate by round-tripping, then write atomically: a crash leaves the old file."""
    text = config_to_toml(config)
    parse_config(text, source=str(path))  # never write a file we could not read back
    atomic_write_text(path, text, mode=0o600)


# --------------------------------------------------------------------------- modifying


def with_site(config: Config, site: SiteConfig, *, replacing: str | None = None) -> Config:
    """Add `site`, or replace the site named `replacing`. Raises ValueError on a clash."""
    others = [s for s in config.sites if s.name != replacing]
    if any(s.name.casefold() == site.name.casefold() for s in others):
        raise ValueError(f"a site named {site.name!r} already exists")
    if replacing is None:
        return replace(config, sites=(*config.sites, site))
    return replace(
        config, sites=tuple(site if s.name == replacing else s for s in config.sites)
    )


def without_site(config: Config, name: str) -> Config:
    return replace(config, sites=tuple(s for s in config.sites if s.name != name))
