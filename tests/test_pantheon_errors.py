"""Recognising Pantheon's error pages from what a probe sees (status + title or body)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.config import SiteConfig
from app.impact import assess_site
from app.integrations.pantheon_errors import (
    BY_KEY,
    CATALOGUE,
    identify,
    identify_body,
    is_idle_container,
    page_text,
    page_title,
)
from app.models import (
    SITE_SEVERITY,
    PlatformState,
    PlatformStatus,
    PointOfFailure,
    SiteResult,
    SiteState,
)
from app.paths import Paths
from app.probes import ProbeOptions, probe_site
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply


def pantheon_page(title: str, headline: str, text: str) -> str:
    """Shaped like Pantheon's static error pages: a title, a headline, a sentence."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>body{{font-family:sans-serif}}</style></head>"
        f"<body><div class='container'><h1>{headline}</h1><p>{text}</p></div></body></html>"
    )


@pytest.mark.parametrize(
    ("status", "title", "headline", "key"),
    [
        (502, "502 Bad Gateway", "There was an error connecting to the PHP backend.",
         "php_backend"),
        (502, "502 Routing failure", "Page Could Not Be Loaded", "routing_failure"),
        (503, "503 Database not Responding", "The web page you were looking for could not be "
         "delivered.", "database_not_responding"),
        (503, "503 First Byte Timeout", "Page Could Not Be Loaded", "first_byte_timeout"),
        (503, "503 Backend fetch failed", "Error 503 Backend fetch failed", "backend_fetch_failed"),
        (503, "503 Target in Maintenance", "The web site you were looking for is currently "
         "undergoing maintenance.", "target_in_maintenance"),
        (504, "504 Target Not Responding", "The web page you were looking for could not be "
         "delivered.", "target_not_responding"),
        (504, "504 Target Not Responding", "No php workers are available to handle the request.",
         "no_php_workers"),
        (504, "504 Gateway Timeout", "The application did not respond in time.",
         "gateway_timeout"),
        (561, "561 No site detected", "No site detected. Make sure your code is pulled into "
         "this environment.", "no_site_detected"),
        (530, "530 Site Frozen", "This site has been frozen.", "site_frozen"),
        (404, "404 Unknown Site", "The hostname is unknown.", "unknown_site"),
    ],
)
def test_each_page_is_recognised_from_its_body(
    status: int, title: str, headline: str, key: str
) -> None:
    page = identify_body(status, pantheon_page(title, headline, "Please try again later."))
    assert page is not None and page.key == key


def test_title_alone_is_enough() -> None:
    page = identify(503, "503 Database not Responding")
    assert page is BY_KEY["database_not_responding"]
    assert identify(503, "503 first byte TIMEOUT") is BY_KEY["first_byte_timeout"]


def test_status_must_match() -> None:
    assert identify(200, "503 Database not Responding") is None
    assert identify(500, "504 Target Not Responding") is None
    assert identify(None, "504 Target Not Responding") is None


def test_generic_or_foreign_pages_are_not_named() -> None:
    assert identify(503, "Service Unavailable") is None
    assert identify(502, "nginx") is None
    assert identify(504, "") is None
    assert identify_body(500, "<h1>Internal Server Error</h1>") is None


def test_idle_container_only_off_live() -> None:
    assert is_idle_container(504, "504 Target Not Responding", "dev")
    assert is_idle_container(504, "504 Target Not Responding", "pr-123")
    assert not is_idle_container(504, "504 Target Not Responding", "live")
    assert not is_idle_container(504, "No php workers are available", "dev")
    assert not is_idle_container(503, "503 Database not Responding", "test")


def test_describe_is_one_sentence_naming_the_page() -> None:
    text = BY_KEY["database_not_responding"].describe()
    assert text.startswith('Pantheon\'s "503 Database not Responding" page: ')
    assert text.endswith(".") and "\n" not in text


def test_catalogue_is_well_formed() -> None:
    keys = [p.key for p in CATALOGUE]
    assert len(keys) == len(set(keys))
    for page in CATALOGUE:
        assert page.markers and all(m == m.casefold() for m in page.markers)
        assert page.title.startswith(str(page.status))
        assert page.meaning.endswith(".") and (
            page.meaning[0].islower() or page.meaning.startswith("Pantheon")
        )


def test_page_title_and_text() -> None:
    body = "<html><head><title>\n 503  First Byte &amp; Timeout </title></head><body>x</body>"
    assert page_title(body) == "503 First Byte & Timeout"
    assert page_title("<p>no title</p>") == ""
    assert page_text("<h1>A</h1>\n<p>B &lt; C</p>") == "A B < C"


# --------------------------------------------------------------------------- in the diagnosis


def probed(server: LoopbackServer, site: SiteConfig) -> SiteResult:
    """Real probes of a loopback site, then the pure assessment."""
    options = ProbeOptions(timeout=3.0, retries=0)
    anonymous, backend = asyncio.run(probe_site(site, options))
    return assess_site(
        site, anonymous, backend, slow=3.0, platform=PlatformStatus(PlatformState.OPERATIONAL)
    )


def idle_page() -> Reply:
    return Reply(
        504,
        pantheon_page(
            "504 Target Not Responding",
            "The web page you were looking for could not be delivered.",
            "No further details.",
        ),
    )


def test_idle_non_live_environment_is_asleep_not_down(server: LoopbackServer) -> None:
    server.route("*", idle_page())
    site = SiteConfig(name="Dev", url=f"{server.url}/", environment="dev")
    result = probed(server, site)
    assert result.state is SiteState.ASLEEP
    assert result.point_of_failure is PointOfFailure.NONE
    assert "Asleep" in result.reason and "504 Target Not Responding" in result.reason
    assert SITE_SEVERITY[result.state] == 0  # no alarm


def test_the_same_page_on_live_is_down_and_explained(server: LoopbackServer) -> None:
    server.route("*", idle_page())
    result = probed(server, SiteConfig(name="Live", url=f"{server.url}/"))
    assert result.state is SiteState.DOWN
    assert "(504 Target Not Responding: the application container did not take" in result.reason


def test_non_live_with_another_error_is_still_down(server: LoopbackServer) -> None:
    server.route(
        "*",
        Reply(503, pantheon_page("503 Database not Responding", "Could not be delivered.", "")),
    )
    result = probed(server, SiteConfig(name="Test", url=f"{server.url}/", environment="test"))
    assert result.state is SiteState.DOWN
    assert "503 Database not Responding: the site's MySQL database did not answer" in (
        result.reason
    )


def test_backend_error_page_is_named_for_editors(server: LoopbackServer) -> None:
    server.route("/", Reply(200, "<title>Home</title>"))
    server.route(
        "/user/login",
        Reply(502, pantheon_page("502 Bad Gateway", "There was an error connecting to the PHP "
                                 "backend.", "")),
    )
    site = SiteConfig(name="Shop", url=f"{server.url}/", backend_url=f"{server.url}/user/login")
    result = probed(server, site)
    assert result.state is SiteState.EDITORS_BLOCKED
    assert "502 Bad Gateway: the web server could not get an answer from PHP" in result.reason


def test_lifeline_check_raises_no_alarm_for_a_sleeping_environment(
    make_server: Any, tmp_path: Path, paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    site, status = make_server(), make_server()
    site.route("*", idle_page())
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[provider]
status_page = "{status.url}"

[monitor]
timeout = 2
retries = 0

[[site]]
name = "shop-dev"
url = "{site.url}/"
environment = "dev"
""",
        encoding="utf-8",
    )
    code = main(["check", "--json", "--config", str(config)], paths=paths)
    report = json.loads(capsys.readouterr().out)
    assert code == 0  # Nagios OK: nothing to page anyone about
    assert report["overall"]["state"] == "operational"
    assert report["sites"][0]["state"] == "asleep"
