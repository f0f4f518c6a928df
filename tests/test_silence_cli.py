"""Groups, snoozes and maintenance windows through `lifeline watch`, `check` and
`history`: real processes, real servers on 127.0.0.1.

The windows here are open whatever the date ("FREQ=DAILY" lasting two days) and the
snooze ends in 2999, so no test reads today's date.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.paths import Paths
from app.snooze import SnoozeStore
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply
from tests.test_watch_cli import ROOT, Outage, lifeline, run_watch

ALWAYS = 'rrule = "FREQ=DAILY"\nduration = "2d"'  # a window open at any date


def write_config(
    path: Path, status_page: str, sites: dict[str, tuple[str, str]], extra: str = ""
) -> Path:
    lines = ["[provider]", f'status_page = "{status_page}"', "", "[monitor]",
             "interval = 1", "retry_interval = 0.2", "timeout = 2"]
    for name, (url, group) in sites.items():
        lines += ["", "[[site]]", f'name = "{name}"', f'url = "{url}"']
        if group:
            lines.append(f'group = "{group}"')
    path.write_text("\n".join(lines) + "\n\n" + extra + "\n")
    return path


def snooze_blog(paths: Paths) -> None:
    # As `lifeline snooze blog ...` leaves it; the date only has to be far ahead.
    SnoozeStore(paths.snoozes).snooze(
        "blog", datetime(2999, 1, 1, tzinfo=UTC), now=datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_watch_marks_silenced_sites_and_the_icon_follows_the_others(
    make_server: Any, paths: Paths, tmp_path: Path
) -> None:
    status: LoopbackServer = make_server()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    shop, blog, control = make_server(), make_server(), make_server()
    for server in (shop, blog, control):
        Outage(server, start=1.5, end=4.0)
    config = write_config(
        tmp_path / "config.toml", status.url,
        {"shop": (shop.url, "Client A"), "blog": (blog.url, ""), "control": (control.url, "")},
        f'[[maintenance]]\nsites = ["group:Client A"]\n{ALWAYS}\n',
    )
    snooze_blog(paths)
    events, stderr, code = run_watch(config, duration=8.5)
    assert code == 0, stderr

    def downs(site: str) -> list[Any]:
        return [e["silenced"] for e in events if e["site"] == site and e["to"] == "down"]

    assert downs("shop") == ["maintenance"]
    assert downs("blog") == ["snooze"]
    assert downs("control") == [None]
    began = [e for e in events if e["event"] == "maintenance"]
    assert [(e["site"], e["to"], e["silenced"]) for e in began] == [
        ("shop", "maintenance", "maintenance")
    ]
    for event in events:
        if event["event"] in ("site_state", "reminder"):
            assert "silenced" in event
    overall = [e["to"] for e in events if e["event"] == "overall_state"]
    assert overall == ["operational", "down", "operational"]  # the control's outage only

    out = subprocess.run(
        lifeline("history", "--json", "--config", str(config)),
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    uptime = {s["name"]: s["uptime_24h"] for s in doc["sites"]}
    assert uptime["shop"] is None  # in maintenance all along: no time counted at all
    assert uptime["control"] is not None and uptime["control"] < 0.9
    shop_rows = [(t["kind"], t["to"]) for t in doc["transitions"] if t["site"] == "shop"]
    assert shop_rows[0] == ("maintenance", "maintenance")

    grouped = subprocess.run(
        lifeline("history", "--json", "--group", "client a", "--config", str(config)),
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )
    assert grouped.returncode == 0, grouped.stderr
    doc = json.loads(grouped.stdout)
    assert {t["site"] for t in doc["transitions"]} == {"shop"}
    assert [s["name"] for s in doc["sites"]] == ["shop"]


def check(capsys: pytest.CaptureFixture[str], paths: Paths, *args: str) -> tuple[int, str, str]:
    code = main(["check", *args], paths=paths)
    out, err = capsys.readouterr()
    return code, out, err


def test_check_groups_silenced_sites_and_exit_codes(
    make_server: Any, paths: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status: LoopbackServer = make_server()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    down, up = make_server(), make_server()
    down.route("*", Reply(502, "<title>502 Bad Gateway</title>"))
    up.route("*", Reply(200, "<title>ok</title>"))
    sites = {"shop": (down.url, "Client A"), "blog": (down.url + "/blog", ""),
             "docs": (up.url, "Client B")}
    plain = write_config(tmp_path / "plain.toml", status.url, sites)
    code, out, err = check(capsys, paths, "--json", "--config", str(plain))
    assert code == 2, err  # two sites down, nothing silenced: CRITICAL
    doc = json.loads(out)
    assert {s["name"]: (s["group"], s["silenced"]) for s in doc["sites"]} == {
        "shop": ("Client A", None), "blog": ("", None), "docs": ("Client B", None)
    }

    code, out, _ = check(capsys, paths, "--json", "--group", "client b", "--config", str(plain))
    assert code == 0 and [s["name"] for s in json.loads(out)["sites"]] == ["docs"]
    code, _, err = check(capsys, paths, "--group", "Client C", "--config", str(plain))
    assert code == 3 and "no site is in the group 'Client C'" in err

    # shop in maintenance, blog snoozed: both still checked and shown, nobody paged.
    silenced = write_config(tmp_path / "silenced.toml", status.url, sites,
                            f'[[maintenance]]\nsites = ["shop"]\n{ALWAYS}\n')
    snooze_blog(paths)
    code, out, err = check(capsys, paths, "--json", "--config", str(silenced))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["exit_code"] == 0
    by_name = {s["name"]: s for s in doc["sites"]}
    assert (by_name["shop"]["state"], by_name["shop"]["silenced"]) == ("down", "maintenance")
    assert (by_name["blog"]["state"], by_name["blog"]["silenced"]) == ("down", "snooze")
    assert by_name["docs"]["silenced"] is None
    assert doc["summary"].startswith("LIFELINE OK - 1 of 1 sites operational; 2 silenced")
    code, out, _ = check(capsys, paths, "--config", str(silenced))
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("LIFELINE OK") and "shop: maintenance" in first
    assert "| sites=3;" in first  # perfdata still covers every site

    broken = write_config(tmp_path / "broken.toml", status.url, sites,
                          '[[maintenance]]\nsites = ["shop"]\nrrule = "FREQ=DAILY"\n'
                          'duration = "0m"\n')
    code, out, err = check(capsys, paths, "--config", str(broken))
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "maintenance[1].duration" in err


def test_the_summary_when_every_site_is_silenced() -> None:
    from app.commands.check import summary, unsilenced
    from app.models import (
        CheckReport,
        OverallState,
        PlatformState,
        PlatformStatus,
        PointOfFailure,
        ProbeKind,
        ProbeResult,
        SiteResult,
        SiteState,
    )
    from app.silence import Silence

    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    probe = ProbeResult(ProbeKind.ANONYMOUS, "https://a.test/", "https://a.test/", False,
                        status=502, detail="502 Bad Gateway")
    down = SiteResult("shop", "https://a.test/", "live", SiteState.DOWN, PointOfFailure.SITE,
                      "502", probe, probe)
    report = CheckReport(at, OverallState.DOWN, PointOfFailure.SITE,
                         PlatformStatus(PlatformState.OPERATIONAL), (down,))
    silences = {"shop": Silence("maintenance", at)}
    heard = unsilenced(report, silences)
    assert heard.overall is OverallState.OPERATIONAL and heard.sites == ()
    assert summary(report, heard, silences) == (
        "LIFELINE OK - every site silenced (shop: maintenance); platform operational"
    )
    assert summary(report, report, {}).startswith("LIFELINE CRITICAL - 1 of 1 sites down")
