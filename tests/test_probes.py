"""Probes against real loopback servers: every failure mode a site can show."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import tracemalloc
import zlib
from typing import Any

import httpx2
import pytest

from app.check import run_check
from app.config import SiteConfig, parse_config
from app.models import CacheVerdict, ErrorKind, ProbeKind, ProbeResult
from app.probes import (
    ProbeClients,
    ProbeOptions,
    cache_verdict,
    classify_error,
    page_title,
    probe,
    probe_canary,
    probe_site,
    status_detail,
)
from tests.conftest import summary_payload
from tests.loopback import Close, Drip, Hang, LoopbackServer, Reply, Request, Stream, free_port

FAST = ProbeOptions(timeout=1.0, retries=0)
ANON = ProbeKind.ANONYMOUS
BACK = ProbeKind.BACKEND


def run(url: str, kind: ProbeKind = ANON, options: ProbeOptions = FAST, **kw: Any) -> ProbeResult:
    return asyncio.run(probe(url, kind, options, **kw))


def gzip_of_zeros(megabytes: int) -> bytes:
    """A gzip stream that inflates to `megabytes` MiB of zeros (about 1 KiB per MiB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(megabytes)) + packer.flush()


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    return gzip_of_zeros(64)


def cached_origin_down(req: Request) -> Reply:
    """Pantheon with a dead origin: the CDN still serves cached pages, unless bypassed."""
    if "NO_CACHE=1" in req.headers.get("Cookie", ""):
        return Reply(503, "<html><head><title>503 Database not Responding</title></head></html>",
                     {"X-Styx-Req-Id": "req-origin", "X-Cache": "MISS"})
    return Reply(200, "<title>Shop</title>", {
        "X-Cache": "MISS, HIT", "X-Cache-Hits": "0, 12", "Age": "311",
        "X-Served-By": "cache-bfi-kbfi7400094-BFI, cache-ams21060-AMS",
        "X-Styx-Req-Id": "req-edge", "X-Pantheon-Styx-Hostname": "styx-fe3-b-7b89",
    })


# --------------------------------------------------------------------------- answers


def test_ok_records_status_cache_evidence_and_request_ids(server: LoopbackServer) -> None:
    server.route("/", cached_origin_down)
    result = run(server.url + "/")
    assert result.ok and result.error is None
    assert result.status == 200 and result.detail == "200 OK"
    assert result.cache is CacheVerdict.HIT
    assert result.cache_headers["Age"] == "311"
    assert result.cache_headers["X-Served-By"].startswith("cache-bfi")
    assert set(result.cache_headers) == {"Age", "X-Cache", "X-Cache-Hits", "X-Served-By"}
    assert result.request_id == "req-edge"
    assert result.styx_hostname == "styx-fe3-b-7b89"
    assert 0 < result.seconds < 1 and result.attempts == 1


def test_request_id_falls_back_to_pantheon_trace_id(server: LoopbackServer) -> None:
    server.route("/", Reply(200, "hi", {"Pantheon-Trace-Id": "trace-42"}))
    assert run(server.url + "/").request_id == "trace-42"


def test_anonymous_sends_no_cookie_backend_sends_no_cache_and_nobody_credentials(
    server: LoopbackServer,
) -> None:
    server.route("/", Reply(200, "ok"))
    run(server.url + "/", ANON)
    run(server.url + "/", BACK, bypass_cache=True)
    anonymous, backend = server.requests
    assert "Cookie" not in anonymous.headers
    assert backend.headers["Cookie"] == "NO_CACHE=1"
    for req in (anonymous, backend):
        assert "Authorization" not in req.headers
        assert req.headers["User-Agent"].startswith("lifeline/")


def test_cached_but_origin_down(server: LoopbackServer) -> None:
    server.route("/", cached_origin_down)
    site = SiteConfig(name="shop", url=server.url + "/")
    anonymous, backend = asyncio.run(probe_site(site, FAST))
    assert anonymous.ok and anonymous.cache is CacheVerdict.HIT
    assert not backend.ok
    assert backend.kind is BACK and backend.status == 503 and backend.error is ErrorKind.HTTP
    assert backend.detail == "503 Database not Responding"
    assert backend.request_id == "req-origin"
    assert backend.cache is CacheVerdict.MISS


def test_backend_uses_backend_url(server: LoopbackServer) -> None:
    server.route("/", Reply(200, "home"))
    server.route("/user/login", Reply(403, "<title>Access denied</title>"))
    site = SiteConfig(name="s", url=server.url + "/", backend_url=server.url + "/user/login")
    anonymous, backend = asyncio.run(probe_site(site, FAST))
    assert anonymous.ok
    # A 403 on a locked login page still proves the origin answers.
    assert backend.ok and backend.status == 403 and backend.url.endswith("/user/login")
    assert {r.path for r in server.requests} == {"/", "/user/login"}


def test_5xx_fails_with_page_title_or_reason(server: LoopbackServer) -> None:
    server.route("/titled", Reply(503, "<html><title>\n 503  Database not\n Responding</title>"))
    server.route("/bare", Reply(502, ""))
    titled = run(server.url + "/titled")
    assert not titled.ok and titled.error is ErrorKind.HTTP
    assert titled.detail == "503 Database not Responding"
    bare = run(server.url + "/bare")
    assert bare.error is ErrorKind.HTTP and bare.detail == "502 Bad Gateway"
    # The origin failing counts for the backend probe too.
    assert not run(server.url + "/bare", BACK).ok


def test_404_error_page_is_down_for_visitors_but_alive_origin(server: LoopbackServer) -> None:
    server.route("/gone", Reply(404, "<title>Page not found | Shop</title>"))
    anonymous = run(server.url + "/gone")
    assert not anonymous.ok and anonymous.status == 404
    assert anonymous.detail == "404 Page not found | Shop"
    assert run(server.url + "/gone", BACK).ok


def test_title_of_a_gzipped_error_page(server: LoopbackServer) -> None:
    packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    page = packer.compress(b"<title>504 Target Not Responding</title>") + packer.flush()
    server.route("/", Reply(504, page, {"Content-Encoding": "gzip"}))
    assert run(server.url + "/").detail == "504 Target Not Responding"


# --------------------------------------------------------------------------- hanging


def test_hang_times_out_at_the_deadline(server: LoopbackServer) -> None:
    server.route("/", Hang())
    start = time.monotonic()
    result = run(server.url + "/", options=ProbeOptions(timeout=0.5, retries=0))
    elapsed = time.monotonic() - start
    assert result.error is ErrorKind.TIMEOUT and result.status is None
    assert result.connection_failed
    assert 0.45 < elapsed < 1.5
    assert "0.5 s" in result.detail


def test_drip_cannot_hold_a_probe_past_its_deadline(server: LoopbackServer) -> None:
    # One byte every 0.1 s resets a per-chunk read timeout forever; the total deadline not.
    server.route("/", Drip(interval=0.1))
    start = time.monotonic()
    result = run(server.url + "/", options=ProbeOptions(timeout=0.6, retries=0))
    assert time.monotonic() - start < 1.5
    assert result.error is ErrorKind.TIMEOUT and result.status == 200
    assert "did not arrive" in result.detail


def test_retries_are_immediate_and_bounded(server: LoopbackServer) -> None:
    server.route("/", Hang())
    start = time.monotonic()
    result = run(server.url + "/", options=ProbeOptions(timeout=0.4, retries=2))
    elapsed = time.monotonic() - start
    assert result.attempts == 3 and result.error is ErrorKind.TIMEOUT
    assert 1.15 < elapsed < 2.2


def test_a_passing_retry_counts_as_ok(server: LoopbackServer) -> None:
    calls: list[int] = []

    def flaky(_req: Request) -> Reply:
        calls.append(1)
        return Reply(502, "") if len(calls) == 1 else Reply(200, "ok")

    server.route("/", flaky)
    result = run(server.url + "/", options=ProbeOptions(timeout=1, retries=1))
    assert result.ok and result.attempts == 2
    server.requests.clear()
    calls.clear()
    result = run(server.url + "/", options=ProbeOptions(timeout=1, retries=0))
    assert not result.ok and result.attempts == 1


def test_both_probes_of_a_site_run_concurrently(server: LoopbackServer) -> None:
    server.route("/", Hang())
    start = time.monotonic()
    anonymous, backend = asyncio.run(
        probe_site(SiteConfig(name="s", url=server.url + "/"), ProbeOptions(timeout=0.5, retries=0))
    )
    assert time.monotonic() - start < 0.95
    assert anonymous.error is backend.error is ErrorKind.TIMEOUT


# --------------------------------------------------------------------------- connections


def test_refused(server: LoopbackServer) -> None:
    result = run(f"http://127.0.0.1:{free_port()}/")
    assert result.error is ErrorKind.REFUSED and result.connection_failed
    assert result.detail == "connection refused"


def test_server_closing_without_answer_is_a_protocol_error(server: LoopbackServer) -> None:
    server.route("/", Close())
    result = run(server.url + "/")
    assert result.error is ErrorKind.PROTOCOL and not result.connection_failed


def _invalid_names_fail_fast() -> bool:
    start = time.monotonic()
    try:
        socket.getaddrinfo("lifeline-probe-test.invalid", 80)
    except socket.gaierror:
        return time.monotonic() - start < 2
    return False


@pytest.mark.skipif(not _invalid_names_fail_fast(), reason="the resolver does not answer here")
def test_dns_failure() -> None:
    result = run("http://lifeline-probe-test.invalid/")
    assert result.error is ErrorKind.DNS and result.connection_failed


def test_dns_classification_from_the_exception_chain() -> None:
    inner = socket.gaierror(-2, "Name or service not known")
    outer = httpx2.ConnectError("[Errno -2] Name or service not known")
    outer.__cause__ = inner
    kind, detail = classify_error(outer)
    assert kind is ErrorKind.DNS and "not found" in detail


def test_untrusted_certificate_is_tls(tls_server: LoopbackServer, tls_ca: Any) -> None:
    tls_server.route("/", Reply(200, "secure"))
    result = run(tls_server.url + "/")
    assert result.error is ErrorKind.TLS and not result.connection_failed
    assert "certificate" in result.detail
    trusting = ssl.create_default_context()
    tls_ca.configure_trust(trusting)
    good = run(tls_server.url + "/", options=ProbeOptions(timeout=2, retries=0, verify=trusting))
    assert good.ok and good.status == 200


def test_each_probe_and_each_retry_opens_a_fresh_connection(server: LoopbackServer) -> None:
    server.route("/", Reply(500, ""))
    site = SiteConfig(name="s", url=server.url + "/")
    options = ProbeOptions(timeout=1, retries=1)
    asyncio.run(probe_site(site, options))
    asyncio.run(probe_site(site, options))
    peers = [r.peer for r in server.requests]
    assert len(peers) == 8 and len(set(peers)) == 8


def test_in_a_check_each_probe_and_each_retry_opens_a_fresh_connection(
    server: LoopbackServer,
) -> None:
    # The loopback server keeps HTTP/1.1 connections open: a client that pooled them, or
    # let the server keep them, would send several probes over one connection.
    server.route("/api/v2/summary.json", Reply.json(summary_payload()))
    server.route("/fail", Reply(500, ""))
    sites = "".join(f'[[site]]\nname = "s{n}"\nurl = "{server.url}/fail?{n}"\n' for n in range(4))
    config = parse_config(f'[provider]\nstatus_page = "{server.url}"\n{sites}')
    # A roomy timeout: this is about connections, not deadlines (under faketime the
    # loopback server accepts slowly, and a 1 s budget let probes time out unrecorded).
    options = ProbeOptions(timeout=10, retries=1)
    for _ in range(2):
        report = asyncio.run(run_check(config, options=options))
        assert all(s.anonymous.attempts == s.backend.attempts == 2 for s in report.sites)
    probes = [r for r in server.requests if r.path.startswith("/fail")]
    assert len(probes) == 2 * 4 * 2 * 2  # checks x sites x probes x attempts
    peers = [r.peer for r in server.requests]
    assert len(set(peers)) == len(peers)
    assert all(r.headers["Connection"] == "close" for r in probes)


def test_a_server_refusing_new_connections_is_seen_by_the_next_probe_on_shared_clients(
    make_server: Any,
) -> None:
    srv: LoopbackServer = make_server()
    srv.route("/", Reply(200, "ok"))
    site = SiteConfig(name="s", url=srv.url + "/")

    async def check() -> tuple[tuple[ProbeResult, ProbeResult], ...]:
        async with ProbeClients(FAST) as clients:
            before = await probe_site(site, FAST, None, clients)
            # No new connections from now on; one kept open would still be answered.
            await asyncio.to_thread(srv.close)
            after = await probe_site(site, FAST, None, clients)
        return before, after

    before, after = asyncio.run(check())
    assert all(p.ok for p in before)
    assert all(p.error is ErrorKind.REFUSED for p in after)


def _cookies(header: str | None) -> frozenset[str]:
    return frozenset(c.strip() for c in (header or "").split(";") if c.strip())


def test_on_shared_clients_a_sites_cookies_stay_in_its_own_probe(server: LoopbackServer) -> None:
    server.route("/a", Reply(302, "", {"Location": "/a2", "Set-Cookie": "SESS=a; Path=/"}))
    server.route("/a2", Reply(200, "a", {"Set-Cookie": "LAST=a; Path=/"}))
    server.route("/b", Reply(200, "b"))
    a = SiteConfig(name="a", url=server.url + "/a")
    b = SiteConfig(name="b", url=server.url + "/b")

    async def check() -> list[tuple[ProbeResult, ProbeResult]]:
        async with ProbeClients(FAST) as clients:
            return [await probe_site(s, FAST, None, clients) for s in (a, b, a)]

    assert all(p.ok for pair in asyncio.run(check()) for p in pair)
    sent = sorted((r.path, sorted(_cookies(r.headers.get("Cookie")))) for r in server.requests)
    no_cache = ["NO_CACHE=1"]
    assert sent == sorted([
        # Twice each: the first probe of a, then again after b: nothing kept in between.
        *[("/a", []), ("/a", no_cache)] * 2,
        # Within one probe, a's cookie follows its own redirect (beside NO_CACHE=1).
        *[("/a2", ["SESS=a"]), ("/a2", ["NO_CACHE=1", "SESS=a"])] * 2,
        # b, probed on the same clients right after a, gets none of a's cookies.
        ("/b", []), ("/b", no_cache),
    ])


def test_probe_clients_are_closed_when_the_check_ends(server: LoopbackServer) -> None:
    server.route("/", Reply(200, "ok"))
    made: list[ProbeClients] = []

    async def check(fail: bool) -> None:
        async with ProbeClients(FAST) as clients:
            made.append(clients)
            assert (await probe(server.url + "/", ANON, FAST, clients=clients)).ok
            assert not clients.anonymous.is_closed and not clients.backend.is_closed
            if fail:
                raise RuntimeError("the check failed")

    asyncio.run(check(fail=False))
    with pytest.raises(RuntimeError):
        asyncio.run(check(fail=True))
    assert len(made) == 2
    assert all(c.anonymous.is_closed and c.backend.is_closed for c in made)


# --------------------------------------------------------------------------- redirects


def test_redirects_are_followed_to_the_final_url(server: LoopbackServer) -> None:
    for n in range(10):
        server.route(f"/r{n}", Reply(301 if n % 2 else 302, "", {"Location": f"/r{n + 1}"}))
    server.route("/r10", Reply(200, "arrived"))
    result = run(server.url + "/r0")
    assert result.ok and result.final_url == server.url + "/r10" and result.url.endswith("/r0")


def test_backend_bypass_cookie_follows_redirects_site_cookies_stay_home(
    server: LoopbackServer,
) -> None:
    server.route("/", Reply(302, "", {"Location": f"http://localhost:{server.port}/b",
                                      "Set-Cookie": "SESS=abc; Path=/"}))
    server.route("/b", Reply(301, "", {"Location": "/c"}))
    server.route("/c", Reply(200, "origin"))
    assert run(server.url + "/", BACK, bypass_cache=True).ok
    assert [r.headers.get("Cookie") for r in server.requests] == ["NO_CACHE=1"] * 3
    server.requests.clear()
    assert run(server.url + "/", ANON).ok
    assert all("Cookie" not in r.headers for r in server.requests)


def test_redirect_loop(server: LoopbackServer) -> None:
    server.route("/a", Reply(302, "", {"Location": "/b"}))
    server.route("/b", Reply(307, "", {"Location": "/a"}))
    result = run(server.url + "/a")
    assert result.error is ErrorKind.REDIRECTS and not result.ok
    assert "10 redirects" in result.detail
    assert len(server.requests) == 11


def test_redirect_never_carries_credentials_or_leaves_the_web(server: LoopbackServer) -> None:
    server.route("/", Reply(302, "", {"Location": f"http://me:secret@127.0.0.1:{server.port}/in"}))
    server.route("/in", Reply(200, "ok"))
    server.route("/ftp", Reply(302, "", {"Location": "ftp://127.0.0.1/file"}))
    assert run(server.url + "/").ok
    assert all("Authorization" not in r.headers for r in server.requests)
    ftp = run(server.url + "/ftp")
    assert ftp.error is ErrorKind.PROTOCOL and "non-web" in ftp.detail


# --------------------------------------------------------------------------- bodies


def _peak_bytes(coro: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        result = asyncio.run(coro)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_huge_body_costs_neither_time_nor_memory(server: LoopbackServer) -> None:
    server.route("/", Stream(64 * 1024 * 1024))
    start = time.monotonic()
    result, peak = _peak_bytes(probe(server.url + "/", ANON, FAST))
    assert result.ok and result.status == 200
    assert time.monotonic() - start < 1.0
    assert peak < 4 * 1024 * 1024


def test_body_is_read_only_up_to_the_limit(server: LoopbackServer) -> None:
    # 128 KiB arrive at once, the rest of the 64 MiB never: a probe that tried to read
    # the whole body would hit its deadline; one that stops at max_body is done at once.
    server.route("/", Stream(64 * 1024 * 1024, stall_after=128 * 1024))
    result = run(server.url + "/", options=ProbeOptions(timeout=1.0, retries=0))
    assert result.ok and result.error is None and result.seconds < 0.9


def test_gzip_bomb_costs_neither_time_nor_memory(server: LoopbackServer, gzip_bomb: bytes) -> None:
    server.route("/", Reply(503, gzip_bomb, {"Content-Encoding": "gzip"}))
    start = time.monotonic()
    result, peak = _peak_bytes(probe(server.url + "/", ANON, FAST))
    assert result.status == 503 and result.error is ErrorKind.HTTP
    assert result.detail == "503 Service Unavailable"  # no title in a page of zeros
    assert time.monotonic() - start < 1.0
    assert peak < 4 * 1024 * 1024


def test_unknown_content_encoding_is_not_guessed(server: LoopbackServer) -> None:
    server.route("/", Reply(500, b"\x8b\x00garbage<title>x</title>", {"Content-Encoding": "br"}))
    assert run(server.url + "/").detail == "500 Internal Server Error"


# --------------------------------------------------------------------------- canaries


def test_canary_any_answer_counts(server: LoopbackServer) -> None:
    server.route("/ok", Reply(204, ""))
    server.route("/err", Reply(500, "down but reachable"))
    server.route("/hang", Hang())
    quick = ProbeOptions(timeout=0.3, retries=0)
    assert asyncio.run(probe_canary(server.url + "/ok", quick))
    assert asyncio.run(probe_canary(server.url + "/err", quick))
    assert not asyncio.run(probe_canary(server.url + "/hang", quick))
    assert not asyncio.run(probe_canary(f"http://127.0.0.1:{free_port()}/", quick))


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("headers", "verdict"),
    [
        ({"X-Cache": "HIT"}, CacheVerdict.HIT),
        ({"X-Cache": "MISS, HIT"}, CacheVerdict.HIT),
        ({"X-Cache": "MISS, MISS"}, CacheVerdict.MISS),
        ({"X-Cache-Hits": "0, 3"}, CacheVerdict.HIT),
        ({"X-Cache-Hits": "0, 0", "Age": "0"}, CacheVerdict.MISS),
        ({"Age": "120"}, CacheVerdict.HIT),
        ({"age": "0"}, CacheVerdict.MISS),
        ({"X-Served-By": "cache-ams21060-AMS"}, CacheVerdict.UNKNOWN),
        ({}, CacheVerdict.UNKNOWN),
        ({"Age": "garbage"}, CacheVerdict.MISS),
    ],
)
def test_cache_verdict(headers: dict[str, str], verdict: CacheVerdict) -> None:
    assert cache_verdict(headers) is verdict


def test_page_title_and_status_detail() -> None:
    assert page_title(b"<HTML><TITLE lang=en>503 &amp; more</TITLE>") == "503 & more"
    assert page_title(b"<title>caf\xe9</title>", "text/html; charset=latin-1") == "caf\u00e9"
    assert page_title(b"<title>unterminated") == ""
    assert page_title(b"<title>x</title>", "text/html; charset=bogus-enc") == "x"
    assert status_detail(404, "Not Found", "Page not found") == "404 Page not found"
    assert status_detail(503, "Service Unavailable", "503 First Byte Timeout") == (
        "503 First Byte Timeout"
    )
    assert status_detail(502, "Bad Gateway", "") == "502 Bad Gateway"
    assert len(status_detail(500, "", "x" * 1000)) <= 160


def test_netrc_credentials_are_never_sent(server: LoopbackServer, tmp_path: Any) -> None:
    import os
    from pathlib import Path

    netrc = Path(os.environ["HOME"]) / ".netrc"
    netrc.write_text("machine 127.0.0.1 login admin password hunter2\n")
    netrc.chmod(0o600)
    server.route("/", Reply(401, "<title>Login required</title>"))
    result = run(server.url + "/", BACK, bypass_cache=True)
    assert result.ok and result.status == 401  # the origin answered
    assert "Authorization" not in server.requests[0].headers
