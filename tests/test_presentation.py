"""The texts the menu, tooltip, notifications and ticket form share (app.presentation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.config import Config, SiteConfig
from app.events import MonitorSnapshot, SiteStatus
from app.models import OverallState, PlatformState, PlatformStatus, PointOfFailure, SiteState
from app.presentation import (
    REASON_WIDTH,
    https_url,
    impacted_sites,
    local_time,
    overall_line,
    plain,
    platform_line,
    site_detail_lines,
    site_title,
    tooltip_lines,
    uptime_text,
    web_url,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def status(name: str, state: SiteState, **kw: Any) -> SiteStatus:
    return SiteStatus(
        name=name, url=f"https://{name}.test/", environment="live", state=state,
        point_of_failure=PointOfFailure.SITE, reason=kw.pop("reason", ""), **kw,
    )


def test_text_is_plain_one_line_and_bounded() -> None:
    assert plain("a\nb\tc\x00d  e") == "a b c d e"
    assert "<" not in plain("<script>alert(1)</script>")
    assert len(plain("x" * 500, 80)) == 80
    assert plain("x" * 500, 80).endswith("\u2026")


def test_links_are_opened_only_for_the_right_schemes() -> None:
    assert https_url(" https://stspg.io/a ") == "https://stspg.io/a"
    assert https_url("http://stspg.io/a") is None
    assert https_url("javascript:alert(1)") is None
    assert web_url("http://blog.test/") == "http://blog.test/"
    assert web_url("file:///etc/passwd") is None
    assert web_url("https://[::1") is None  # malformed: no exception, no link


def test_uptime_rounds_only_the_last_digit_to_100() -> None:
    assert uptime_text(None) == "no history yet"
    assert uptime_text(0.99996) == "100 %"
    assert uptime_text(0.9999) == "99.99 %"
    assert uptime_text(0.9731) == "97.31 %"


def test_local_time_shows_the_date_only_for_another_day() -> None:
    same_day = NOW - timedelta(minutes=1)
    assert local_time(same_day, NOW) == same_day.astimezone().strftime("%H:%M:%S")
    long_ago = NOW - timedelta(days=3)
    assert local_time(long_ago, NOW) == long_ago.astimezone().strftime("%Y-%m-%d %H:%M")
    assert local_time(None, NOW) == "never"


def test_overall_line_counts_the_sites_needing_attention() -> None:
    snap = MonitorSnapshot(
        overall=OverallState.DOWN, point_of_failure=PointOfFailure.PLATFORM, last_check=NOW,
        sites=(status("a", SiteState.DOWN), status("b", SiteState.ASLEEP),
               status("c", SiteState.OPERATIONAL)),
    )
    assert overall_line(snap) == "Down: 1 of 3 sites need attention (platform problem)"
    assert overall_line(MonitorSnapshot()) == "No sites yet: add them in Settings"


def test_platform_line_does_not_repeat_the_label() -> None:
    same = PlatformStatus(state=PlatformState.OUTAGE, description="outage")
    assert platform_line(same, "Pantheon") == "Pantheon: Outage"
    other = PlatformStatus(state=PlatformState.DEGRADED, description="Slow dashboard")
    assert platform_line(other, "Pantheon") == "Pantheon: Degraded (Slow dashboard)"
    assert platform_line(None, "Pantheon") == "Pantheon: status page not read yet"


def test_site_title_and_details() -> None:
    pending = status("shop", SiteState.OPERATIONAL, pending=True, suspected=SiteState.DOWN,
                     reason="503", since=NOW - timedelta(hours=1), last_checked=NOW,
                     uptime_24h=1.0)
    assert site_title(pending) == "shop: Operational, confirming down"
    lines = site_detail_lines(pending, NOW)
    assert lines[0] == "503"
    assert lines[1] == "Confirming: down (not alarmed yet)"
    assert lines[2].startswith("Operational since ")
    assert lines[-1] == "Uptime 24 h: 100 %"
    long_reason = status("blog", SiteState.DOWN, reason="word " * 60)
    wrapped = site_detail_lines(long_reason, NOW)
    assert len(wrapped) > 3 and all(len(line) <= REASON_WIDTH for line in wrapped[:-2])


def test_tooltip_mentions_pending_and_counts() -> None:
    snap = MonitorSnapshot(
        overall=OverallState.DEGRADED, last_check=NOW,
        sites=(status("a", SiteState.EDITORS_BLOCKED), status("b", SiteState.EDITORS_BLOCKED),
               status("c", SiteState.OPERATIONAL, pending=True, suspected=SiteState.DOWN)),
    )
    lines = tooltip_lines(snap, "Pantheon", NOW)
    assert lines[0] == "Lifeline"
    assert lines[2] == "2 editors blocked, 1 operational"
    assert "A problem is being confirmed" in lines


def test_impacted_sites_are_live_and_worst_first() -> None:
    config = Config(sites=(
        SiteConfig(name="shop", url="https://shop.test/"),
        SiteConfig(name="blog", url="https://blog.test/"),
        SiteConfig(name="wiki", url="https://wiki.test/"),
        SiteConfig(name="dev", url="https://dev-x.pantheonsite.io/", environment="dev"),
        SiteConfig(name="fine", url="https://fine.test/"),
    ))
    snap = MonitorSnapshot(sites=(
        status("blog", SiteState.DEGRADED),
        status("shop", SiteState.DOWN),
        status("wiki", SiteState.OPERATIONAL, pending=True, suspected=SiteState.EDITORS_BLOCKED),
        status("dev", SiteState.DOWN),  # not live: no emergency ticket
        status("fine", SiteState.ASLEEP),
    ))
    assert [s.name for s in impacted_sites(snap, config)] == ["shop", "blog", "wiki"]
