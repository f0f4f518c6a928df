"""`lifeline ticket` and `lifeline outbox` end to end: real site, status page and ticket servers."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.paths import Paths
from app.tickets.outbox import DraftState, Outbox
from tests.conftest import summary_payload
from tests.loopback import Hang, LoopbackServer, Reply, free_port, wait_for
from tests.ticket_samples import PLANTED_TOKEN

ROOT = Path(__file__).resolve().parents[1]
QUERY_SECRET = "qs9d8c7b6a5f4e3d2c1b"


@dataclass
class World:
    site: LoopbackServer
    status: LoopbackServer
    tickets: LoopbackServer
    dashboard: LoopbackServer
    config: Path
    paths: Paths

    def write_config(
        self,
        *,
        ticket_api: str | None = None,
        environment: str = "live",
        tier: str = "platinum",
        timeout: float = 1,
    ) -> None:
        api = self.tickets.url if ticket_api is None else ticket_api
        self.config.write_text(
            f"""
[provider]
status_page = "{self.status.url}"
ticket_api = "{api}"
ticket_timeout = {timeout:g}
hotline = "1-866-415-7624"
support_tier = "{tier}"
support_url = "{self.dashboard.url}/#support"

[monitor]
timeout = 2
retries = 0

[contact]
name = "Ada Owner"
email = "ada@example.com"

[[site]]
name = "shop"
url = "{self.site.url}/?key={QUERY_SECRET}"
environment = "{environment}"
""",
            encoding="utf-8",
        )

    def run(self, *argv: str) -> int:
        return main([*argv, "--config", str(self.config)], paths=self.paths)


@pytest.fixture
def world(make_server: Any, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", PLANTED_TOKEN)
    site, status, tickets, dashboard = (make_server() for _ in range(4))
    site.route("*", Reply(502, "<html><title>502 Bad Gateway</title></html>"))
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    tickets.route(
        "/tickets", Reply.json({"id": "T-1042", "url": "https://help.example/T-1042"}, 201)
    )
    # The real dashboard sends a visitor without a session to its login page.
    dashboard.route("*", Reply(302, "", {"Location": "/login"}))
    w = World(site, status, tickets, dashboard, tmp_path / "config.toml", paths)
    w.write_config()
    return w


def outbox_of(world: World) -> Outbox:
    return Outbox(world.paths.outbox_db)


def dashboard_outage() -> dict[str, Any]:
    """The real summary.json with a "Dashboard" component in major outage."""
    data = summary_payload()
    component = dict(data["components"][0])
    component.update(id="dash0001", name="Dashboard", status="major_outage")
    data["components"] = [*data["components"], component]
    return data


def everything_written(world: World, *texts: str) -> list[str]:
    return [
        *texts,
        *(r.body.decode("utf-8", "replace") for r in world.tickets.requests),
        *(
            p.read_bytes().decode("utf-8", "replace")
            for p in world.paths.data_dir.rglob("*")
            if p.is_file()
        ),
    ]


def test_files_through_the_dashboard_and_the_api(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = world.run("ticket", "--site", "shop", "--note", "Checkout shows a blank page")
    out, err = capsys.readouterr()

    assert code == 0, err
    assert "api: filed as T-1042 https://help.example/T-1042" in out
    assert f"dashboard: handed to the dashboard, {world.dashboard.url}/#support" in out
    assert "Diamond or Platinum: open an emergency on-call ticket and paste the text." in out
    assert "Gold:" not in out and "Call the emergency line" not in out
    assert "EMERGENCY: shop (live) down" in out  # the text to paste
    (request,) = world.tickets.requests
    body = request.json()
    assert body["site"] == "shop" and body["environment"] == "live" and body["impact"] == "down"
    assert body["subject"].startswith("EMERGENCY: shop (live) down: 502 Bad Gateway")
    assert "Note from the site owner: Checkout shows a blank page" in body["description"]
    assert body["contact"] == {"name": "Ada Owner", "email": "ada@example.com", "phone": ""}
    check = body["diagnostics"]["check"]
    assert check["anonymous"]["status"] == 502 and check["backend"]["status"] == 502
    assert body["diagnostics"]["platform"]["state"] == "operational"
    (draft,) = outbox_of(world).drafts()
    assert draft.state is DraftState.HANDED  # until the user says they filed it
    assert [(r.name, r.outcome.value, r.ticket_id) for r in draft.routes] == [
        ("dashboard", "dashboard", ""),
        ("api", "filed", "T-1042"),
    ]
    assert request.headers["Idempotency-Key"] == draft.idempotency_key
    assert [r.method for r in world.dashboard.requests] == ["GET"]

    for text in everything_written(world, out, err, caplog.text):
        assert PLANTED_TOKEN not in text
        assert QUERY_SECRET not in text


def test_the_default_config_hands_the_ticket_to_the_dashboard(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pantheon has no ticket API: the first press never says "not configured"."""
    world.write_config(ticket_api="", tier="unknown")
    assert world.run("ticket", "--site", "shop") == 0
    out = capsys.readouterr().out
    assert "not configured" not in out and "NOT FILED" not in out
    assert "dashboard: handed to the dashboard" in out
    for step in ("emergency on-call ticket", "support ticket", "start a chat"):
        assert step in out  # the tier is unknown: all three
    assert "lifeline outbox filed 1" in out
    (draft,) = outbox_of(world).drafts()
    assert draft.state is DraftState.HANDED and outbox_of(world).pending() == []
    assert world.run("outbox", "filed", "1") == 0
    assert outbox_of(world).get(1).state is DraftState.FILED_BY_USER


@pytest.mark.parametrize("how", ["refused", "503", "status page", "hangs"])
def test_an_unreachable_dashboard_gives_the_hotline(
    world: World, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    if how == "refused":
        world.dashboard.close()
    elif how == "503":
        world.dashboard.route("*", Reply(503, "busy"))
    elif how == "status page":
        world.status.route("/api/v2/summary.json", Reply.json(dashboard_outage()))
    else:
        world.dashboard.route("*", Hang())
    world.write_config(ticket_api="", timeout=1)
    code = world.run("ticket", "--site", "shop", "--json")
    data = json.loads(capsys.readouterr().out)
    assert code == 2
    (route,) = data["routes"]
    assert (route["name"], route["kind"], route["outcome"]) == ("dashboard", "dashboard", "hotline")
    expected = {
        "refused": "The dashboard refused the connection",
        "503": "The dashboard answered 503",
        "status page": "The status page reports Dashboard: major outage",
        "hangs": "The dashboard did not answer within 1 s",
    }[how]
    assert route["reason"] == expected
    assert data["reached"] is False and data["hotline"] == "1-866-415-7624"
    assert data["text"].startswith("EMERGENCY: shop (live) down")
    (draft,) = outbox_of(world).drafts()
    assert draft.state is DraftState.DRAFT and outbox_of(world).pending() == [draft]


def test_the_hotline_text_output(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.dashboard.route("*", Reply(502, "bad gateway"))
    world.tickets.route("/tickets", Reply.json({"error": "down"}, 503))
    assert world.run("ticket", "--site", "shop") == 2
    out = capsys.readouterr().out
    assert "api: NOT FILED: The ticket service answered 503" in out
    assert "dashboard: unreachable (The dashboard answered 502); call the hotline" in out
    assert "Call the emergency line now: 1-866-415-7624" in out
    assert "lifeline outbox send 1" in out and "lifeline outbox handled 1" in out
    assert "EMERGENCY: shop (live) down" in out


def test_json_shape_and_partial_exit(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.write_config(ticket_api=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    code = world.run("ticket", "--site", "shop", "--json")
    data = json.loads(capsys.readouterr().out)
    assert code == 1  # the dashboard took it, the API did not
    assert set(data) >= {"draft_id", "reached", "routes", "hotline", "support_tier", "text"}
    assert data["draft_id"] == 1 and data["reached"] is True
    assert data["support_tier"] == "platinum" and data["hotline"] == "1-866-415-7624"
    assert [(r["name"], r["kind"], r["outcome"]) for r in data["routes"]] == [
        ("dashboard", "dashboard", "dashboard"),
        ("api", "api", "failed"),
    ]
    assert data["routes"][0]["url"] == f"{world.dashboard.url}/#support"
    assert data["routes"][1]["reason"] == "The ticket service refused the connection"
    assert data["routes"][1]["id"] is None
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--site", "nosuch"), "no site named 'nosuch'"),
    ],
)
def test_unknown_site(
    world: World, capsys: pytest.CaptureFixture[str], argv: Any, message: str
) -> None:
    assert world.run("ticket", *argv) == 3
    assert message in capsys.readouterr().err
    assert world.site.requests == [] and world.tickets.requests == []


def test_non_live_is_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.write_config(environment="dev")
    assert world.run("ticket", "--site", "shop") == 3
    assert "Live environment only" in capsys.readouterr().err
    assert world.tickets.requests == [] and world.dashboard.requests == []


def test_config_error(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.config.write_text("[provider]\nticket_timeout = -1\n")
    assert world.run("ticket", "--site", "shop") == 3
    assert "ticket_timeout" in capsys.readouterr().err


def test_operational_site_needs_force(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.site.route("*", Reply(200, "<html><title>Shop</title></html>"))
    assert world.run("ticket", "--site", "shop") == 3
    err = capsys.readouterr().err
    assert "Emergency tickets are for downtime or significant functional failure on Live" in err
    assert "--force" in err
    assert world.tickets.requests == [] and not world.paths.outbox_db.exists()

    assert world.run("ticket", "--site", "SHOP", "--force", "--note", "checkout broken") == 0
    body = world.tickets.requests[0].json()
    assert body["impact"] == "operational"
    assert "functional failure" in body["subject"]


# --------------------------------------------------------------------------- outbox


def test_outbox_list_send_drop_handled(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.tickets.route("/tickets", Reply.json({}, 500))
    for _ in range(3):
        assert world.run("ticket", "--site", "shop") == 1  # the dashboard took each
    capsys.readouterr()
    assert len(world.dashboard.requests) == 3

    assert world.run("outbox") == 0
    listing = capsys.readouterr().out
    assert listing.count("- api: failed: The ticket service answered 500") == 3
    assert listing.count("- dashboard: handed to the dashboard") == 3

    assert world.run("outbox", "handled", "1") == 0
    assert world.run("outbox", "drop", "2") == 0
    assert world.run("outbox", "drop", "2") == 0  # dropping twice is harmless
    capsys.readouterr()

    world.tickets.route("/tickets", Reply.json({"id": "T-3"}, 201))
    assert world.run("outbox", "send") == 0
    assert "api: filed as T-3" in capsys.readouterr().out
    keys = [r.headers["Idempotency-Key"] for r in world.tickets.requests]
    assert keys[-1] == keys[2]  # draft 3's first attempt and its retry share the key
    assert len(world.dashboard.requests) == 3  # the dashboard route was not run again

    assert world.run("outbox", "send") == 0  # nothing left: nothing sent
    assert len(world.tickets.requests) == 4
    assert world.run("outbox", "send", "1") == 2  # filed by phone: never sent
    assert len(world.tickets.requests) == 4
    assert world.run("outbox", "drop", "3") == 0  # handed, not filed by the user yet
    assert world.run("outbox", "drop", "3") == 0
    capsys.readouterr()

    assert world.run("outbox", "list", "--json") == 0
    drafts = json.loads(capsys.readouterr().out)
    assert [d["state"] for d in drafts] == ["handled_by_phone", "dropped", "dropped"]
    assert [(r["name"], r["outcome"], r["id"]) for r in drafts[2]["routes"]] == [
        ("dashboard", "dashboard", None),
        ("api", "filed", "T-3"),
    ]
    assert drafts[2]["routes"][1]["attempts"] == 2


def test_outbox_usage_errors(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert world.run("outbox", "drop") == 3
    assert world.run("outbox", "handled", "x") == 3
    assert world.run("outbox", "drop", "9") == 3
    err = capsys.readouterr().err
    assert (
        "needs a draft id" in err and "'x' is not a draft id" in err and "no draft with id 9" in err
    )
    assert world.run("outbox") == 0
    assert "The outbox is empty." in capsys.readouterr().out


# --------------------------------------------------------------------------- crash, races


def _send_process(world: World, *argv: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "app", *argv, "--config", str(world.config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_killed_sender_loses_nothing_and_the_retry_goes_out_once(world: World) -> None:
    """Kill `lifeline ticket` while it waits on the ticket service; the draft survives,
    held until its lease runs out; then one retry with the same key."""
    world.tickets.route("/tickets", Hang())
    world.write_config(timeout=60)
    proc = _send_process(world, "ticket", "--site", "shop")
    try:
        assert wait_for(lambda: len(world.tickets.requests) == 1, timeout=15)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert proc.returncode == -signal.SIGKILL

    (draft,) = Outbox(world.paths.outbox_db).drafts()
    assert draft.state is DraftState.SENDING and draft.attempts == 1
    first_key = world.tickets.requests[0].headers["Idempotency-Key"]
    assert first_key == draft.idempotency_key

    world.tickets.route("/tickets", Reply.json({"id": "T-77"}, 201))
    world.write_config(timeout=2)
    assert world.run("outbox", "send") == 0  # the dead sender's lease still holds it
    assert len(world.tickets.requests) == 1
    # The lease runs out (ticket_timeout + slack after the claim): moved back in time.
    with sqlite3.connect(world.paths.outbox_db) as db:
        db.execute("UPDATE drafts SET lease_until = lease_until - 3600")
    assert world.run("outbox", "send") == 0
    assert world.run("outbox", "send") == 0
    keys = [r.headers["Idempotency-Key"] for r in world.tickets.requests]
    assert keys == [first_key, first_key]
    after = Outbox(world.paths.outbox_db).get(draft.id)
    assert (after.state, after.ticket_id, after.attempts) == (DraftState.HANDED, "T-77", 2)


def test_two_concurrent_outbox_sends_post_once(world: World) -> None:
    """Issue 12 defect 2: the claim is a lease, so two `outbox send` never both send."""
    world.tickets.route("/tickets", Reply.json({}, 500))
    world.write_config(timeout=5)
    assert world.run("ticket", "--site", "shop") == 1
    assert len(world.tickets.requests) == 1
    world.tickets.route("/tickets", Reply(201, '{"id": "T-9"}', delay=1.5))
    procs = [_send_process(world, "outbox", "send") for _ in range(2)]
    outputs = [p.communicate(timeout=30) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert len(world.tickets.requests) == 2  # the first attempt, and exactly one retry
    said = b"".join(out for out, _ in outputs).decode()
    assert said.count("api: filed as T-9") == 1
    assert Outbox(world.paths.outbox_db).get(1).route("api").ticket_id == "T-9"  # type: ignore[union-attr]


def test_history_gives_the_start_and_the_recent_transitions(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime, timedelta

    from app.events import SiteStateChanged
    from app.history import History
    from app.models import PointOfFailure, SiteState

    now = datetime.now(UTC).replace(microsecond=0)
    began = now - timedelta(minutes=7)
    with History(world.paths.history_db) as history:
        for at, previous, state in (
            (now - timedelta(hours=3), SiteState.OPERATIONAL, SiteState.DOWN),
            (now - timedelta(hours=2), SiteState.DOWN, SiteState.OPERATIONAL),
            (began, SiteState.OPERATIONAL, SiteState.DOWN),
        ):
            history.record(
                SiteStateChanged(
                    at=at,
                    site="shop",
                    previous=previous,
                    state=state,
                    point_of_failure=PointOfFailure.SITE,
                    reason=f"now {state.value}",
                )
            )
    assert world.run("ticket", "--site", "shop") == 0
    body = world.tickets.requests[0].json()
    assert [(h["from"], h["to"]) for h in body["diagnostics"]["history"]] == [
        ("operational", "down"),
        ("down", "operational"),
        ("operational", "down"),
    ]
    assert body["started_at"] == began.strftime("%Y-%m-%dT%H:%M:%SZ")
    # "since 08:01 UTC", or "since Nov 27 23:54 UTC" when midnight fell in between.
    assert " since " in body["subject"] and body["subject"].endswith(f"{began:%H:%M} UTC")


def test_a_corrupt_outbox_does_not_stop_the_ticket(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.paths.data_dir.mkdir(parents=True, exist_ok=True)
    world.paths.outbox_db.write_bytes(b"garbage" * 500)
    assert world.run("ticket", "--site", "shop") == 0
    out, err = capsys.readouterr()
    assert "api: filed as T-1042" in out
    assert "cannot be used (file is not a database); sent without a saved draft" in err
    assert len(world.tickets.requests) == 1
    world.tickets.route("/tickets", Reply.json({}, 503))
    world.dashboard.route("*", Reply(503, ""))
    assert world.run("ticket", "--site", "shop") == 2
    assert "could NOT be saved in the outbox" in capsys.readouterr().out
    assert world.run("outbox") == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be used" in err and "Traceback" not in err


def test_every_route_once_a_resend_reaches_only_the_failed_one_and_no_secret_leaks(
    world: World,
    make_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.route_fakes import OpsgenieFake, PagerDutyFake, SlackFake, ZendeskFake
    from tests.test_routes import API_TOKEN, GENIE_KEY, PD_KEY, SLACK_SECRET_PATH, ZENDESK_TOKEN

    caplog.set_level(logging.DEBUG)
    pagerduty = PagerDutyFake(make_server(), PD_KEY)
    opsgenie = OpsgenieFake(make_server(), GENIE_KEY)
    zendesk = ZendeskFake(make_server(), "oncall@agency.example", ZENDESK_TOKEN)
    slack = SlackFake(make_server(), path=SLACK_SECRET_PATH)
    for name, secret in (
        ("ON_CALL", PD_KEY), ("GENIE", GENIE_KEY), ("HELPDESK", ZENDESK_TOKEN),
        ("CHAT", slack.url), ("API", API_TOKEN),
    ):
        monkeypatch.setenv(f"LIFELINE_ROUTE_{name}", secret)
    world.write_config(ticket_api="", timeout=3)
    world.config.write_text(
        world.config.read_text()
        + f"""
[[route]]
name = "pantheon"
kind = "dashboard"

[[route]]
name = "on-call"
kind = "pagerduty"
endpoint = "{pagerduty.endpoint}"

[[route]]
name = "genie"
kind = "opsgenie"
endpoint = "{opsgenie.endpoint}"

[[route]]
name = "helpdesk"
kind = "zendesk"
endpoint = "{zendesk.endpoint}"
email = "oncall@agency.example"

[[route]]
name = "chat"
kind = "webhook"

[[route]]
name = "api"
kind = "api"
endpoint = "{world.tickets.url}"
""",
        encoding="utf-8",
    )
    opsgenie.behaviour = Reply.json({"message": "busy", "took": 0.0, "requestId": "r"}, 503)
    assert world.run("ticket", "--site", "shop", "--json") == 1
    first = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["outcome"]) for r in first["routes"]] == [
        ("pantheon", "dashboard"),
        ("on-call", "filed"),
        ("genie", "failed"),
        ("helpdesk", "filed"),
        ("chat", "filed"),
        ("api", "filed"),
    ]
    servers = [pagerduty.server, opsgenie.server, zendesk.server, slack.server, world.tickets]
    assert [len(s.requests) for s in servers] == [1, 1, 1, 1, 1]  # one request per route

    opsgenie.behaviour = None
    assert world.run("outbox", "send") == 0
    assert [len(s.requests) for s in servers] == [1, 2, 1, 1, 1]  # only the failed route
    (draft,) = outbox_of(world).drafts()
    assert opsgenie.server.requests[-1].json()["alias"] == draft.idempotency_key
    assert pagerduty.events[0]["dedup_key"] == draft.idempotency_key
    assert world.run("outbox", "list", "--json") == 0
    assert world.run("outbox", "send") == 0  # nothing left to send
    assert [len(s.requests) for s in servers] == [1, 2, 1, 1, 1]
    out, err = capsys.readouterr()
    for text in everything_written(world, json.dumps(first), out, err, caplog.text):
        for secret in (PD_KEY, GENIE_KEY, ZENDESK_TOKEN, SLACK_SECRET_PATH, API_TOKEN):
            assert secret not in text


def test_open_opens_the_support_page_in_the_browser(world: World, tmp_path: Path) -> None:
    """--open hands the page to the desktop's browser ($BROWSER here records it)."""
    opened = tmp_path / "opened.txt"
    recorder = tmp_path / "browser.py"
    recorder.write_text(
        f"import sys\nopen({str(opened)!r}, 'w').write(sys.argv[1])\n", encoding="utf-8"
    )
    world.write_config(ticket_api="")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BROWSER": f"{sys.executable} {recorder} %s"}
    done = subprocess.run(
        [sys.executable, "-m", "app", "ticket", "--site", "shop", "--open",
         "--config", str(world.config)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert wait_for(opened.exists, timeout=10)
    assert opened.read_text() == f"{world.dashboard.url}/#support"


def test_a_locked_outbox_delays_the_ticket_two_seconds_not_ten(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process holds the outbox's write lock: the ticket goes out unsaved."""
    Outbox(world.paths.outbox_db).drafts()  # the file exists, in today's format
    holder = sqlite3.connect(world.paths.outbox_db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        code = world.run("ticket", "--site", "shop", "--json")
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert code == 0 and data["saved"] is False and data["draft_id"] is None
    assert "database is locked" in err and "sent without a saved draft" in err
    assert len(world.tickets.requests) == 1
    assert 2.0 <= elapsed < 2.0 + 3.0  # the busy wait, then the routes; SQLite's 10 s before
