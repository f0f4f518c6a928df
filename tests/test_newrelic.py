"""New Relic findings through a loopback fake of NerdGraph: ok, errors, hang, bad key."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.config import Config, NewRelicConfig, SiteConfig
from app.credentials import NEWRELIC_KEY, CredentialStore
from app.integrations.newrelic import (
    Findings,
    NewRelicError,
    errors_query,
    fetch_findings,
    findings_lines,
    nrql_string,
    slowest_query,
    ticket_findings,
)
from app.paths import Paths
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply, free_port
from tests.newrelic_fake import KEY, NerdGraphFake

SITE = SiteConfig(name="Shop", url="https://shop.example.com/", newrelic_app="Shop (live)")


def settings(fake: NerdGraphFake) -> NewRelicConfig:
    return NewRelicConfig(account_id=fake.account, endpoint=fake.endpoint)


def fetch(fake: NerdGraphFake, *, key: str = KEY, deadline: float = 3.0) -> Findings:
    return asyncio.run(fetch_findings(settings(fake), "Shop (live)", key, deadline=deadline))


def findings_for(
    config: Config, paths: Paths, site: SiteConfig = SITE, deadline: float = 3.0
) -> dict[str, object]:
    store = CredentialStore(plaintext_path=paths.plaintext_secrets)
    return asyncio.run(ticket_findings(config, site, store, deadline=deadline))


def test_slowest_transactions_and_error_rate(server: LoopbackServer) -> None:
    fake = NerdGraphFake(server)
    found = fetch(fake)
    assert [t.name for t in found.slowest] == [
        "WebTransaction/Action/cart",
        "WebTransaction/Action/node",
        "WebTransaction/Uri/cron.php",
    ]
    cart = found.slowest[0]
    assert (cart.average_s, cart.p95_s, cart.count) == (6.5, 12.25, 31)
    assert found.error_rate_percent == 3.5 and found.requests == 420


def test_request_shape(server: LoopbackServer) -> None:
    fake = NerdGraphFake(server)
    fetch(fake)
    request = server.requests[0]
    assert request.method == "POST" and request.path == "/graphql"
    assert request.headers["API-Key"] == KEY
    body = request.json()
    assert "actor" in body["query"] and "account(id: $account)" in body["query"]
    assert "nrql(query: $slowest) { results }" in body["query"]
    variables = body["variables"]
    assert variables["account"] == fake.account
    assert "FROM Transaction WHERE appName = 'Shop (live)' SINCE 30 minutes ago" in (
        variables["slowest"]
    )
    assert "percentile(duration, 95)" in variables["slowest"] and "LIMIT 5" in variables["slowest"]
    assert "WHERE error IS true" in variables["errors"]
    assert KEY not in request.path


def test_top_five_only(server: LoopbackServer) -> None:
    fake = NerdGraphFake(server)
    fake.slow_rows = [
        {"name": f"T{n}", "average.duration": float(n), "percentile.duration": {"95": n * 2.0},
         "count": n}
        for n in range(1, 9)
    ]
    assert [t.name for t in fetch(fake).slowest] == ["T8", "T7", "T6", "T5", "T4"]


def test_nerdgraph_errors_array_is_one_line(server: LoopbackServer) -> None:
    fake = NerdGraphFake(server, mode="errors")
    with pytest.raises(NewRelicError) as info:
        fetch(fake)
    assert str(info.value) == "New Relic: Account not found or you do not have access."


def test_rejected_key(server: LoopbackServer) -> None:
    fake = NerdGraphFake(server)
    wrong = "NRAK-WRONGWRONGWRONG12345"
    with pytest.raises(NewRelicError) as info:
        fetch(fake, key=wrong)
    assert "rejected the API key (HTTP 401)" in str(info.value)
    assert wrong not in str(info.value)


@pytest.mark.parametrize("mode", ["hang", "drip"])
def test_hanging_endpoint_gives_up_at_the_deadline(server: LoopbackServer, mode: str) -> None:
    fake = NerdGraphFake(server, mode=mode)
    started = time.monotonic()
    with pytest.raises(NewRelicError) as info:
        fetch(fake, deadline=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert "did not answer within 0.5 s" in str(info.value)


@pytest.mark.parametrize(
    ("mode", "phrase"), [("garbage", "not JSON"), ("http500", "not JSON")]
)
def test_unreadable_answers(server: LoopbackServer, mode: str, phrase: str) -> None:
    fake = NerdGraphFake(server, mode=mode)
    with pytest.raises(NewRelicError) as info:
        fetch(fake)
    assert phrase in str(info.value)


def test_refused() -> None:
    cfg = NewRelicConfig(account_id=1, endpoint=f"http://127.0.0.1:{free_port()}/graphql")
    with pytest.raises(NewRelicError) as info:
        asyncio.run(fetch_findings(cfg, "app", KEY))
    assert str(info.value) == "cannot reach New Relic at 127.0.0.1 (connection refused)"


def test_nrql_string_escapes_quotes() -> None:
    assert nrql_string("Bob's \\ app") == "'Bob\\'s \\\\ app'"
    assert "appName = 'it\\'s'" in slowest_query("it's")
    assert "appName = 'it\\'s'" in errors_query("it's")


# --------------------------------------------------------------------------- for tickets


def test_ticket_findings_ok(
    server: LoopbackServer, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = NerdGraphFake(server)
    monkeypatch.setenv("LIFELINE_NEWRELIC_KEY", KEY)
    found = findings_for(Config(newrelic=settings(fake), sites=(SITE,)), paths)
    assert found["app"] == "Shop (live)" and found["window"] == "last 30 minutes"
    rows = found["slowest_transactions"]
    assert isinstance(rows, list) and rows[0] == {
        "name": "WebTransaction/Action/cart", "average_s": 6.5, "p95_s": 12.25, "count": 31
    }
    text = "\n".join(findings_lines(found))
    assert "error rate 3.5% of 420 requests" in text
    assert "WebTransaction/Action/cart: 6.50 s / 12.25 s, 31" in text


def test_ticket_findings_key_from_the_keyring(server: LoopbackServer, paths: Paths) -> None:
    fake = NerdGraphFake(server)
    CredentialStore(plaintext_path=paths.plaintext_secrets).set(NEWRELIC_KEY, KEY)
    found = findings_for(Config(newrelic=settings(fake)), paths)
    assert "error" not in found


def test_ticket_findings_hang_returns_error_within_deadline(
    server: LoopbackServer, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = NerdGraphFake(server, mode="hang")
    monkeypatch.setenv("LIFELINE_NEWRELIC_KEY", KEY)
    started = time.monotonic()
    found = findings_for(Config(newrelic=settings(fake)), paths, deadline=0.6)
    assert time.monotonic() - started < 1.5
    assert found == {"error": "New Relic did not answer within 0.6 s"}


def test_ticket_findings_explains_what_is_missing(
    server: LoopbackServer, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = NerdGraphFake(server)
    config = Config(newrelic=settings(fake))
    no_app = SiteConfig(name="Blog", url="https://blog.example.com/")
    assert findings_for(config, paths, no_app) == {
        "error": "no New Relic app is set for Blog (newrelic_app)"
    }
    assert findings_for(Config(), paths) == {
        "error": "no New Relic account_id in the [newrelic] settings"
    }
    assert findings_for(config, paths) == {
        "error": "no New Relic API key (save one in Settings or set LIFELINE_NEWRELIC_KEY)"
    }
    monkeypatch.setenv("LIFELINE_NEWRELIC_KEY", "NRAK-NOTTHERIGHTONE1234")
    found = findings_for(config, paths)
    assert "rejected the API key" in str(found["error"])
    assert "NOTTHERIGHTONE" not in str(found)
    assert server.requests  # it did ask


def test_findings_lines_for_an_error() -> None:
    assert findings_lines({"error": "no key"}) == ["New Relic: not available (no key)"]


# --------------------------------------------------------------------------- lifeline ticket


def ticket_world(
    make_server: Any, tmp_path: Path, fake: NerdGraphFake, *, newrelic_app: str = "Shop (live)"
) -> tuple[Path, LoopbackServer]:
    site, status, tickets = make_server(), make_server(), make_server()
    site.route(
        "*", Reply(503, "<html><title>503 Database not Responding</title></html>")
    )
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    tickets.route("/tickets", Reply.json({"id": "T-7", "url": "https://help.example/T-7"}, 201))
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[provider]
status_page = "{status.url}"
ticket_api = "{tickets.url}"
ticket_timeout = 2
support_url = "{tickets.url}/#support"

[monitor]
timeout = 2
retries = 0

[newrelic]
account_id = {fake.account}
endpoint = "{fake.endpoint}"

[[site]]
name = "shop"
url = "{site.url}/"
newrelic_app = "{newrelic_app}"
""",
        encoding="utf-8",
    )
    return config, tickets


def filed_ticket(tickets: LoopbackServer) -> dict[str, Any]:
    posts = [r for r in tickets.requests if r.method == "POST"]
    assert len(posts) == 1
    body: dict[str, Any] = posts[0].json()
    return body


def test_ticket_carries_the_slowest_transactions(
    make_server: Any, server: LoopbackServer, tmp_path: Path, paths: Paths,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", "tt-0123456789abcdef")
    monkeypatch.setenv("LIFELINE_NEWRELIC_KEY", KEY)
    fake = NerdGraphFake(server)
    config, tickets = ticket_world(make_server, tmp_path, fake)
    assert main(["ticket", "--site", "shop", "--config", str(config)], paths=paths) == 0
    body = filed_ticket(tickets)
    newrelic = body["diagnostics"]["newrelic"]
    assert newrelic["app"] == "Shop (live)"
    assert newrelic["slowest_transactions"][0]["name"] == "WebTransaction/Action/cart"
    assert newrelic["error_rate_percent"] == 3.5
    # The reason names Pantheon's page and what it means.
    assert "503 Database not Responding: the site's MySQL database did not answer" in (
        body["description"]
    )
    assert KEY not in json.dumps(body) and KEY not in "".join(capsys.readouterr())


def test_ticket_goes_out_when_new_relic_hangs(
    make_server: Any, server: LoopbackServer, tmp_path: Path, paths: Paths,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", "tt-0123456789abcdef")
    monkeypatch.setenv("LIFELINE_NEWRELIC_KEY", KEY)
    fake = NerdGraphFake(server, mode="hang")
    config, tickets = ticket_world(make_server, tmp_path, fake)
    started = time.monotonic()
    assert main(["ticket", "--site", "shop", "--config", str(config)], paths=paths) == 0
    elapsed = time.monotonic() - started
    assert elapsed < 3.0 + 2.5  # New Relic's deadline, plus a check and a send on loopback
    assert filed_ticket(tickets)["diagnostics"]["newrelic"] == {
        "error": "New Relic did not answer within 3 s"
    }


def test_ticket_without_newrelic_app_has_no_newrelic_entry(
    make_server: Any, server: LoopbackServer, tmp_path: Path, paths: Paths,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", "tt-0123456789abcdef")
    fake = NerdGraphFake(server)
    config, tickets = ticket_world(make_server, tmp_path, fake, newrelic_app="")
    assert main(["ticket", "--site", "shop", "--config", str(config)], paths=paths) == 0
    assert "newrelic" not in filed_ticket(tickets)["diagnostics"]
    assert fake.seen == []


# --------------------------------------------------------------------------- the form's refresh


def test_ticket_form_refresh_carries_findings_and_survives_a_hang(
    make_server: Any, server: LoopbackServer, tmp_path: Path, paths: Paths,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from app.config import load_config
    from app.tickets.outbox import Outbox
    from app.tickets.session import TicketSession

    monkeypatch.setenv("LIFELINE_NEWRELIC_KEY", KEY)
    fake = NerdGraphFake(server)
    config_path, _ = ticket_world(make_server, tmp_path, fake)
    config = load_config(config_path)
    session = TicketSession(
        config,
        config.sites[0],
        outbox=Outbox(paths.outbox_db),
        history_path=paths.history_db,
        credentials=CredentialStore(plaintext_path=paths.plaintext_secrets),
    )
    refreshed = asyncio.run(session.collect())
    assert refreshed.diagnostics["newrelic"]["slowest_transactions"][0]["count"] == 31
    assert "check" in refreshed.diagnostics  # the rest of the block is still there

    fake.mode = "hang"
    started = time.monotonic()
    refreshed = asyncio.run(session.collect())
    assert time.monotonic() - started < 3.0 + 2.0
    assert refreshed.diagnostics["newrelic"] == {"error": "New Relic did not answer within 3 s"}
