"""Issue 13's rules against real loopback servers: platform evidence beyond the status page,
functional failures behind a 200, certificates about to expire.

Every check runs the real probes over TCP (and TLS) to 127.0.0.1; the clock is injected
(in process) or set by libfaketime (the real command), never read.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.check import run_check
from app.config import parse_config
from app.models import CheckReport, ErrorKind, PlatformEvidence, PointOfFailure, SiteState
from app.probes import ProbeOptions
from app.report import report_to_json
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply, free_port

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
OPTIONS = ProbeOptions(timeout=3, retries=0)

DB_DOWN = "<html><head><title>503 Database not Responding</title></head><body>x</body></html>"
ROUTING = "<html><head><title>502 Routing failure</title></head></html>"
UNAVAILABLE = "<html><head><title>Service Unavailable</title></head></html>"
FINE = "<html><head><title>Shop</title></head><body>Welcome to the shop</body></html>"


def config_for(server: LoopbackServer, sites: dict[str, str], extra: str = "",
               status_page: str | None = None, canaries: str = "") -> Any:
    """One [[site]] per name, visitor and backend at the server's `path`."""
    page = status_page or f"{server.url}/status"
    text = f'[provider]\nstatus_page = "{page}"\n[monitor]\n{canaries}\n'
    for name, path in sites.items():
        text += f'[[site]]\nname = "{name}"\nurl = "{server.url}{path}"\n{extra}\n'
    return parse_config(text)


def check(config: Any, options: ProbeOptions = OPTIONS, now: datetime = NOW) -> CheckReport:
    return asyncio.run(run_check(config, options=options, clock=lambda: now))


def green(server: LoopbackServer) -> None:
    server.route("/status/api/v2/summary.json", Reply.json(summary_payload()))


# --------------------------------------------------------------------------- platform


def test_three_sites_on_a_platform_side_page_are_platform_error_page(
    server: LoopbackServer,
) -> None:
    green(server)
    server.route("/ok", Reply(200, FINE))
    server.route("/routing", Reply(502, ROUTING, {"X-Styx-Req-Id": "req-r"}))
    sites = {"a": "/routing", "b": "/routing", "c": "/routing", "d": "/ok", "e": "/ok"}
    report = check(config_for(server, sites))
    for name in "abc":
        site = report.site(name)
        assert site is not None
        assert site.state is SiteState.DOWN
        assert site.point_of_failure is PointOfFailure.PLATFORM
        assert site.platform_evidence is PlatformEvidence.ERROR_PAGE
        assert '"502 Routing failure" page' in site.reason
        assert "status page shows nothing yet" in site.reason
    assert report.point_of_failure is PointOfFailure.PLATFORM
    doc = report_to_json(report)
    evidence = {s["name"]: s["platform_evidence"] for s in doc["sites"]}
    assert evidence == {"a": "error_page", "b": "error_page", "c": "error_page",
                        "d": None, "e": None}


def test_three_sites_failing_alike_on_a_green_page_are_platform_correlated(
    server: LoopbackServer,
) -> None:
    green(server)
    server.route("/ok", Reply(200, FINE))
    server.route("/unavailable", Reply(503, UNAVAILABLE))
    sites = {"a": "/unavailable", "b": "/unavailable", "c": "/unavailable",
             "d": "/ok", "e": "/ok", "f": "/ok"}
    report = check(config_for(server, sites))
    assert report.platform.state.value == "operational"
    for name in "abc":
        site = report.site(name)
        assert site is not None
        assert site.state is SiteState.DOWN
        assert site.point_of_failure is PointOfFailure.PLATFORM
        assert site.platform_evidence is PlatformEvidence.CORRELATED
        assert "3 of 6 sites fail alike (503 Service Unavailable) within " in site.reason
        assert "the status page shows nothing yet" in site.reason
        assert site.reason.endswith("A platform problem is likely: file the ticket and say so.")
    assert report.point_of_failure is PointOfFailure.PLATFORM
    assert [s["platform_evidence"] for s in report_to_json(report)["sites"]] == [
        "correlated", "correlated", "correlated", None, None, None
    ]


def test_sites_behind_the_same_failing_edge_are_correlated(server: LoopbackServer) -> None:
    green(server)
    server.route("/ok", Reply(200, FINE))
    edge = {"X-Pantheon-Styx-Hostname": "styx-fe1-a-1"}
    server.route("/one", Reply(500, "<title>boom</title>", edge))
    server.route("/two", Reply(504, "<title>late</title>", edge))
    report = check(config_for(server, {"a": "/one", "b": "/two", "c": "/ok", "d": "/ok"}))
    a = report.site("a")
    assert a is not None and a.platform_evidence is PlatformEvidence.CORRELATED
    assert "(through the same edge styx-fe1-a-1)" in a.reason


def test_an_edge_that_also_serves_a_working_site_is_no_evidence(
    server: LoopbackServer,
) -> None:
    green(server)
    edge = {"X-Pantheon-Styx-Hostname": "styx-fe1-a-1"}
    server.route("/ok", Reply(200, FINE, edge))
    server.route("/one", Reply(500, "<title>boom</title>", edge))
    server.route("/two", Reply(504, "<title>late</title>", edge))
    report = check(config_for(server, {"a": "/one", "b": "/two", "c": "/ok"}))
    a = report.site("a")
    assert a is not None and a.point_of_failure is PointOfFailure.SITE


def test_fewer_than_a_third_failing_alike_stays_site(server: LoopbackServer) -> None:
    green(server)
    server.route("/ok", Reply(200, FINE))
    server.route("/unavailable", Reply(503, UNAVAILABLE))
    sites = {"a": "/unavailable", "b": "/unavailable", **{f"ok{i}": "/ok" for i in range(5)}}
    report = check(config_for(server, sites))  # 2 of 7: under a third
    a = report.site("a")
    assert a is not None and a.point_of_failure is PointOfFailure.SITE
    assert a.platform_evidence is None


def test_one_failing_site_alone_stays_site(server: LoopbackServer) -> None:
    green(server)
    server.route("/ok", Reply(200, FINE))
    server.route("/unavailable", Reply(503, UNAVAILABLE))
    report = check(config_for(server, {"a": "/unavailable", "b": "/ok"}))
    a = report.site("a")
    assert a is not None and a.state is SiteState.DOWN
    assert a.point_of_failure is PointOfFailure.SITE and a.platform_evidence is None
    assert "look at the site" in a.reason
    assert report_to_json(report)["sites"][0]["platform_evidence"] is None


def test_all_sites_failing_with_the_network_down_stays_network(
    server: LoopbackServer,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    sites = {"a": "/x", "b": "/x", "c": "/x"}
    text = (f'[provider]\nstatus_page = "{dead}/status"\n'
            f'[monitor]\ncanaries = ["{dead}/canary"]\n')
    for name in sites:
        text += f'[[site]]\nname = "{name}"\nurl = "{dead}/{name}"\n'
    report = check(parse_config(text))
    assert report.point_of_failure is PointOfFailure.NETWORK
    for site in report.sites:
        assert site.state is SiteState.UNKNOWN
        assert site.point_of_failure is PointOfFailure.NETWORK
        assert site.platform_evidence is None


def test_a_status_page_incident_is_status_page_evidence(server: LoopbackServer) -> None:
    data = summary_payload(status={"indicator": "major", "description": "Major Service Outage"})
    for component in data["components"]:
        component["status"] = "major_outage"
    server.route("/status/api/v2/summary.json", Reply.json(data))
    server.route("/routing", Reply(502, ROUTING))
    report = check(config_for(server, {"a": "/routing"}))
    a = report.site("a")
    assert a is not None and a.point_of_failure is PointOfFailure.PLATFORM
    assert a.platform_evidence is PlatformEvidence.STATUS_PAGE


# --------------------------------------------------------------------------- content


PHP_FATAL = (
    "<html><body><br />\n<b>Fatal error</b>:  Uncaught Error: Call to undefined function "
    "shop_cart() in /code/web/index.php:12\nStack trace:\n#0 {main}\n  thrown in "
    "<b>/code/web/index.php</b> on line <b>12</b><br />\nSECRET-TAIL-OF-THE-PAGE</body></html>"
)


def content_check(server: LoopbackServer, reply: Reply, extra: str = "",
                  backend: Reply | None = None) -> Any:
    green(server)
    server.route("/page", reply)
    site_extra = extra
    if backend is not None:
        server.route("/login", backend)
        site_extra += f'\nbackend_url = "{server.url}/login"'
    report = check(config_for(server, {"shop": "/page"}, site_extra))
    return report_to_json(report)["sites"][0]


def test_a_200_with_a_php_fatal_error_is_down_content(server: LoopbackServer) -> None:
    site = content_check(server, Reply(200, PHP_FATAL, {"Content-Type": "text/html"}))
    assert (site["state"], site["anonymous"]["error"]) == ("down", "content")
    assert site["anonymous"]["status"] == 200
    detail = site["anonymous"]["detail"]
    assert detail.startswith('PHP error on the page: "Fatal error: Uncaught Error: Call to')
    assert "SECRET-TAIL" not in json.dumps(site)  # only the matched words, never the page
    assert len(detail) < 140


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>Error establishing a database connection</p>", "WordPress error on the page"),
        ("<h1>The website encountered an unexpected error. Try again later.</h1>",
         "Drupal error on the page"),
        ("Parse error: syntax error, unexpected '}' in /code/a.php on line 3",
         'PHP error on the page: "Parse error'),
    ],
)
def test_builtin_patterns(server: LoopbackServer, body: str, expected: str) -> None:
    site = content_check(server, Reply(200, body, {"Content-Type": "text/html"}))
    assert site["state"] == "down" and site["anonymous"]["error"] == "content"
    assert site["anonymous"]["detail"].startswith(expected)


def test_a_blank_200_is_down(server: LoopbackServer) -> None:
    site = content_check(server, Reply(200, "", {"Content-Type": "text/html; charset=utf-8"}))
    assert (site["state"], site["anonymous"]["error"]) == ("down", "content")
    assert "white screen" in site["anonymous"]["detail"]
    assert "white screen" in site["reason"]


def test_an_empty_204_or_json_is_no_white_screen(server: LoopbackServer) -> None:
    site = content_check(server, Reply(200, "", {"Content-Type": "application/json"}))
    assert site["state"] == "operational"


def test_a_missing_expect_is_down(server: LoopbackServer) -> None:
    site = content_check(server, Reply(200, FINE, {"Content-Type": "text/html"}),
                         'expect = "Add to cart"')
    assert (site["state"], site["anonymous"]["error"]) == ("down", "content")
    assert site["anonymous"]["detail"] == 'expected text "Add to cart" not found in the page'


def test_expect_is_looked_for_in_the_first_64_kib_only(server: LoopbackServer) -> None:
    body = "<html>" + "x" * 70_000 + "Add to cart</html>"
    site = content_check(server, Reply(200, body, {"Content-Type": "text/html"}),
                         'expect = "Add to cart"')
    assert site["state"] == "down"
    assert "not found in the first 64 KiB of the page" in site["anonymous"]["detail"]


def test_a_present_expect_and_an_absent_forbid_are_operational(server: LoopbackServer) -> None:
    site = content_check(server, Reply(200, FINE, {"Content-Type": "text/html"}),
                         'expect = "Welcome"\nforbid = ["Maintenance mode"]')
    assert site["state"] == "operational"


def test_a_forbidden_text_is_down(server: LoopbackServer) -> None:
    body = "<html><title>Shop</title><p>Site under maintenance, back soon</p></html>"
    site = content_check(server, Reply(200, body, {"Content-Type": "text/html"}),
                         'forbid = ["under maintenance"]')
    assert (site["state"], site["anonymous"]["error"]) == ("down", "content")
    assert site["anonymous"]["detail"] == 'forbidden text found on the page: "under maintenance"'


def test_builtin_checks_false_turns_the_patterns_off(server: LoopbackServer) -> None:
    site = content_check(server, Reply(200, PHP_FATAL, {"Content-Type": "text/html"}),
                         "builtin_checks = false")
    assert site["state"] == "operational"


def test_a_backend_page_with_a_fatal_error_is_editors_blocked(server: LoopbackServer) -> None:
    site = content_check(server, Reply(200, FINE, {"Content-Type": "text/html", "Age": "30"}),
                         'expect = "Welcome"',
                         backend=Reply(200, PHP_FATAL, {"Content-Type": "text/html"}))
    assert site["state"] == "editors_blocked"
    assert site["backend"]["error"] == "content" and site["anonymous"]["error"] is None
    assert "PHP error on the page" in site["reason"]


def test_expect_applies_to_the_visitor_page_only(server: LoopbackServer) -> None:
    site = content_check(server, Reply(200, FINE, {"Content-Type": "text/html"}),
                         'expect = "Welcome"',
                         backend=Reply(403, "<title>Log in</title>", {"Content-Type": "text/html"}))
    assert site["state"] == "operational"


def test_a_content_failure_is_recognised_in_a_gzipped_latin1_page(
    server: LoopbackServer,
) -> None:
    import gzip

    body = gzip.compress("<p>Caf\u00e9 ferm\u00e9</p>".encode("latin-1"))
    site = content_check(
        server,
        Reply(200, body, {"Content-Type": "text/html; charset=iso-8859-1",
                          "Content-Encoding": "gzip"}),
        'forbid = ["Caf\u00e9 ferm\u00e9"]',
    )
    assert site["anonymous"]["error"] == "content"


# --------------------------------------------------------------------------- certificates


def tls_site(tls_ca: Any, not_after: datetime) -> LoopbackServer:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert = tls_ca.issue_cert("localhost", not_before=datetime(2020, 1, 1, tzinfo=UTC),
                             not_after=not_after)
    cert.configure_cert(ctx)
    srv = LoopbackServer(ssl_context=ctx)
    srv.route("/", Reply(200, FINE, {"Content-Type": "text/html"}))
    srv.route("/status/api/v2/summary.json", Reply.json(summary_payload()))
    return srv


def tls_config(srv: LoopbackServer, warn: str = "") -> Any:
    base = f"https://localhost:{srv.port}"
    return parse_config(
        f'[provider]\nstatus_page = "{base}/status"\n[monitor]\n{warn}\n'
        f'[[site]]\nname = "shop"\nurl = "{base}/"\n'
    )


def trusting(tls_ca: Any) -> ProbeOptions:
    ctx = ssl.create_default_context()
    tls_ca.configure_trust(ctx)
    return ProbeOptions(timeout=3, retries=0, verify=ctx)


# Far ahead, so the certificate is valid now; the check's clock is set just before it.
EXPIRY = datetime(2099, 1, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("days_before", "state", "left"),
                         [(5, SiteState.DEGRADED, 5), (60, SiteState.OPERATIONAL, 60)])
def test_certificate_days_left_from_the_checks_clock(
    tls_ca: Any, days_before: int, state: SiteState, left: int
) -> None:
    srv = tls_site(tls_ca, EXPIRY)
    try:
        now = EXPIRY - timedelta(days=days_before)
        report = check(tls_config(srv), trusting(tls_ca), now=now)
    finally:
        srv.close()
    site = report.sites[0]
    assert site.state is state
    assert site.anonymous.cert_expires == "2099-01-06T12:00:00Z"
    assert site.anonymous.cert_host == "localhost"
    assert site.anonymous.cert_days_left == left
    if state is SiteState.DEGRADED:
        assert site.reason.startswith(
            "Certificate for localhost expires in 5 days (2099-01-06)"
        )


def test_an_expiring_certificate_is_the_sites_own_even_during_a_platform_incident(
    tls_ca: Any,
) -> None:
    srv = tls_site(tls_ca, EXPIRY)
    data = summary_payload(status={"indicator": "major", "description": "Major Service Outage"})
    for component in data["components"]:
        component["status"] = "major_outage"
    srv.route("/status/api/v2/summary.json", Reply.json(data))
    try:
        report = check(tls_config(srv), trusting(tls_ca), now=EXPIRY - timedelta(days=3))
    finally:
        srv.close()
    site = report.sites[0]
    assert report.platform.state.value == "outage"
    assert site.state is SiteState.DEGRADED
    assert site.point_of_failure is PointOfFailure.SITE and site.platform_evidence is None
    assert site.reason.startswith("Certificate for localhost expires in 3 days (2099-01-06)")


def test_cert_warn_days_is_the_threshold(tls_ca: Any) -> None:
    srv = tls_site(tls_ca, EXPIRY)
    try:
        now = EXPIRY - timedelta(days=20)
        loose = check(tls_config(srv, "cert_warn_days = 30"), trusting(tls_ca), now=now)
        off = check(tls_config(srv, "cert_warn_days = 0"), trusting(tls_ca), now=now)
    finally:
        srv.close()
    assert loose.sites[0].state is SiteState.DEGRADED
    assert "expires in 20 days" in loose.sites[0].reason
    assert off.sites[0].state is SiteState.OPERATIONAL


def test_an_untrusted_certificate_stays_a_tls_failure(tls_ca: Any) -> None:
    srv = tls_site(tls_ca, EXPIRY)
    try:
        report = check(tls_config(srv))  # the test CA is not trusted here
    finally:
        srv.close()
    site = report.sites[0]
    assert site.state is SiteState.DOWN and site.anonymous.error is ErrorKind.TLS
    assert site.anonymous.cert_days_left is None


def _ca_file(tls_ca: Any, tmp_path: Path) -> Path:
    ca_file = tmp_path / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(ca_file))
    return ca_file


def _check_under_faketime(
    srv: LoopbackServer, tmp_path: Path, trust: Path, when: str,
    variable: str = "SSL_CERT_FILE",
) -> dict[str, Any]:
    """`lifeline check --json` of `srv`'s site, run at `when` with `trust` as the only
    CA store (given through `variable`); the server is closed afterwards."""
    config = tmp_path / "config.toml"
    base = f"https://localhost:{srv.port}"
    config.write_text(f'[provider]\nstatus_page = "{base}/status"\n'
                      f'[[site]]\nname = "shop"\nurl = "{base}/"\n')
    env = {**os.environ, "TZ": "UTC"}
    env.pop("SSL_CERT_FILE", None)
    env.pop("SSL_CERT_DIR", None)
    env[variable] = str(trust)
    try:
        done = subprocess.run(
            ["faketime", "-f", when, sys.executable, "-m", "app", "check",
             "--config", str(config), "--json"],
            capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
        )
    finally:
        srv.close()
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
@pytest.mark.parametrize(("not_after", "state", "left"), [
    (datetime(2030, 1, 6, 12, 0, tzinfo=UTC), "degraded", {4, 5}),
    (datetime(2030, 3, 2, 12, 0, tzinfo=UTC), "operational", {60}),
])
def test_the_real_command_trusts_ssl_cert_file(
    tls_ca: Any, tmp_path: Path, not_after: datetime, state: str, left: set[int]
) -> None:
    # The real command, its clock (and OpenSSL's) set by libfaketime; the test CA given
    # only through SSL_CERT_FILE, as curl and Python's ssl take it.
    doc = _check_under_faketime(tls_site(tls_ca, not_after), tmp_path,
                                _ca_file(tls_ca, tmp_path), "@2030-01-01 12:00:00")
    site = doc["sites"][0]
    assert site["state"] == state, site["reason"]
    assert site["anonymous"]["cert_days_left"] in left
    assert site["anonymous"]["cert_expires"] == not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    if state == "degraded":
        assert "certificate for localhost expires in" in site["reason"].lower()


# --------------------------------------------------------------------------- monitor


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize(("failing", "evidence"), [(3, "correlated"), (2, None)])
async def test_watch_events_carry_the_evidence_judged_against_every_live_site(
    make_server: Any, anyio_backend: str, failing: int, evidence: str | None
) -> None:
    # 7 Live sites; after the first failure only the failing ones are re-checked, yet a
    # third is counted of all 7: 3 failing alike is the platform, 2 is not.
    from app.eventlines import event_record
    from tests.test_monitor_loopback import Driver, Switchable, _config

    status = make_server()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    switches = [Switchable(make_server()) for _ in range(7)]
    names = [f"s{i}" for i in range(7)]
    d = Driver(_config(status.url, *((n, sw.server.url) for n, sw in zip(names, switches,
                                                                          strict=True))))
    await d.check("s0")
    for sw in switches[:failing]:
        sw.up = False
    for _ in range(4):
        await d.check("s0")
    down = [e for e in d.changes("s0") if e.state is SiteState.DOWN]
    assert len(down) == 1
    record = event_record(down[0])
    assert record is not None
    assert record["platform_evidence"] == evidence
    assert record["point_of_failure"] == ("platform" if evidence else "site")
    if evidence:
        assert f"{failing} of 7 sites fail alike (503 Service Unavailable)" in record["reason"]


# --------------------------------------------------------------------------- cache share


class CachedSite:
    """A visitor page served from cache (Age) or not (X-Cache: MISS), and a backend page
    the test breaks."""

    def __init__(self, server: LoopbackServer, *, cached: bool) -> None:
        self.origin_up = True
        headers = {"Age": "120", "X-Cache": "HIT"} if cached else {"X-Cache": "MISS"}
        server.route("/", Reply(200, FINE, {"Content-Type": "text/html", **headers}))
        server.route("/login", self.login)

    def login(self, request: Any) -> Reply:
        if self.origin_up:
            return Reply(200, "<title>Log in</title>", {"Content-Type": "text/html"})
        return Reply(503, "<title>503 Service Unavailable</title>")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize(("cached", "words"), [
    (True, "(100% of visitor checks in the last 24 h were served from cache)"),
    (False, "; only 0% of visitor checks in the last 24 h were served from cache, so visitors "
            "will soon get errors too"),
])
async def test_editors_blocked_says_how_protected_visitors_were(
    make_server: Any, anyio_backend: str, tmp_path: Path, cached: bool, words: str
) -> None:
    from app.config import Config, MonitorConfig, ProviderConfig, SiteConfig
    from app.history import History
    from tests.test_monitor_loopback import Driver

    status = make_server()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    server = make_server()
    site = CachedSite(server, cached=cached)
    config = Config(
        provider=ProviderConfig(status_page=status.url),
        monitor=MonitorConfig(interval=60.0, retry_interval=10.0),
        sites=(SiteConfig("shop", f"{server.url}/", backend_url=f"{server.url}/login"),),
    )
    history = History(tmp_path / "history.sqlite3")
    d = Driver(config, history)
    for _ in range(7):  # past a 5-minute bucket: the counts reach the history
        await d.check("shop")
    await d.monitor.flush()
    assert history.cache_hit_ratio("shop", since=d.clock.now() - timedelta(hours=24)) == (
        1.0 if cached else 0.0
    )
    await d.check("shop")  # the 24 h share is re-read with the uptime figures
    site.origin_up = False
    for _ in range(4):
        await d.check("shop")
    blocked = [e for e in d.changes("shop") if e.state is SiteState.EDITORS_BLOCKED]
    assert len(blocked) == 1
    assert words in blocked[0].reason
    assert blocked[0].result is not None
    assert blocked[0].result.cache_hit_ratio_24h == (1.0 if cached else 0.0)
    await d.monitor.flush()
    history.close()


def test_history_counts_cache_verdicts_by_the_hour(tmp_path: Path) -> None:
    from app.history import CacheCount, History, read_cache_hit_ratios

    path = tmp_path / "history.sqlite3"
    with History(path) as h:
        assert h.cache_hit_ratio("shop", since=NOW - timedelta(hours=24)) is None
        h.add_cache_counts([CacheCount("shop", NOW - timedelta(hours=30), 10, 0),
                            CacheCount("shop", NOW - timedelta(hours=2), 10, 9),
                            CacheCount("shop", NOW - timedelta(hours=2, minutes=-5), 10, 9),
                            CacheCount("blog", NOW - timedelta(hours=1), 4, 1)])
        since = NOW - timedelta(hours=24)
        assert h.cache_hit_ratio("shop", since=since) == pytest.approx(0.9)
        assert h.cache_hit_ratio("shop", since=NOW - timedelta(hours=48)) == pytest.approx(0.6)
        assert h.cache_hit_ratios(since=since) == {"shop": pytest.approx(0.9), "blog": 0.25}
        assert h.prune(1, now=NOW) >= 1
        assert h.cache_hit_ratio("shop", since=NOW - timedelta(hours=48)) == pytest.approx(0.9)
    before = path.stat().st_mtime_ns
    assert read_cache_hit_ratios(path, since=NOW - timedelta(hours=24)) == {
        "shop": pytest.approx(0.9), "blog": 0.25}
    assert path.stat().st_mtime_ns == before
    assert read_cache_hit_ratios(tmp_path / "none.sqlite3", since=NOW) == {}
    assert not (tmp_path / "none.sqlite3").exists()


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_check_json_reads_the_share_from_the_history(
    server: LoopbackServer, tmp_path: Path, paths: Any
) -> None:
    from app.history import CacheCount, History

    when = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    with History(paths.history_db) as h:
        h.add_cache_counts([CacheCount("shop", when - timedelta(hours=3), 25, 23)])
    site = CachedSite(server, cached=True)
    site.origin_up = False
    green(server)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[provider]\nstatus_page = "{server.url}/status"\n'
        f'[[site]]\nname = "shop"\nurl = "{server.url}/"\nbackend_url = "{server.url}/login"\n'
        f'[[site]]\nname = "blog"\nurl = "{server.url}/"\n'
    )
    done = subprocess.run(
        ["faketime", "-f", "@2030-01-01 12:00:00", sys.executable, "-m", "app", "check",
         "--config", str(config), "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ, "TZ": "UTC"},
    )
    doc = json.loads(done.stdout)
    shop, blog = doc["sites"]
    assert shop["cache_hit_ratio_24h"] == pytest.approx(0.92)
    assert shop["state"] == "editors_blocked"
    assert "(92% of visitor checks in the last 24 h were served from cache)" in shop["reason"]
    assert blog["cache_hit_ratio_24h"] is None


# --------------------------------------------------------------------------- ticket, menu


def test_the_ticket_groups_every_site_failing_alike_with_its_request_ids(
    server: LoopbackServer,
) -> None:
    from app.config import ContactConfig, ProviderConfig
    from app.tickets.builder import build_ticket
    from app.tickets.collect import fresh_evidence

    green(server)
    server.route("/ok", Reply(200, FINE))
    for name in "abc":
        server.route(f"/{name}", Reply(503, UNAVAILABLE, {"X-Styx-Req-Id": f"req-{name}"}))
    config = config_for(server, {"a": "/a", "b": "/b", "c": "/c", "d": "/ok", "e": "/ok"})
    evidence = asyncio.run(fresh_evidence(
        config, config.site("a"), options=OPTIONS, clock=lambda: NOW,
        cache_share={"a": 0.25},
    ))
    assert [r.name for r in evidence.alike] == ["b", "c"]
    ticket = build_ticket(evidence, contact=ContactConfig(), provider=ProviderConfig(),
                          diagnostics={})
    assert ticket.subject.startswith("EMERGENCY: a (live)")
    assert "(and 2 more sites alike)" in ticket.subject
    text = ticket.description
    assert "Other sites affected the same way (2), one ticket for all:" in text
    assert (f"- b ({server.url}/b): down, 503 Service Unavailable; request id req-b") in text
    assert (f"- c ({server.url}/c): down, 503 Service Unavailable; request id req-c") in text
    assert "3 watched sites fail alike in the same check" in text
    assert "3 of 5 sites fail alike (503 Service Unavailable)" in text  # the reason
    assert "Served from the CDN cache: 25% of visitor checks in the last 24 h" in text


def test_a_site_failing_alone_gets_a_ticket_of_its_own(server: LoopbackServer) -> None:
    from app.tickets.collect import fresh_evidence

    green(server)
    server.route("/ok", Reply(200, FINE))
    server.route("/a", Reply(503, UNAVAILABLE))
    config = config_for(server, {"a": "/a", "d": "/ok", "e": "/ok"})
    evidence = asyncio.run(fresh_evidence(config, config.site("a"), options=OPTIONS,
                                          clock=lambda: NOW))
    assert evidence.point_of_failure is PointOfFailure.SITE and evidence.alike == ()


def test_the_menu_lines_state_the_evidence_and_the_cache_share(server: LoopbackServer) -> None:
    from dataclasses import replace

    from app.events import SiteStatus
    from app.presentation import site_detail_lines

    green(server)
    server.route("/routing", Reply(502, ROUTING))
    report = check(config_for(server, {"a": "/routing"}))
    result = replace(report.sites[0], cache_hit_ratio_24h=0.92)
    status = SiteStatus(name="a", url=result.url, environment="live", state=result.state,
                        point_of_failure=result.point_of_failure, reason=result.reason,
                        result=result)
    lines = site_detail_lines(status, NOW)
    assert "Served from cache, 24 h: 92% of visitor checks" in lines
    assert "Platform evidence: Pantheon's platform-side error page" in lines
    plain = replace(status, point_of_failure=PointOfFailure.SITE)
    assert not any(line.startswith("Platform evidence") for line in site_detail_lines(plain, NOW))


@pytest.mark.skipif(shutil.which("faketime") is None or shutil.which("openssl") is None,
                    reason="faketime or openssl is not installed")
def test_the_real_command_trusts_ssl_cert_dir(tls_ca: Any, tmp_path: Path) -> None:
    # A hashed directory (as `openssl rehash` makes), given only through SSL_CERT_DIR.
    srv = tls_site(tls_ca, datetime(2030, 1, 6, 12, 0, tzinfo=UTC))
    certs = tmp_path / "certs"
    certs.mkdir()
    pem = certs / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(pem))
    digest = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(pem)],
                            capture_output=True, text=True, check=True).stdout.strip()
    (certs / f"{digest}.0").write_bytes(pem.read_bytes())
    doc = _check_under_faketime(srv, tmp_path, certs, "@2030-01-01 12:00:00", "SSL_CERT_DIR")
    site = doc["sites"][0]
    assert site["state"] == "degraded", site["reason"]
    assert site["anonymous"]["cert_days_left"] in {4, 5}


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_an_expired_certificate_stays_a_tls_failure(tls_ca: Any, tmp_path: Path) -> None:
    srv = tls_site(tls_ca, datetime(2030, 1, 6, 12, 0, tzinfo=UTC))
    doc = _check_under_faketime(srv, tmp_path, _ca_file(tls_ca, tmp_path),
                                "@2030-01-09 12:00:00")
    site = doc["sites"][0]
    assert (site["state"], site["anonymous"]["error"]) == ("down", "tls")
    assert "expired" in site["anonymous"]["detail"]
    assert site["anonymous"]["cert_days_left"] is None


def test_any_page_gives_at_most_one_short_line(tmp_path: Path) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from app.content_check import ContentRules, content_problem

    words = st.sampled_from(["Fatal error", "Parse error", "</b>:", " on line ", "\n", "<b>",
                             "Error establishing a database connection", "x" * 300, " "])
    pages = st.lists(st.one_of(words, st.text(max_size=40)), max_size=30).map("".join)

    @settings(max_examples=150, derandomize=True, deadline=None)
    @given(page=pages, expect=st.text(max_size=20), forbid=st.lists(st.text(max_size=10)))
    def check_page(page: str, expect: str, forbid: list[str]) -> None:
        found = content_problem(page, ContentRules(expect, tuple(forbid)), visitor=True,
                                status=200, content_type="text/html", complete=True,
                                window=65536)
        assert "\n" not in found and len(found) < 200

    check_page()
