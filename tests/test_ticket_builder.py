"""The ticket text: subject, description, diagnostics, plain text; pure functions, no Qt."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from app.redact import register_secret
from app.tickets.builder import (
    Ticket,
    build_ticket,
    evidence_from_status,
    live_only_reason,
    plain_text,
)
from app.tickets.collect import diagnostics_for
from tests.ticket_samples import (
    CONTACT,
    DETECTED,
    DEV_SITE,
    PLANTED_TOKEN,
    PLATFORM_INCIDENT,
    PLATFORM_OK,
    SITE,
    down_result,
    down_status,
    operational_status,
    provider,
    sample_ticket,
)


def ticket_for(status, platform=PLATFORM_OK, note: str = "") -> Ticket:  # type: ignore[no-untyped-def]
    evidence = evidence_from_status(SITE, status, platform, detected_at=DETECTED)
    return build_ticket(
        evidence,
        contact=CONTACT,
        provider=provider(),
        diagnostics=diagnostics_for(status.result if status else None, platform),
        note=note,
    )


def test_subject_and_times_for_a_site_that_is_down() -> None:
    ticket = ticket_for(down_status())
    assert ticket.subject == "EMERGENCY: shop (live) down: 502 Bad Gateway since 08:01 UTC"
    assert ticket.started_at == "2026-11-27T08:01:12Z"
    assert ticket.detected_at == "2026-11-27T08:03:40Z"
    assert (ticket.impact, ticket.point_of_failure) == ("down", "site")
    assert "request id req-abc-123" in ticket.description
    assert "Pantheon status page: All Systems Operational" in ticket.description


def test_since_yesterday_shows_the_date() -> None:
    status = replace(down_status(), first_failure_at=datetime(2026, 11, 26, 23, 58, tzinfo=UTC))
    assert ticket_for(status).subject.endswith("since Nov 26 23:58 UTC")


def test_platform_incident_is_named_and_linked() -> None:
    ticket = ticket_for(down_status(platform=True), PLATFORM_INCIDENT)
    assert "(during Pantheon incident: Elevated 502 errors on some sites)" in ticket.subject
    assert (
        "Known incident: Elevated 502 errors on some sites (identified) https://stspg.io/abc123"
        in ticket.description
    )
    assert ticket.diagnostics["platform"]["incidents"][0]["url"] == "https://stspg.io/abc123"


def test_operational_site_is_described_as_an_invisible_failure() -> None:
    ticket = ticket_for(operational_status(), note="Checkout returns an empty cart")
    assert ticket.subject == "EMERGENCY: shop (live) functional failure"
    assert ticket.description.startswith("Note from the site owner: Checkout returns an empty cart")
    assert "probes cannot see" in ticket.description
    assert ticket.impact == "operational"


def test_no_status_yet() -> None:
    ticket = ticket_for(None, None)
    assert ticket.impact == "unknown"
    assert ticket.diagnostics == {"check": {}, "platform": {}, "history": []}


def test_diagnostics_are_the_check_json_of_the_site() -> None:
    ticket = ticket_for(down_status())
    check = ticket.diagnostics["check"]
    assert check["name"] == "shop"
    assert check["anonymous"]["status"] == 502
    assert check["anonymous"]["request_id"] == "req-abc-123"
    assert check["anonymous"]["cache"] == "miss"
    assert set(ticket.to_body()) >= {"subject", "diagnostics", "contact"}


def test_live_only() -> None:
    assert live_only_reason(SITE) is None
    reason = live_only_reason(DEV_SITE)
    assert reason is not None and "'dev'" in reason and "Live environment only" in reason


def test_secrets_never_reach_the_body_or_the_text() -> None:
    register_secret(PLANTED_TOKEN)
    ticket = ticket_for(down_status(down_result(secret_in_url=True)))
    ticket = ticket.with_edits(description=ticket.description + f"\ntoken: {PLANTED_TOKEN}")
    body = repr(ticket.to_body())
    text = plain_text(ticket, hotline="1-866-415-7624")
    for blob in (body, text):
        assert PLANTED_TOKEN not in blob
    assert "***@shop.example.com" in body  # userinfo masked, not dropped silently
    assert "'Authorization': '***'" in body


def test_plain_text_has_everything_to_read_out() -> None:
    text = plain_text(sample_ticket(), hotline="1-866-415-7624")
    assert text.startswith("EMERGENCY: shop (live) down: 502 Bad Gateway since 08:01 UTC\n")
    for part in ("What Lifeline saw:", "email: ada@example.com", "Diagnostics:", "status: 502"):
        assert part in text


def test_round_trip_through_the_body() -> None:
    ticket = sample_ticket()
    assert Ticket.from_body(ticket.to_body()) == ticket


def test_an_imported_site_links_its_dashboard_page() -> None:
    uuid = "0f1e2d3c-aaaa-4bbb-8ccc-123456789abc"
    site = replace(SITE, pantheon_site_id=uuid)
    evidence = evidence_from_status(site, down_status(), PLATFORM_OK, detected_at=DETECTED)
    ticket = build_ticket(evidence, contact=CONTACT, provider=provider(), diagnostics={})
    dashboard = provider().dashboard.rstrip("/")
    assert f"Its dashboard page: {dashboard}/sites/{uuid}#live" in ticket.description
    # Without an id nor a dashboard_url there is no page to link.
    assert "dashboard page" not in ticket_for(down_status()).description
