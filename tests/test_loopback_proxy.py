"""Issue 12 defect 6: with HTTP(S)_PROXY set, traffic to this machine never goes through
the proxy, so a key for a local service never reaches it. The "proxy" is a real loopback
server that records what it receives. (Ticket routes and the JSON sender: test_routes.py.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.config import NewRelicConfig
from app.integrations.newrelic import fetch_findings
from tests.loopback import LoopbackServer, Reply
from tests.newrelic_fake import KEY, NerdGraphFake


@pytest.fixture
def proxy(make_server: Any, monkeypatch: pytest.MonkeyPatch) -> LoopbackServer:
    server: LoopbackServer = make_server()
    server.route("*", Reply(502, "proxy"))
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, server.url)
    return server


def test_new_relic_on_loopback_is_reached_directly(
    proxy: LoopbackServer, server: LoopbackServer
) -> None:
    fake = NerdGraphFake(server)
    settings = NewRelicConfig(account_id=fake.account, endpoint=fake.endpoint)
    findings = asyncio.run(fetch_findings(settings, "shop", KEY, deadline=3.0))
    assert findings.app == "shop"
    assert proxy.requests == []
    assert len(server.requests) == 1


def test_pantheon_import_on_loopback_is_reached_directly(
    proxy: LoopbackServer, server: LoopbackServer
) -> None:
    from app.integrations.pantheon import TerminusClient
    from tests.pantheon_fake import FakeSite, PantheonFake

    fake = PantheonFake(server, "mt-token", [FakeSite("shop")])
    listing = asyncio.run(TerminusClient(fake.api, "mt-token").list_sites())
    assert [s.name for s in listing.sites] == ["Shop"]
    assert proxy.requests == []  # neither the machine token nor the session went there
