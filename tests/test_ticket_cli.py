"""`lifeline ticket` and `lifeline outbox` end to end: real site, status page and ticket servers."""

from __future__ import annotations

import json
import logging
import os
import signal
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
    config: Path
    paths: Paths

    def write_config(self, *, ticket_api: str | None = None, environment: str = "live") -> None:
        api = self.tickets.url if ticket_api is None else ticket_api
        self.config.write_text(
            f"""
[provider]
status_page = "{self.status.url}"
ticket_api = "{api}"
ticket_timeout = 1
hotline = "1-866-415-7624"

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
    site, status, tickets = make_server(), make_server(), make_server()
    site.route("*", Reply(502, "<html><title>502 Bad Gateway</title></html>"))
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    tickets.route(
        "/tickets", Reply.json({"id": "T-1042", "url": "https://help.example/T-1042"}, 201)
    )
    w = World(site, status, tickets, tmp_path / "config.toml", paths)
    w.write_config()
    return w


def outbox_of(world: World) -> Outbox:
    return Outbox(world.paths.outbox_db)


def test_files_a_ticket_for_a_site_that_is_down(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = world.run("ticket", "--site", "shop", "--note", "Checkout shows a blank page")
    out, err = capsys.readouterr()

    assert code == 0, err
    assert "Filed emergency ticket T-1042 https://help.example/T-1042" in out
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
    assert (draft.state, draft.ticket_id) == (DraftState.FILED, "T-1042")
    assert request.headers["Idempotency-Key"] == draft.idempotency_key

    # No secret anywhere: the body, the output, the outbox, the logs.
    everything = [
        request.body.decode(),
        out,
        err,
        caplog.text,
        *(
            p.read_bytes().decode("utf-8", "replace")
            for p in world.paths.data_dir.rglob("*")
            if p.is_file()
        ),
    ]
    for text in everything:
        assert PLANTED_TOKEN not in text
        assert QUERY_SECRET not in text


def test_not_filed_prints_the_hotline_the_reason_and_the_draft(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.tickets.route("/tickets", Reply.json({"error": "down"}, 503))
    code = world.run("ticket", "--site", "shop")
    out, _ = capsys.readouterr()
    assert code == 2
    (draft,) = outbox_of(world).drafts()
    assert "NOT FILED: The ticket service answered 503." in out
    assert "1-866-415-7624" in out
    assert f"lifeline outbox send {draft.id}" in out
    assert "EMERGENCY: shop (live) down" in out  # the text to read out
    assert (draft.state, draft.attempts, draft.last_error) == (
        DraftState.DRAFT,
        1,
        "The ticket service answered 503",
    )


def test_json_output(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.write_config(ticket_api=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    code = world.run("ticket", "--site", "shop", "--json")
    data = json.loads(capsys.readouterr().out)
    assert code == 2
    assert data["filed"] is False and data["failure"] == "refused"
    assert data["hotline"] == "1-866-415-7624" and data["draft_id"] == 1
    assert data["ticket"]["site"] == "shop"
    assert data["seconds"] < 1.0
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
    assert world.tickets.requests == []


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


def test_no_ticket_api_falls_back_at_once(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.write_config(ticket_api="")
    assert world.run("ticket", "--site", "shop") == 2
    assert "ticket_api is empty" in capsys.readouterr().out
    assert outbox_of(world).drafts()[0].last_error.startswith("No ticket service is configured")


# --------------------------------------------------------------------------- outbox


def test_outbox_list_send_drop_handled(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.tickets.route("/tickets", Reply.json({}, 500))
    for _ in range(3):
        assert world.run("ticket", "--site", "shop") == 2
    capsys.readouterr()

    assert world.run("outbox") == 0
    listing = capsys.readouterr().out
    assert (
        listing.count("shop: not sent, 1 attempt; last error: The ticket service answered 500") == 3
    )

    assert world.run("outbox", "handled", "1") == 0
    assert world.run("outbox", "drop", "2") == 0
    assert world.run("outbox", "drop", "2") == 0  # dropping twice is harmless
    capsys.readouterr()

    world.tickets.route("/tickets", Reply.json({"id": "T-3"}, 201))
    assert world.run("outbox", "send") == 0
    assert "Draft 3 (shop): filed as T-3" in capsys.readouterr().out
    keys = [r.headers["Idempotency-Key"] for r in world.tickets.requests]
    assert keys[-1] == keys[2]  # draft 3's first attempt and its retry share the key

    assert world.run("outbox", "send") == 0  # nothing left: nothing sent
    assert len(world.tickets.requests) == 4
    assert world.run("outbox", "send", "1") == 2  # filed by phone: never sent
    assert len(world.tickets.requests) == 4
    assert world.run("outbox", "drop", "3") == 3  # a filed ticket cannot be dropped
    assert "already filed" in capsys.readouterr().err

    assert world.run("outbox", "list", "--json") == 0
    capsys.readouterr()
    assert world.run("outbox", "--json") == 0
    states = [d["state"] for d in json.loads(capsys.readouterr().out)]
    assert states == ["handled_by_phone", "dropped", "filed"]


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


# --------------------------------------------------------------------------- crash


def test_a_killed_sender_loses_nothing_and_the_retry_goes_out_once(world: World) -> None:
    """Kill `lifeline ticket` while it waits on the ticket service; the draft survives."""
    world.tickets.route("/tickets", Hang())
    world.config.write_text(
        world.config.read_text().replace("ticket_timeout = 1", "ticket_timeout = 60")
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "ticket", "--site", "shop", "--config", str(world.config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_for(lambda: len(world.tickets.requests) == 1, timeout=15), proc.stderr
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    (draft,) = Outbox(world.paths.outbox_db).drafts()
    assert draft.state is DraftState.SENDING and draft.attempts == 1
    first_key = world.tickets.requests[0].headers["Idempotency-Key"]
    assert first_key == draft.idempotency_key

    world.tickets.route("/tickets", Reply.json({"id": "T-77"}, 201))
    world.config.write_text(
        world.config.read_text().replace("ticket_timeout = 60", "ticket_timeout = 2")
    )
    assert world.run("outbox", "send") == 0
    assert world.run("outbox", "send") == 0
    keys = [r.headers["Idempotency-Key"] for r in world.tickets.requests]
    assert keys == [first_key, first_key]
    after = Outbox(world.paths.outbox_db).get(draft.id)
    assert (after.state, after.ticket_id, after.attempts) == (DraftState.FILED, "T-77", 2)


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
    assert body["subject"].endswith(f"since {began:%H:%M} UTC")


def test_a_corrupt_outbox_does_not_stop_the_ticket(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.paths.data_dir.mkdir(parents=True, exist_ok=True)
    world.paths.outbox_db.write_bytes(b"garbage" * 500)
    assert world.run("ticket", "--site", "shop") == 0
    out, err = capsys.readouterr()
    assert "Filed emergency ticket T-1042" in out
    assert "cannot be used (file is not a database); sending without a saved draft" in err
    assert len(world.tickets.requests) == 1
    world.tickets.route("/tickets", Reply.json({}, 503))
    assert world.run("ticket", "--site", "shop") == 2
    assert "could NOT be saved in the outbox" in capsys.readouterr().out
    assert world.run("outbox") == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be used" in err and "Traceback" not in err
