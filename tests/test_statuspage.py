"""Statuspage summary.json: real payloads, documented-schema variants, and garbage."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from app.models import PlatformState, PlatformStatus
from app.platform_rule import describe, judge
from app.probes import ProbeOptions
from app.statuspage import StatusFetch, fetch_platform, parse_retry_after, parse_summary
from tests.conftest import summary_payload
from tests.loopback import Close, Hang, LoopbackServer, Reply, Stream, free_port

FAST = ProbeOptions(timeout=1.0, retries=0)
PAGE = "https://status.example.com"
JSON = {"Content-Type": "application/json"}


def incident(
    name: str = "Elevated errors on sites",
    impact: str = "major",
    status: str = "investigating",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": "p31zjtct2jer",
        "name": name,
        "status": status,
        "impact": impact,
        "shortlink": "https://stspg.io/p31zjtct2jer",
        "created_at": "2026-11-27T07:40:00.000Z",
        "incident_updates": [{"status": status, "body": "We are investigating."}],
        **extra,
    }


def maintenance(status: str = "in_progress", name: str = "Database upgrade") -> dict[str, Any]:
    return {
        "id": "w1zdr745wmfy",
        "name": name,
        "status": status,
        "impact": "maintenance",
        "shortlink": "https://stspg.io/w1zdr745wmfy",
        "scheduled_for": "2026-11-27T07:00:00.000Z",
        "scheduled_until": "2026-11-27T09:00:00.000Z",
    }


def future_maintenance(
    status: str = "scheduled",
    name: str = "Database upgrade",
    start: str | None = "2026-03-02T15:00:00.000Z",
    ident: str = "k7lqv3pl0r2x",
) -> dict[str, Any]:
    """A scheduled maintenance as summary.json lists it (documented schema)."""
    return {
        "id": ident,
        "name": name,
        "status": status,
        "impact": "maintenance",
        "shortlink": f"https://stspg.io/{ident}",
        "scheduled_for": start,
        "scheduled_until": "2026-03-02T16:00:00.000Z",
        "components": [
            {"id": "brv1bkgrwx7q", "name": "Git Operations", "status": "operational"},
            {"id": "4230lsnqdsld", "name": "API Requests", "status": "operational"},
        ],
        "incident_updates": [{"status": status, "body": "The database will be upgraded."}],
    }


def with_component_status(status: str, index: int = 0) -> dict[str, Any]:
    data = summary_payload()
    data["components"][index]["status"] = status
    return data


def fetch(url: str, options: ProbeOptions = FAST) -> StatusFetch:
    return asyncio.run(fetch_platform(url, options))


# --------------------------------------------------------------------------- parsing


def test_real_operational_payload(statuspage_fixtures: Path) -> None:
    data = json.loads((statuspage_fixtures / "summary-operational.json").read_text())
    status = parse_summary(data, page_url="https://www.githubstatus.com")
    assert status.state is PlatformState.OPERATIONAL
    assert status.indicator == "none"
    assert status.description == "All Systems Operational"
    assert status.incidents == status.maintenances == status.components == ()
    assert status.error is None
    assert status.page_url == "https://www.githubstatus.com"


def test_minor_indicator_with_a_major_incident_is_an_outage() -> None:
    data = summary_payload(
        status={"indicator": "minor", "description": "Minor Service Outage"},
        incidents=[incident(impact="major")],
    )
    status = parse_summary(data, page_url=PAGE)
    assert status.state is PlatformState.OUTAGE
    assert status.indicator == "minor"
    [found] = status.incidents
    assert (found.name, found.impact, found.status) == (
        "Elevated errors on sites", "major", "investigating"
    )
    assert found.url == "https://stspg.io/p31zjtct2jer"


def test_resolved_incidents_do_not_count() -> None:
    data = summary_payload(
        incidents=[incident(status="resolved"), incident(status="postmortem", impact="critical")]
    )
    status = parse_summary(data)
    assert status.state is PlatformState.OPERATIONAL and status.incidents == ()


def test_open_incident_with_no_impact_is_still_not_operational() -> None:
    data = summary_payload(incidents=[incident(impact="none", status="monitoring")])
    status = parse_summary(data)
    assert status.state is PlatformState.DEGRADED


@pytest.mark.parametrize(
    ("component", "state"),
    [
        ("degraded_performance", PlatformState.DEGRADED),
        ("partial_outage", PlatformState.DEGRADED),
        ("major_outage", PlatformState.OUTAGE),
        ("under_maintenance", PlatformState.MAINTENANCE),
    ],
)
def test_components_count_even_with_indicator_none(component: str, state: PlatformState) -> None:
    status = parse_summary(with_component_status(component, index=1))
    assert status.state is state
    [found] = status.components
    assert (found.name, found.status) == ("API Requests", component)


def test_worst_wins() -> None:
    data = with_component_status("partial_outage")
    data["components"][2]["status"] = "major_outage"
    data["scheduled_maintenances"] = [maintenance()]
    data["incidents"] = [incident(impact="minor")]
    status = parse_summary(data)
    assert status.state is PlatformState.OUTAGE
    assert [c.status for c in status.components] == ["partial_outage", "major_outage"]
    assert len(status.maintenances) == 1 and len(status.incidents) == 1


def test_maintenance_in_progress() -> None:
    data = summary_payload(
        status={"indicator": "maintenance", "description": "Service Under Maintenance"},
        scheduled_maintenances=[maintenance("in_progress"), maintenance("scheduled", "Later")],
    )
    status = parse_summary(data)
    assert status.state is PlatformState.MAINTENANCE
    [active] = status.maintenances
    assert active.name == "Database upgrade" and active.status == "in_progress"
    assert active.scheduled_until == "2026-11-27T09:00:00.000Z"


def test_scheduled_or_completed_maintenance_is_not_active() -> None:
    data = summary_payload(
        scheduled_maintenances=[maintenance("scheduled"), maintenance("completed")]
    )
    status = parse_summary(data)
    assert status.state is PlatformState.OPERATIONAL and status.maintenances == ()


def test_unknown_enum_values_are_tolerated_and_kept() -> None:
    data = with_component_status("on_fire")
    data["status"] = {"indicator": "purple", "description": "Something new"}
    data["incidents"] = [incident(impact="catastrophic", status="escalated")]
    status = parse_summary(data)
    assert status.state is PlatformState.DEGRADED
    assert status.indicator == "purple"
    assert status.components[0].status == "on_fire"
    assert (status.incidents[0].impact, status.incidents[0].status) == ("catastrophic", "escalated")
    # Unknown values never make anything look operational.
    only_indicator = summary_payload(status={"indicator": "unheard-of", "description": ""})
    assert parse_summary(only_indicator).state is PlatformState.DEGRADED


def test_incident_links_are_https_only() -> None:
    data = summary_payload(
        page={"url": "https://status.example.com/"},
        incidents=[
            incident(name="plain http", shortlink="http://stspg.io/abc"),
            incident(name="script", shortlink="javascript:alert(1)", id="../../x"),
        ],
    )
    plain, script = parse_summary(data).incidents
    # http shortlink: fall back to the https page's own incident URL.
    assert plain.url == "https://status.example.com/incidents/p31zjtct2jer"
    assert script.url == ""
    http_page = summary_payload(
        page={"url": "http://status.example.com"},
        incidents=[incident(shortlink="http://stspg.io/abc")],
    )
    assert parse_summary(http_page).incidents[0].url == ""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "a list"),
        ("operational", "a string"),
        (None, "null"),
        ({"page": {}}, "no 'status'"),
        ({"status": "ok"}, "no 'status'"),
        ({"status": {"description": "x"}}, "indicator"),
        ({"status": {"indicator": 3}}, "not a string"),
        (summary_payload(components={"a": 1}), "'components'"),
        (summary_payload(incidents=["down"]), "'incidents'"),
        (summary_payload(components=[{"name": "x"}]), "no status"),
    ],
)
def test_wrong_shape_is_unknown_never_operational(data: object, reason: str) -> None:
    status = parse_summary(data, page_url=PAGE)
    assert status.state is PlatformState.UNKNOWN
    assert status.error is not None and reason in status.error
    assert not status.connection_failed


# --------------------------------------------------------------------------- fetching


def test_fetch_real_payload_from_a_server(
    server: LoopbackServer, statuspage_fixtures: Path
) -> None:
    body = (statuspage_fixtures / "summary-operational.json").read_bytes()
    server.route("/api/v2/summary.json", Reply(200, body, {"Content-Type": "application/json"}))
    got = fetch(server.url + "/")
    assert got.status.state is PlatformState.OPERATIONAL
    assert got.retry_after is None
    assert server.requests[0].headers["Accept"] == "application/json"


def test_fetch_incident_variant(server: LoopbackServer) -> None:
    data = summary_payload(
        status={"indicator": "minor", "description": "Partially Degraded Service"},
        incidents=[incident()],
    )
    server.route("/api/v2/summary.json", Reply.json(data))
    got = fetch(server.url)
    assert got.status.state is PlatformState.OUTAGE
    assert got.status.description == "Partially Degraded Service"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, '{"status": {"indicator": "none", "descr', JSON), "not valid JSON"),
        (Reply(200, "<html><title>Status</title></html>"), "text/html"),
        (Reply(500, "oops"), "answered 500"),
        (Reply(404, "<title>Not Found</title>"), "answered 404"),
        (Reply(200, b"\xff\xfe{}", JSON), "not UTF-8"),
        (Reply.json({"status": []}), "no 'status'"),
    ],
)
def test_fetch_bad_answers_are_unknown(server: LoopbackServer, reply: Reply, reason: str) -> None:
    server.route("/api/v2/summary.json", reply)
    got = fetch(server.url)
    assert got.status.state is PlatformState.UNKNOWN
    assert got.status.error is not None and reason in got.status.error
    assert not got.status.connection_failed


def test_fetch_atom_feed_instead_of_summary(
    server: LoopbackServer, statuspage_fixtures: Path
) -> None:
    feed = (statuspage_fixtures / "history.atom").read_bytes()
    server.route("/api/v2/summary.json", Reply(200, feed, {"Content-Type": "application/atom+xml"}))
    got = fetch(server.url)
    assert got.status.state is PlatformState.UNKNOWN
    assert "not valid JSON" in (got.status.error or "")


def test_fetch_body_cut_short_is_unknown(server: LoopbackServer) -> None:
    # Content-Length promises more than is sent: the connection closes mid-answer.
    server.route("/api/v2/summary.json", Close())
    got = fetch(server.url)
    assert got.status.state is PlatformState.UNKNOWN and not got.status.connection_failed


def test_fetch_oversized_summary_is_unknown(server: LoopbackServer) -> None:
    server.route("/api/v2/summary.json", Stream(6 * 1024 * 1024))
    got = fetch(server.url)
    assert got.status.state is PlatformState.UNKNOWN and "larger than" in (got.status.error or "")


def test_rate_limited_page_gives_retry_after(server: LoopbackServer) -> None:
    server.route("/api/v2/summary.json", Reply(429, "slow down", {"Retry-After": "120"}))
    got = fetch(server.url)
    assert got.status.state is PlatformState.UNKNOWN and got.retry_after == 120.0
    assert len(server.requests) == 1  # a rate-limited page is not hammered with retries


def test_5xx_is_retried_then_unknown(server: LoopbackServer) -> None:
    server.route("/api/v2/summary.json", Reply(502, "bad gateway"))
    got = fetch(server.url, ProbeOptions(timeout=1, retries=1))
    assert got.status.state is PlatformState.UNKNOWN and len(server.requests) == 2


def test_unreachable_page_is_unknown_with_a_network_hint(server: LoopbackServer) -> None:
    refused = fetch(f"http://127.0.0.1:{free_port()}")
    assert refused.status.state is PlatformState.UNKNOWN
    assert refused.status.connection_failed
    assert "unreachable" in (refused.status.error or "")
    server.route("/api/v2/summary.json", Hang())
    hung = fetch(server.url, ProbeOptions(timeout=0.4, retries=0))
    assert hung.status.state is PlatformState.UNKNOWN and hung.status.connection_failed


def test_parse_retry_after() -> None:
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    assert parse_retry_after("Fri, 15 Jan 2027 08:01:00 GMT", now=now) == 60.0
    assert parse_retry_after("Fri, 15 Jan 2027 07:00:00 GMT", now=now) == 0.0


# --------------------------------------------------------------------------- the rule (issue 19)


def test_recovering_monitoring_incident_is_degraded_like_the_page() -> None:
    # The capture that was reported as an outage: indicator minor, the only incident in
    # monitoring (its impact still says major), its component back to degraded.
    data = summary_payload(
        status={"indicator": "minor", "description": "Partially Degraded Service"},
        incidents=[
            incident(
                name="Packages unavailable", impact="major", status="monitoring",
                components=[{"id": "c1", "name": "GitHub Packages",
                             "status": "degraded_performance"}],
            )
        ],
    )
    data["components"][6]["status"] = "degraded_performance"
    status = parse_summary(data, page_url=PAGE)
    assert status.state is PlatformState.DEGRADED
    assert describe(status) == "Partially Degraded Service"  # agrees with the page
    assert status.incidents[0].components == ("GitHub Packages",)


def test_same_incident_still_identified_is_an_outage_and_says_why() -> None:
    data = summary_payload(
        status={"indicator": "minor", "description": "Partially Degraded Service"},
        incidents=[incident(name="Packages unavailable", impact="major", status="identified")],
    )
    status = parse_summary(data, page_url=PAGE)
    assert status.state is PlatformState.OUTAGE
    assert describe(status) == (
        "'Packages unavailable' (major, identified); the page's indicator says minor"
    )


def test_component_major_outage_with_indicator_minor_is_an_outage() -> None:
    data = with_component_status("major_outage", index=1)
    data["status"] = {"indicator": "minor", "description": "Minor Service Outage"}
    status = parse_summary(data, page_url=PAGE)
    assert status.state is PlatformState.OUTAGE
    assert describe(status) == "'API Requests' major outage; the page's indicator says minor"


@pytest.mark.parametrize(
    ("indicator", "component", "incidents", "state"),
    [
        ("major", "operational", [], PlatformState.OUTAGE),
        ("critical", "operational", [], PlatformState.OUTAGE),
        ("none", "major_outage", [], PlatformState.OUTAGE),
        ("none", "operational", [("major", "investigating")], PlatformState.OUTAGE),
        ("none", "operational", [("critical", "identified")], PlatformState.OUTAGE),
        ("minor", "operational", [], PlatformState.DEGRADED),
        ("none", "degraded_performance", [], PlatformState.DEGRADED),
        ("none", "partial_outage", [], PlatformState.DEGRADED),
        ("none", "operational", [("critical", "monitoring")], PlatformState.DEGRADED),
        ("none", "operational", [("minor", "investigating")], PlatformState.DEGRADED),
        ("none", "operational", [("none", "identified")], PlatformState.DEGRADED),
        ("maintenance", "operational", [], PlatformState.MAINTENANCE),
        ("none", "under_maintenance", [], PlatformState.MAINTENANCE),
        ("maintenance", "degraded_performance", [], PlatformState.DEGRADED),
        ("none", "operational", [("major", "resolved")], PlatformState.OPERATIONAL),
    ],
)
def test_the_rule_table(
    indicator: str, component: str, incidents: list[tuple[str, str]], state: PlatformState
) -> None:
    data = with_component_status(component, index=2)
    data["status"] = {"indicator": indicator, "description": ""}
    data["incidents"] = [incident(impact=i, status=s) for i, s in incidents]
    assert parse_summary(data).state is state


def test_future_maintenance_is_planned_not_active() -> None:
    data = summary_payload(scheduled_maintenances=[future_maintenance()])
    status = parse_summary(data, page_url=PAGE)
    assert status.state is PlatformState.OPERATIONAL and status.maintenances == ()
    [planned] = status.upcoming
    assert planned.name == "Database upgrade" and planned.ident == "k7lqv3pl0r2x"
    assert planned.scheduled_for == "2026-03-02T15:00:00.000Z"
    assert planned.components == ("Git Operations", "API Requests")
    assert planned.url == "https://stspg.io/k7lqv3pl0r2x"


def test_in_progress_maintenance_is_maintenance_and_not_planned() -> None:
    data = summary_payload(
        status={"indicator": "maintenance", "description": "Service Under Maintenance"},
        scheduled_maintenances=[future_maintenance(status="in_progress")],
    )
    data["components"][0]["status"] = "under_maintenance"
    status = parse_summary(data, page_url=PAGE)
    assert status.state is PlatformState.MAINTENANCE and status.upcoming == ()
    assert [m.status for m in status.maintenances] == ["in_progress"]
    assert describe(status) == "Service Under Maintenance"


def test_planned_maintenances_sorted_by_start() -> None:
    later = future_maintenance(name="Later", start="2026-03-05T01:00:00Z", ident="b")
    sooner = future_maintenance(name="Sooner", start="2026-03-02T13:00:00Z", ident="a")
    no_time = future_maintenance(name="Whenever", start=None, ident="c")
    status = parse_summary(summary_payload(scheduled_maintenances=[later, no_time, sooner]))
    assert [m.name for m in status.upcoming] == ["Sooner", "Later", "Whenever"]


def test_unwatched_component_is_shown_but_does_not_count() -> None:
    data = with_component_status("major_outage", index=1)  # API Requests
    data["status"] = {"indicator": "major", "description": "Major Service Outage"}
    data["incidents"] = [
        incident(name="API down", components=[{"name": "API Requests"}]),
    ]
    watched = ["Git*", "Webhooks"]
    status = parse_summary(data, page_url=PAGE, components=watched)
    assert status.state is PlatformState.OPERATIONAL
    [api] = status.components
    assert (api.name, api.counted) == ("API Requests", False)
    assert not status.incidents[0].counted
    assert describe(status) == (
        "only what you do not watch is affected ('API Requests' major outage, "
        "'API down' (major, investigating)); the page's indicator says major"
    )
    # The same page with the default patterns: everything counts.
    assert parse_summary(data, page_url=PAGE).state is PlatformState.OUTAGE


def test_watched_trouble_decides_when_some_is_not_watched() -> None:
    data = with_component_status("major_outage", index=1)  # API Requests: not watched
    data["components"][0]["status"] = "partial_outage"  # Git Operations: watched
    data["status"] = {"indicator": "major", "description": "Major Service Outage"}
    status = parse_summary(data, components=["git operations"])  # case-insensitive
    assert status.state is PlatformState.DEGRADED
    assert status.reason == "'Git Operations' partial outage"
    assert describe(status) == (
        "'Git Operations' partial outage; the page's indicator says major"
    )


def test_incident_naming_no_component_always_counts() -> None:
    data = summary_payload(incidents=[incident(impact="minor", components=[])])
    status = parse_summary(data, components=["Nothing*"])
    assert status.state is PlatformState.DEGRADED and status.incidents[0].counted


def test_indicator_alone_counts_even_with_patterns() -> None:
    # Nothing is listed to explain it, so nothing is known to be outside the patterns.
    data = summary_payload(status={"indicator": "minor", "description": "Minor"})
    assert parse_summary(data, components=["Git*"]).state is PlatformState.DEGRADED


def test_group_components_are_judged_through_their_members() -> None:
    data = summary_payload(
        components=[
            {"id": "g", "name": "Platform", "status": "major_outage", "group": True},
            {"id": "a", "name": "Dashboard", "status": "major_outage", "group": False,
             "group_id": "g"},
            {"id": "b", "name": "Sites", "status": "operational", "group_id": "g"},
        ],
        status={"indicator": "major", "description": "Major"},
    )
    status = parse_summary(data, components=["Platform", "Sites"])
    assert [c.name for c in status.components] == ["Dashboard"]
    assert status.state is PlatformState.OPERATIONAL


def test_malformed_component_lists_cost_names_not_incidents() -> None:
    data = summary_payload(
        incidents=[incident(components=[{"name": 3}, "x", {"name": "Webhooks"}])],
        scheduled_maintenances=[{**future_maintenance(), "components": "all"}],
    )
    status = parse_summary(data)
    assert status.incidents[0].components == ("Webhooks",)
    assert status.upcoming[0].components == ()


def test_judge_leaves_unread_statuses_alone() -> None:
    unread = PlatformStatus(state=PlatformState.UNKNOWN, error="not checked yet")
    assert judge(unread, ["x"]) is unread
    assert describe(unread) == "not checked yet"


def test_real_capture_judged_with_patterns(statuspage_fixtures: Path) -> None:
    data = json.loads((statuspage_fixtures / "summary-operational.json").read_text())
    status = parse_summary(data, page_url=PAGE, components=["Git*", "API*"])
    assert status.state is PlatformState.OPERATIONAL and status.reason == ""
    assert status.upcoming == () and describe(status) == "All Systems Operational"
    # Its real components with one planned maintenance added, as the page would list it.
    data["scheduled_maintenances"] = [future_maintenance()]
    data["components"][1]["status"] = "under_maintenance"
    status = parse_summary(data, page_url=PAGE)
    assert status.state is PlatformState.MAINTENANCE
    assert describe(status) == (
        "'API Requests' under maintenance; the page's indicator says none"
    )


def test_fetch_passes_the_patterns(server: LoopbackServer) -> None:
    data = with_component_status("major_outage", index=1)
    server.route("/api/v2/summary.json", Reply.json(data))
    got = asyncio.run(fetch_platform(server.url, FAST, components=["Webhooks"]))
    assert got.status.state is PlatformState.OPERATIONAL
    assert not got.status.components[0].counted


def test_monitor_judges_the_page_with_the_configured_components(
    make_server: Any,
) -> None:
    from dataclasses import replace as with_

    from app.config import Config, ProviderConfig, SiteConfig
    from app.monitor import Monitor
    from tests.test_monitor import FakeClock

    page = make_server()
    page.route("/api/v2/summary.json", Reply.json(with_component_status("major_outage", 1)))
    site = make_server()
    site.route("*", Reply(200, "<title>Shop</title>"))
    config = Config(
        provider=ProviderConfig(status_page=page.url, components=("Git*",)),
        sites=(SiteConfig("shop", site.url),),
    )
    monitor = Monitor(config, options=FAST, clock=FakeClock())
    asyncio.run(monitor.tick())
    shown = monitor.snapshot().platform
    assert shown is not None and shown.state is PlatformState.OPERATIONAL
    assert [(c.name, c.counted) for c in shown.components] == [("API Requests", False)]
    # The same page, every component watched (the default).
    everything = Monitor(with_(config, provider=with_(config.provider, components=("*",))),
                         options=FAST, clock=FakeClock())
    asyncio.run(everything.tick())
    assert everything.snapshot().platform.state is PlatformState.OUTAGE  # type: ignore[union-attr]


def test_watch_line_says_why_when_it_differs_from_the_page() -> None:
    from datetime import UTC, datetime

    from app.eventlines import platform_reason
    from app.events import PlatformStateChanged

    data = summary_payload(
        status={"indicator": "minor", "description": "Minor Service Outage"},
        incidents=[incident(name="Packages unavailable", status="identified")],
    )
    status = parse_summary(data)
    event = PlatformStateChanged(at=datetime(2026, 3, 2, tzinfo=UTC), previous=None,
                                 state=status.state, platform=status)
    assert platform_reason(event) == (
        "'Packages unavailable' (major, identified); the page's indicator says minor"
    )
