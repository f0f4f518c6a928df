"""config.toml: its schema, declared once; parse, validate, modify and write, as pure functions.

The file is the user's preferences only (sites, provider, monitor numbers, contact).
Runtime state lives in the data dir; secrets live in the keyring. Every problem is
reported as one ConfigError naming the file, the key, the line when it can be found,
and what is wrong, so the CLI prints one line and exits 3 instead of a traceback.

The schema is the dataclasses below plus SECTIONS. Each field carries its rule, label
and help (`setting(...)`, see app/config_rules.py); the loader, `validate_field`, the
writer, the Settings form and the tests all read them from here.

To add a key: add one field to its dataclass,

    cert_warn_days: int = setting(14, rules.integer(minimum=0), "Certificate &warning (days)",
                                  "Warn this many days before a certificate expires")

then document it in docs/config.md (a test checks both). `in_form=False` keeps it out of
Settings (it is still loaded and written back). A key with a fixed set of values takes
`rules.choice(rules.Option(value, label, gets), ...)` (SUPPORT_TIERS): Settings lists
the options by label, with what each gets; `kind="lines"` enters a list one per line;
`group="..."` puts a [[site]] key under a heading of the site editor.

To add a table: write its dataclass (every field a `setting`), add the attribute to
Config, and one Section to SECTIONS:

    routes: tuple[RouteConfig, ...] = ()                                  # in Config
    Section("route", RouteConfig, "routes", many=True, unique="name")

`many=True` makes it an array of tables ([[route]]), held as a tuple; without it, a
single [table] held as one dataclass (all fields need defaults). A field whose default
is REQUIRED must be in every entry of a [[table]] (as a site's name and url); `unique`
names the key no two entries may share (ignoring case). A `check` on the Section sees
each built entry and may raise rules.KeyProblem for rules across keys; CONFIG_CHECKS see
the whole Config (e.g. a route naming a site that does not exist). A `tab` title gives
a [table] its own Settings tab, generated from its in_form keys; the Settings merge
(app/config_merge.py) matches [[table]] entries by their `unique` key.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from app import config_rules as rules
from app.atomic import atomic_write_text
from app.config_rules import REQUIRED, SPEC, KeyProblem, Kind, Spec, setting
from app.config_rules import validate_url as validate_url  # re-exported: the loader's URL rule
from app.printable import printable

DEFAULT_STATUS_PAGE = "https://status.pantheon.io"
DEFAULT_HOTLINE = "1-866-415-7624"
DEFAULT_DASHBOARD = "https://dashboard.pantheon.io"
DEFAULT_SUPPORT_URL = "https://dashboard.pantheon.io/#support"
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
        # A key or value quoted from the file may hold a line break ("\n" = 1): still one
        # line (found by fuzzing).
        return " ".join(printable(f"{where}: {what}{self.message}").split())


class ConfigMissing(ConfigError):
    """No config file yet (first run)."""


# Says what works from any install: the packaged app has no examples/ folder to copy.
NO_CONFIG_YET = (
    "no config file here yet; run `lifeline` on a desktop to create it in Settings, "
    "`lifeline import pantheon` to add your Pantheon sites, or write it yourself "
    "(one [[site]] table with a name and a url is enough)"
)


# --------------------------------------------------------------------------- the schema

# What each Pantheon plan gets when a site is down (Pantheon's "What to do if your site
# goes down"); "unknown" first: the default, and the answer of most people on a first run.
SUPPORT_TIERS = rules.choice(
    rules.Option("unknown", "I don't know"),
    rules.Option("diamond", "Diamond", "an emergency on-call ticket"),
    rules.Option("platinum", "Platinum", "an emergency on-call ticket"),
    rules.Option("gold", "Gold", "a general support ticket"),
    rules.Option("silver", "Silver", "a live chat"),
)


@dataclass(frozen=True)
class ProviderConfig:
    name: str = setting("Pantheon", rules.name, "Name", "The host's name, as shown in "
                        "messages and tickets", in_form=False)
    status_page: str = setting(
        DEFAULT_STATUS_PAGE, rules.url, "Status pa&ge",
        "Atlassian Statuspage base URL; /api/v2/summary.json is read under it",
        accessible="Status page URL")
    hotline: str = setting(DEFAULT_HOTLINE, rules.name, "&Hotline",
                           "The emergency phone number, shown when a ticket cannot be filed",
                           accessible="Emergency hotline phone number")
    ticket_api: str = setting("", rules.optional_secure_url, "Ticket &API",
                              "Base URL of the ticket API; empty: tickets are drafted, not sent",
                              accessible="Ticket API base URL (optional)", placeholder="optional")
    dashboard: str = setting(DEFAULT_DASHBOARD, rules.url, "&Dashboard",
                             "The host's dashboard, opened from the menu",
                             accessible="Dashboard URL")
    ticket_timeout: float = setting(8.0, rules.number(minimum=0.0, exclusive=True),
                                    "Ticket time&out (seconds)",
                                    "Deadline for filing one ticket before the hotline shows",
                                    accessible="Ticket timeout in seconds")
    api: str = setting(DEFAULT_PANTHEON_API, rules.secure_url, "Pantheon API",
                       "Pantheon API base, used to import sites from an account", in_form=False)
    components: tuple[str, ...] = setting(
        ("*",), rules.patterns, "Components",
        "Status-page components that affect your sites (glob patterns); others are shown "
        "but do not count", in_form=False)
    support_tier: str = setting(
        "unknown", SUPPORT_TIERS, "Support t&ier",
        "Your support plan, for what to do on the dashboard in an emergency",
        accessible="Support tier")
    support_url: str = setting(
        DEFAULT_SUPPORT_URL, rules.url, "Support page",
        "Where emergency tickets are opened on the dashboard (the dashboard route)",
        in_form=False)


@dataclass(frozen=True)
class MonitorConfig:
    interval: float = setting(60.0, rules.number(minimum=1.0), "&Interval (seconds)",
                              "How often every site is checked",
                              accessible="Seconds between checks")
    timeout: float = setting(10.0, rules.number(minimum=0.0, exclusive=True),
                             "Time&out (seconds)",
                             "Hard deadline for one whole request, body included",
                             accessible="Request timeout in seconds")
    slow: float = setting(3.0, rules.number(minimum=0.0, exclusive=True),
                          "Slo&w after (seconds)",
                          "A response slower than this makes the site degraded",
                          accessible="Slow threshold in seconds")
    retries: int = setting(1, rules.integer(minimum=0, maximum=10), "&Retries",
                           "Immediate re-checks of a failing probe before it counts as failed",
                           accessible="Immediate retries of a failing probe")
    retry_interval: float = setting(10.0, rules.number(minimum=0.0, exclusive=True),
                                    "Retr&y interval (seconds)",
                                    "While a problem is being confirmed, check this often",
                                    accessible="Seconds between confirming checks")
    failures_to_alert: int = setting(2, rules.integer(minimum=1, maximum=100),
                                     "&Failures to alert",
                                     "Consecutive failed checks before a problem is confirmed",
                                     accessible="Failed checks before an alert")
    successes_to_recover: int = setting(2, rules.integer(minimum=1, maximum=100),
                                        "Successes to reco&ver",
                                        "Consecutive good checks before a recovery is confirmed",
                                        accessible="Good checks before recovery")
    remind_every: float = setting(1800.0, rules.number(minimum=0.0), "Remi&nd every (seconds)",
                                  "Remind of an ongoing problem this often; 0 turns reminders off",
                                  accessible="Reminder interval in seconds")
    canaries: tuple[str, ...] = setting(
        (), rules.urls, "C&anaries",
        "Extra URLs that prove your own network works, separated by spaces",
        accessible="Canary URLs, separated by spaces", placeholder="optional")
    concurrency: int = setting(100, rules.integer(minimum=1, maximum=2000), "Concurrency",
                               "At most this many probes in flight at once", in_form=False)
    flap_threshold: float = setting(0.3, rules.fraction, "Flap threshold",
                                    "Share of state changes above which a site is flapping",
                                    in_form=False)
    history_days: int = setting(90, rules.integer(minimum=1, maximum=3650), "History (days)",
                                "Days of state history kept", in_form=False)
    cert_warn_days: int = setting(14, rules.integer(minimum=0, maximum=3650),
                                  "Certificate warnin&g (days)",
                                  "A certificate expiring within this many days makes the "
                                  "site degraded",
                                  accessible="Certificate warning in days before expiry")


@dataclass(frozen=True)
class ContactConfig:
    name: str = setting("", rules.text, "&Name", "Put on every emergency ticket",
                        accessible="Your name")
    email: str = setting("", rules.text, "Em&ail", "Put on every emergency ticket",
                         accessible="Your email address")
    phone: str = setting("", rules.text, "P&hone", "Put on every emergency ticket",
                         accessible="Your phone number")


@dataclass(frozen=True)
class NewRelicConfig:
    account_id: int | None = setting(None, rules.integer(minimum=1), "Account id",
                                     "New Relic account id", in_form=False)
    region: str = setting("us", rules.one_of("us", "eu"), "Region", '"us" or "eu"',
                          in_form=False)
    endpoint: str = setting("", rules.optional_secure_url, "Endpoint",
                            "Override of the NerdGraph URL (tests, proxies)", in_form=False)

    @property
    def graphql_url(self) -> str:
        if self.endpoint:
            return self.endpoint
        if self.region == "eu":
            return "https://api.eu.newrelic.com/graphql"
        return "https://api.newrelic.com/graphql"


CONTENT_CHECKS = "Content checks"  # the site editor's box of what a page must (not) say


@dataclass(frozen=True)
class SiteConfig:
    name: str = setting(REQUIRED, rules.name, "&Name", "A short unique name",
                        accessible="Site name", placeholder="shop")
    url: str = setting(REQUIRED, rules.url, "&URL", "The page visitors load",
                       accessible="Site URL", placeholder="https://live-shop.pantheonsite.io/")
    backend_url: str = setting(
        "", rules.optional_url, "&Backend URL",
        "A page that is never served from the cache. Empty: the URL above.",
        accessible="Backend URL (optional)",
        placeholder="optional, e.g. https://live-shop.pantheonsite.io/user/login")
    environment: str = setting("live", rules.environment, "En&vironment",
                               "live, test, dev or a multidev name", accessible="Environment",
                               placeholder="live", empty_means_default=True,
                               suggestions=("live", "test", "dev"))
    newrelic_app: str = setting("", rules.text, "New &Relic app",
                                "New Relic application name or id",
                                accessible="New Relic application", placeholder="optional")
    dashboard_url: str = setting("", rules.optional_url, "&Dashboard URL",
                                 "This site's page on the host's dashboard",
                                 accessible="Dashboard URL (optional)",
                                 placeholder="optional: this site's page in the host's dashboard")
    group: str = setting("", rules.optional_line, "&Group",
                         "The client or team it belongs to: the menu shows one submenu per "
                         "group", accessible="Group (optional)",
                         placeholder="optional, e.g. Client A")
    pantheon_site_id: str = setting("", rules.optional_uuid, "Pantheon site id",
                                    "The site's UUID on Pantheon (set by import): links its "
                                    "dashboard page", in_form=False)
    expect: str = setting("", rules.optional_line, "E&xpect",
                          "Text that must appear in the first 64 KiB of the visitor page",
                          accessible="Expected text (optional)", placeholder="optional, "
                          "e.g. Add to cart", group=CONTENT_CHECKS)
    forbid: tuple[str, ...] = setting((), rules.texts, "&Forbid",
                                      "Texts that must not appear in the first 64 KiB of "
                                      "the visitor page, one per line",
                                      accessible="Forbidden texts, one per line",
                                      kind="lines", group=CONTENT_CHECKS)
    builtin_checks: bool = setting(True, rules.boolean, "Built-in chec&ks",
                                   "Look for PHP fatal errors, CMS database errors and "
                                   "white screens behind a 200",
                                   accessible="Built-in checks for broken pages",
                                   group=CONTENT_CHECKS)

    def dashboard_link(self, dashboard: str) -> str:
        """This site's page on the host's dashboard: `dashboard_url`, else Pantheon's
        {dashboard}/sites/{uuid}#live when the id is known, else ''."""
        if self.dashboard_url:
            return self.dashboard_url
        if self.pantheon_site_id:
            return f"{dashboard.rstrip('/')}/sites/{self.pantheon_site_id}#live"
        return ""

    @property
    def probe_backend_url(self) -> str:
        return self.backend_url or self.url

    @property
    def is_live(self) -> bool:
        return self.environment == "live"


@dataclass(frozen=True)
class MaintenanceConfig:
    """One [[maintenance]] window: one-off (start + end) or recurring (rrule + duration,
    in `timezone`). Inside it the sites it names raise no notification and its span is
    not downtime (app/maintenance.py)."""

    sites: tuple[str, ...] = setting(REQUIRED, rules.site_refs, "Sites",
                                     'Site names, "group:NAME" or "*" for all', in_form=False)
    start: datetime | None = setting(None, rules.aware_datetime, "Start",
                                     "One-off window: when it starts (with offset)",
                                     in_form=False)
    end: datetime | None = setting(None, rules.aware_datetime, "End",
                                   "One-off window: when it ends (with offset)", in_form=False)
    rrule: str = setting("", rules.recurrence, "Recurrence",
                         "Recurring window: an RFC 5545 RRULE giving each start", in_form=False)
    duration: str = setting("", rules.optional_duration, "Duration",
                            "Recurring window: how long each lasts (90m, 2h)", in_form=False)
    timezone: str = setting("UTC", rules.timezone_name, "Time zone",
                            "Recurring window: the IANA time zone its RRULE is in",
                            in_form=False)


def _check_window(window: MaintenanceConfig) -> None:
    one_off = window.start is not None or window.end is not None
    if one_off and (window.rrule or window.duration):
        key = "rrule" if window.rrule else "duration"
        raise KeyProblem(key, "a window has either start and end, or rrule and duration")
    if one_off:
        if window.start is None or window.end is None:
            raise KeyProblem("end" if window.end is None else "start",
                             "is missing (a one-off window needs a start and an end)")
        if window.end <= window.start:
            raise KeyProblem("end", f"{window.end.isoformat()} is not after the start "
                             f"{window.start.isoformat()}")
        return
    if not window.rrule:
        raise KeyProblem("rrule", "is missing (a window needs start and end, or rrule and "
                         "duration)")
    if not window.duration:
        raise KeyProblem("duration", "is missing (a recurring window needs how long it lasts, "
                         "like 90m)")


def _check_window_sites(config: Config) -> None:
    names = {s.name.casefold() for s in config.sites}
    groups = {s.group.casefold() for s in config.sites if s.group}
    for index, window in enumerate(config.maintenance, start=1):
        for ref in window.sites:
            if ref == "*":
                continue
            if ref.casefold().startswith("group:"):
                group = ref.split(":", 1)[1].strip()
                if group.casefold() not in groups:
                    raise KeyProblem(f"maintenance[{index}].sites",
                                     f"no site is in the group {group!r}")
            elif ref.casefold() not in names:
                raise KeyProblem(f"maintenance[{index}].sites", f"no site named {ref!r}")


ROUTE_KINDS = ("dashboard", "pagerduty", "opsgenie", "zendesk", "webhook", "api")
WEBHOOK_FORMATS = ("slack", "json")


@dataclass(frozen=True)
class RouteConfig:
    """One [[route]]: a destination one click files the ticket through. Its secret (key,
    token, or the webhook URL itself) is in the keyring under the route's name."""

    kind: str = setting(REQUIRED, rules.one_of(*ROUTE_KINDS), "Kind",
                        "dashboard, pagerduty, opsgenie, zendesk, webhook or api",
                        in_form=False)
    name: str = setting("", rules.text, "Name", "Unique; defaults to the kind", in_form=False)
    endpoint: str = setting("", rules.optional_secure_url, "Endpoint",
                            "The service's address; empty: its public default", in_form=False)
    email: str = setting("", rules.text, "Email", "zendesk: the agent the API token belongs to",
                         in_form=False)
    format: str = setting("", rules.one_of("", *WEBHOOK_FORMATS), "Format",
                          'webhook: "slack" (the default) or "json"', in_form=False)
    region: str = setting("", rules.one_of("", "us", "eu"), "Region",
                          'opsgenie: "eu" for an EU account', in_form=False)

    def __post_init__(self) -> None:
        if not self.name:  # frozen: the default name is set once, here
            object.__setattr__(self, "name", self.kind)


def _check_route(route: RouteConfig) -> None:
    if any(not ch.isprintable() for ch in route.name):
        raise KeyProblem("name", "must be one line")
    if route.kind == "zendesk" and not (route.endpoint and route.email):
        missing = "endpoint" if not route.endpoint else "email"
        raise KeyProblem(
            missing,
            "is missing (a zendesk route needs its endpoint, https://<subdomain>.zendesk.com, "
            "and the email its API token belongs to)",
        )
    for key, kind in (("email", "zendesk"), ("region", "opsgenie"), ("format", "webhook")):
        if getattr(route, key) and route.kind != kind:
            raise KeyProblem(key, f"only applies to {kind} routes")


def _check_route_names(config: Config) -> None:
    # Each route's secret has an environment override named after it; two names that
    # give the same variable would share a secret.
    seen: dict[str, str] = {}
    for index, route in enumerate(config.routes, start=1):
        env = "".join(c if c.isascii() and c.isalnum() else "_" for c in route.name.upper())
        if env in seen:
            raise KeyProblem(
                f"route[{index}].name",
                f"{route.name!r} and {seen[env]!r} give the same variable LIFELINE_ROUTE_{env}; "
                "rename one",
            )
        seen[env] = route.name


@dataclass(frozen=True)
class Config:
    provider: ProviderConfig = field(default_factory=ProviderConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    contact: ContactConfig = field(default_factory=ContactConfig)
    newrelic: NewRelicConfig = field(default_factory=NewRelicConfig)
    sites: tuple[SiteConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    maintenance: tuple[MaintenanceConfig, ...] = ()
    source: str = ""  # the file it came from, for messages; not written back

    def site(self, name: str) -> SiteConfig | None:
        return next((s for s in self.sites if s.name == name), None)


@dataclass(frozen=True)
class Key:
    """One key of a section, as the form and the docs test see it."""

    section: str
    name: str
    spec: Spec
    kind: Kind
    default: Any


@dataclass(frozen=True)
class Section:
    """One table of the file and where it lives on Config."""

    key: str  # the TOML name: [key], or [[key]] when many
    cls: type[Any]
    attr: str  # the Config attribute holding it
    many: bool = False
    unique: str = ""  # ([[...]]) the key whose values must differ, ignoring case
    tab: str = ""  # the Settings tab generated from it ("" = none); `&` marks the mnemonic
    intro: str = ""  # one sentence on top of that tab
    always_written: bool = False  # written with its defaults, so users see them
    check: Callable[[Any], None] | None = None  # rules across keys; raises KeyProblem

    @property
    def required(self) -> tuple[str, ...]:
        """The keys without a default: every entry must have them."""
        return tuple(f.name for f in fields(self.cls) if f.default is REQUIRED
                     and f.default_factory is REQUIRED)

    @property
    def header(self) -> str:
        return f"[[{self.key}]]" if self.many else f"[{self.key}]"

    def settings(self) -> tuple[Key, ...]:
        return tuple(
            Key(self.key, f.name, _spec(f), _spec(f).kind or rules.kind_of(f.type, _spec(f).rule),
                f.default)
            for f in fields(self.cls)
        )


SECTIONS: tuple[Section, ...] = (
    Section("provider", ProviderConfig, "provider", tab="&Provider",
            intro="Where your sites are hosted: its status page, and how to reach it.",
            always_written=True),
    Section("monitor", MonitorConfig, "monitor", tab="&Monitor", always_written=True),
    Section("contact", ContactConfig, "contact", tab="&Contact",
            intro="Put on every emergency ticket, so the support team can reach you."),
    Section("newrelic", NewRelicConfig, "newrelic"),
    Section("site", SiteConfig, "sites", many=True, unique="name"),
    Section("route", RouteConfig, "routes", many=True, unique="name", check=_check_route),
    Section("maintenance", MaintenanceConfig, "maintenance", many=True, check=_check_window),
)
SECTION = {s.key: s for s in SECTIONS}

# Rules that need the whole config; each raises KeyProblem("site[2].name", "...").
CONFIG_CHECKS: list[Callable[[Config], None]] = [_check_route_names, _check_window_sites]


def _spec(f: Field[Any]) -> Spec:
    spec = f.metadata.get(SPEC)
    if not isinstance(spec, Spec):
        raise TypeError(f"config field {f.name!r} has no setting(...): rule, label, help")
    return spec


def _check_schema() -> None:
    # At import, so a key without a rule or label fails every test, not one user's load.
    attrs = {f.name for f in fields(Config)} - {"source"}
    if attrs != {s.attr for s in SECTIONS}:
        raise TypeError(f"Config attributes {sorted(attrs)} do not match SECTIONS")
    for section in SECTIONS:
        for key in section.settings():
            if not key.spec.label:
                raise TypeError(f"{section.key}.{key.name} has no label")


_check_schema()


def validate_field(section: str, key: str, value: Any) -> Any:
    """Validate one value as the loader would (for forms). Raises ValueError."""
    return _spec(_field(SECTION[section].cls, key)).rule(value)


def _field(cls: type[Any], key: str) -> Field[Any]:
    found = next((f for f in fields(cls) if f.name == key), None)
    if found is None:
        raise KeyError(f"{cls.__name__} has no key {key!r}")
    return found


# --------------------------------------------------------------------------- parsing


def load_config(path: Path) -> Config:
    """Read and validate a config file. Raises ConfigError (ConfigMissing if absent)."""
    return parse_config(read_config_text(path), source=str(path))


def read_config_text(path: Path) -> str:
    """The file's text. Raises ConfigError (ConfigMissing if absent)."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigMissing(
            NO_CONFIG_YET,
            source=source,
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror})", source=source) from None
    try:
        return raw.decode("utf-8-sig")  # a BOM (some Windows editors add one) is fine
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"the file is not UTF-8 text (byte {exc.start})", source=source
        ) from None


def fingerprint(path: Path) -> str | None:
    """What the file holds now, to tell whether someone changed it; None when absent."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


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
    except RecursionError:
        # `x = [[[[...` thousands deep exhausts tomllib's stack (found by fuzzing).
        raise ConfigError(
            "invalid TOML: arrays or tables nested too deeply", source=source
        ) from None
    return config_from_dict(data, source=source, text=text)


Fail = Callable[..., ConfigError]


def config_from_dict(data: Mapping[str, Any], *, source: str = "", text: str = "") -> Config:
    locate = _Locator(text)

    def fail(
        key: str,
        message: str,
        *,
        table: str = "",
        index: int | None = None,
        near: str | None = "",
    ) -> ConfigError:
        # The line: of `near` (default: the key's last part) in that table; None: its header.
        wanted = key.split(".")[-1] if near == "" else near
        return ConfigError(message, source=source, key=key, line=locate.find(table, index, wanted))

    _reject_unknown(data, set(SECTION), "", fail)
    values: dict[str, Any] = {}
    for section in SECTIONS:
        if section.many:
            values[section.attr] = _many(data, section, fail)
        else:
            values[section.attr] = _single(data, section, fail)
    config = Config(**values, source=source)
    for check in CONFIG_CHECKS:
        try:
            check(config)
        except KeyProblem as exc:
            table, index = _where(exc.key)
            raise fail(exc.key, exc.message, table=table, index=index) from None
    return config


def _where(key: str) -> tuple[str, int | None]:
    """'site[2].name' -> ('site', 1): the table a dotted key lives in, for its line."""
    match = re.match(r"(\w+)(?:\[(\d+)\])?", key)
    if not match or match.group(1) not in SECTION:
        return "", None
    return match.group(1), int(match.group(2)) - 1 if match.group(2) else None


def _single(data: Mapping[str, Any], section: Section, fail: Fail) -> Any:
    raw = data.get(section.key, {})
    if not isinstance(raw, dict):
        raise fail(section.key, f"must be a {section.header} table")
    return _build(section, raw, section.key, fail, index=None)


def _many(data: Mapping[str, Any], section: Section, fail: Fail) -> tuple[Any, ...]:
    raw_entries = data.get(section.key, [])
    if not isinstance(raw_entries, list):
        raise fail(section.key, f"must be a list of {section.header} tables")
    entries: list[Any] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_entries):
        label = f"{section.key}[{index + 1}]"
        if not isinstance(raw, dict):
            raise fail(label, f"must be a {section.header} table", near=section.key)
        for required in section.required:
            if required not in raw:
                raise fail(
                    f"{label}.{required}",
                    f"is missing (every {section.header} needs {_listing(section.required)})",
                    table=section.key,
                    index=index,
                    near=None,
                )
        entry = _build(section, raw, label, fail, index=index)
        if section.unique:
            value = str(getattr(entry, section.unique))
            folded = value.casefold()
            if folded in seen:
                raise fail(
                    f"{label}.{section.unique}",
                    f"{value!r} is already the {section.unique} of {section.key}"
                    f"[{seen[folded] + 1}]; {section.unique}s must be unique",
                    table=section.key,
                    index=index,
                )
            seen[folded] = index
        entries.append(entry)
    return tuple(entries)


def _listing(keys: tuple[str, ...]) -> str:
    worded = [f"{'an' if k[:1] in 'aeiou' else 'a'} {k}" for k in keys]
    return " and ".join(worded)


def _reject_unknown(
    raw: Mapping[str, Any],
    allowed: set[str],
    prefix: str,
    fail: Fail,
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
    section: Section, raw: Mapping[str, Any], prefix: str, fail: Fail, *, index: int | None
) -> Any:
    specs = {f.name: _spec(f) for f in fields(section.cls)}
    _reject_unknown(raw, set(specs), prefix, fail, table=section.key, index=index)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            values[key] = specs[key].rule(value)
        except ValueError as exc:
            raise fail(f"{prefix}.{key}", str(exc), table=section.key, index=index) from None
    entry = section.cls(**values)
    if section.check is not None:
        try:
            section.check(entry)
        except KeyProblem as exc:
            raise fail(
                f"{prefix}.{exc.key}", exc.message, table=section.key, index=index
            ) from None
    return entry


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


def _clean(value: Any) -> Any:
    """A value TOML can hold: tuples as lists, lone surrogates (from outside) replaced."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (a broken \\ud800 escape in some API's JSON) cannot be
            # written as UTF-8; a pair is joined back into its character.
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, tuple | list):
        return [_clean(v) for v in value]
    return value


def _table(obj: Any) -> dict[str, Any]:
    return {
        f.name: _clean(getattr(obj, f.name))
        for f in fields(obj)
        if getattr(obj, f.name) is not None
    }


def config_to_dict(config: Config) -> dict[str, Any]:
    """The TOML document for a config: every section, defaults included, so users see them."""
    doc: dict[str, Any] = {}
    for section in SECTIONS:
        value = getattr(config, section.attr)
        if not section.many:
            if section.always_written or value != section.cls():
                doc[section.key] = _table(value)
            continue
        entries = [
            {k: v for k, v in _table(entry).items()
             if k in section.required or v not in ("", [])}
            for entry in value
        ]
        if entries:
            doc[section.key] = entries
    return doc


def config_to_toml(config: Config) -> str:
    header = "# Lifeline configuration. Secrets are kept in the system keyring, never here.\n\n"
    doc = config_to_dict(config)
    # Each [[table]] entry under its own header, as people write them and as the docs
    # show (tomli_w would inline short ones), so a problem in one can be given a line.
    many = {s.key: doc.pop(s.key) for s in SECTIONS if s.many and s.key in doc}
    text = header + tomli_w.dumps(doc)
    for key, entries in many.items():
        for entry in entries:
            text += f"\n[[{key}]]\n{tomli_w.dumps(entry)}"
    return text


def save_config(config: Config, path: Path) -> Config:
    """Validate by round-tripping, then write atomically: a crash leaves the old file.

    Returns the config as written (text from outside may have been made writable)."""
    text = config_to_toml(config)
    written = parse_config(text, source=str(path))  # never write a file we could not read
    atomic_write_text(path, text, mode=0o600)
    return written


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
