"""The probes' transport (aiohttp, issue 17): what tests/test_probes.py does not already pin.

Proxies come from the environment as for the app's other HTTP (aiohttp's own trust_env is
off, since it would also send ~/.netrc credentials); each probe reports the certificate of
its own connections, also when many run at once; repeated header fields count as one.
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime
from typing import Any

import pytest
from multidict import CIMultiDict

from app.models import CacheVerdict, ErrorKind, ProbeKind, ProbeResult
from app.probes import ProbeClients, ProbeOptions, cache_evidence, cache_verdict, probe
from tests.loopback import LoopbackServer, Reply

FAST = ProbeOptions(timeout=2.0, retries=0)
ANON = ProbeKind.ANONYMOUS
# A name that never resolves: only a proxy can answer for it.
NOWHERE = "http://lifeline-proxy-test.invalid/page"


@pytest.fixture
def proxy(make_server: Any, monkeypatch: pytest.MonkeyPatch) -> LoopbackServer:
    server: LoopbackServer = make_server()
    server.route("*", Reply(200, "<title>via proxy</title>", {"X-Cache": "HIT"}))
    for var in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("http_proxy", server.url)
    return server


def run(url: str, options: ProbeOptions = FAST) -> ProbeResult:
    return asyncio.run(probe(url, ANON, options))


def test_the_environments_proxy_carries_the_probe(proxy: LoopbackServer) -> None:
    result = run(NOWHERE)
    assert result.ok and result.cache is CacheVerdict.HIT
    [request] = proxy.requests
    assert request.path == NOWHERE  # the absolute form a proxy receives
    assert request.headers["Connection"] == "close"


def test_a_proxy_given_without_scheme_is_http(
    proxy: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = proxy.url.removeprefix("http://")
    monkeypatch.setenv("HTTP_PROXY", bare)
    monkeypatch.setenv("http_proxy", bare)
    assert run(NOWHERE).ok and len(proxy.requests) == 1


def test_no_proxy_and_trust_env_off_go_direct(
    proxy: LoopbackServer, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("/", Reply(200, "direct"))
    assert run(server.url + "/", ProbeOptions(timeout=2, retries=0, trust_env=False)).ok
    failed = run(NOWHERE, ProbeOptions(timeout=2, retries=0, trust_env=False))
    assert failed.error is ErrorKind.DNS
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert run(server.url + "/").ok
    assert proxy.requests == [] and len(server.requests) == 2


def _tls_site(tls_ca: Any, not_after: datetime) -> LoopbackServer:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert(
        "localhost", not_before=datetime(2020, 1, 1, tzinfo=UTC), not_after=not_after
    ).configure_cert(ctx)
    srv = LoopbackServer(ssl_context=ctx)
    srv.route("/", Reply(200, "ok"))
    return srv


def test_concurrent_probes_each_report_their_own_certificate(tls_ca: Any) -> None:
    expiries = [datetime(2090 + n, 3, 1, 12, 0, tzinfo=UTC) for n in range(6)]
    servers = [_tls_site(tls_ca, when) for when in expiries]
    trusting = ssl.create_default_context()
    tls_ca.configure_trust(trusting)
    options = ProbeOptions(timeout=3, retries=0, verify=trusting)

    async def check() -> list[ProbeResult]:
        async with ProbeClients(options) as clients:
            # Several rounds of all six at once, interleaving their handshakes.
            return await asyncio.gather(*(
                probe(srv.url + "/", ANON, options, clients=clients)
                for _ in range(3) for srv in servers
            ))

    try:
        results = asyncio.run(check())
    finally:
        for srv in servers:
            srv.close()
    assert all(r.ok for r in results)
    expected = [when.strftime("%Y-%m-%dT%H:%M:%SZ") for when in expiries] * 3
    assert [r.cert_expires for r in results] == expected


def test_plain_http_reports_no_certificate(server: LoopbackServer) -> None:
    server.route("/", Reply(200, "ok"))
    result = run(server.url + "/")
    assert result.ok and result.cert_expires is None and result.cert_host is None


def test_repeated_cache_headers_are_read_as_one_list() -> None:
    # Two X-Cache fields (one per CDN layer) mean the same as "MISS, HIT".
    headers = CIMultiDict([("X-Cache", "MISS"), ("x-cache", "HIT"), ("Age", "0")])
    assert cache_verdict(headers) is CacheVerdict.HIT
    assert cache_evidence(headers) == {"X-Cache": "MISS, HIT", "Age": "0"}
