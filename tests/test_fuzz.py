"""Property-based fuzzing of every parser of outside input (issue 12).

The property is the same everywhere: a typed result or the documented error, never any
other exception. Derandomized (the same examples on every run, so CI is stable) and
bounded: the whole file runs in well under 60 s. Examples that once failed are pinned
with @example.
"""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from app.config import Config, ConfigError, NewRelicConfig, load_config, parse_config
from app.integrations.newrelic import Findings, NewRelicError, fetch_findings, parse_findings
from app.integrations.pantheon import AccountListing, PantheonApiError, TerminusClient
from app.models import CacheVerdict, PlatformState, PlatformStatus
from app.printable import printable
from app.probes import ProbeOptions, cache_evidence, cache_verdict, page_title, status_detail
from app.redact import redact
from app.statuspage import fetch_platform, parse_retry_after, parse_summary
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply, Request

FUZZ = settings(
    derandomize=True,
    database=None,  # nothing written into the work tree
    deadline=None,  # loaded CI machines; the budget is max_examples
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NETWORK_FUZZ = settings(FUZZ, max_examples=40)

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=5),
    max_leaves=30,
)


def deep(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for n in range(depth):
        value = [value] if n % 2 else {"a": value}
    return value


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


# --------------------------------------------------------------------- summary.json

SUMMARY_KEYS = ["page", "status", "components", "incidents", "scheduled_maintenances",
                "indicator", "description", "impact", "name", "shortlink", "id", "url",
                "incident_updates", "scheduled_for", "scheduled_until", "group_id"]
summary_like = st.recursive(
    json_scalars | st.sampled_from(["none", "minor", "major", "critical", "investigating",
                                    "resolved", "in_progress", "operational",
                                    "major_outage", "https://stspg.io/x"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(SUMMARY_KEYS) | st.text(max_size=6), inner, max_size=6),
    max_leaves=40,
)


@FUZZ
@given(data=json_values | summary_like)
@example(data={"incidents": [deep(40)], "status": {"indicator": deep(40)}})
def test_any_json_is_a_platform_status(data: Any) -> None:
    status = parse_summary(data, page_url="https://status.example.test")
    assert isinstance(status, PlatformStatus)
    if status.state is PlatformState.UNKNOWN and not isinstance(data, dict):
        assert status.error


@pytest.mark.parametrize("data", [deep(3000), {"incidents": [deep(3000)]},
                                  {"status": {"indicator": deep(3000)}}])
def test_deeply_nested_json_is_a_platform_status(data: Any) -> None:
    # Too deep for Hypothesis to print, so outside it.
    assert isinstance(parse_summary(data), PlatformStatus)


@FUZZ
@given(base=st.just(summary_payload()), patch=st.dictionaries(
    st.sampled_from(["status", "components", "incidents", "scheduled_maintenances", "page"]),
    summary_like, max_size=3))
def test_a_real_summary_with_any_part_replaced_is_a_platform_status(
    base: dict[str, Any], patch: dict[str, Any]
) -> None:
    assert isinstance(parse_summary({**base, **patch}), PlatformStatus)


@NETWORK_FUZZ
@given(body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()),
       status=st.sampled_from([200, 200, 200, 203, 429, 500, 503]),
       ctype=st.sampled_from(["application/json", "text/html; charset=undefined", ""]))
@example(body=b"[" * 100_000 + b"]" * 100_000, status=200, ctype="application/json")
@example(body=b"[" * 100_000, status=200, ctype="application/json")
@example(body=b'{"a": 1e999999}', status=200, ctype="application/json")
@example(body=b"\xef\xbb\xbf{}", status=200, ctype="application/json")
def test_any_summary_answer_is_a_platform_status(
    fuzz_server: LoopbackServer, body: bytes, status: int, ctype: str
) -> None:
    fuzz_server.route("/api/v2/summary.json", Reply(status, body, {"Content-Type": ctype}))
    got = asyncio.run(fetch_platform(fuzz_server.url, ProbeOptions(timeout=5, retries=0)))
    assert isinstance(got.status, PlatformStatus)


# ------------------------------------------------------- headers, titles, charsets

header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)
CHARSETS = ["utf-8", "latin-1", "undefined", "idna", "punycode", "rot13", "base64", "hex",
            "utf-16", "utf-32", "unicode_escape", "raw_unicode_escape", "uu", "zlib", "x",
            "utf-7", "cp1252", "shift_jis", "iso-2022-jp", "mbcs", "charmap", ""]


@FUZZ
@given(body=st.binary(max_size=200), title=st.binary(max_size=80),
       charset=st.sampled_from(CHARSETS) | st.text(string.ascii_letters + "-_.:", max_size=20),
       quote=st.sampled_from(["", '"', "'"]))
@example(body=b"", title=b"\\x\\u12\\N{", charset="unicode_escape", quote="")
@example(body=b"", title=b"+AGEA-", charset="utf-7", quote="")
def test_any_title_in_any_charset_is_one_line(
    body: bytes, title: bytes, charset: str, quote: str
) -> None:
    html = body + b"<title>" + title + b"</title>" + body
    text = page_title(html, f"text/html; charset={quote}{charset}{quote}")
    assert isinstance(text, str) and "\n" not in text
    assert printable(text) == text
    assert isinstance(status_detail(503, "Service Unavailable", text), str)


@FUZZ
@example(headers={"Age": "\u00b2"})  # found: isdigit() but not int()
@example(headers={"X-Cache-Hits": "0, \u00b2"})
@example(headers={"Retry-After": "\u00b2"})
@given(headers=st.dictionaries(
    st.sampled_from(["Age", "X-Cache", "X-Cache-Hits", "X-Served-By", "Retry-After",
                     "X-Styx-Req-Id"]), header_text, max_size=5))
def test_any_cache_headers_give_a_verdict(headers: dict[str, str]) -> None:
    assert isinstance(cache_verdict(headers), CacheVerdict)
    assert set(cache_evidence(headers)) <= set(headers)
    after = parse_retry_after(headers.get("Retry-After"), now=1_800_000_000.0)
    assert after is None or after >= 0


@FUZZ
@given(value=header_text | st.sampled_from([
    "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "99999999999999999999",
    "Mon, 01 Jan 0001 00:00:00 GMT", "-1", "1e9"]))
def test_any_retry_after_is_seconds_or_none(value: str) -> None:
    after = parse_retry_after(value, now=1_800_000_000.0)
    assert after is None or (isinstance(after, float) and after >= 0)


@NETWORK_FUZZ
@given(headers=st.lists(st.tuples(
    st.sampled_from(["X-Styx-Req-Id", "Pantheon-Trace-Id", "X-Cache", "Age",
                     "X-Pantheon-Styx-Hostname", "Content-Type", "Location"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
            max_size=30)), max_size=4),
    status=st.sampled_from([200, 301, 404, 503]))
def test_any_response_headers_give_a_probe_result(
    fuzz_server: LoopbackServer, headers: list[tuple[str, str]], status: int
) -> None:
    from app.models import ProbeKind, ProbeResult
    from app.probes import probe

    fuzz_server.route("/page", Reply(status, "<title>t</title>", dict(headers)))
    result = asyncio.run(probe(f"{fuzz_server.url}/page", ProbeKind.ANONYMOUS,
                               ProbeOptions(timeout=5, retries=0)))
    assert isinstance(result, ProbeResult)
    for text in (result.detail, result.request_id or "", *result.cache_headers.values()):
        assert printable(text) == text


# ------------------------------------------------------------------ config files

KEYS = {
    "provider": ["name", "status_page", "hotline", "dashboard", "ticket_api", "components",
                 "api"],
    "monitor": ["interval", "timeout", "slow", "retries", "concurrency", "canaries",
                "retry_interval", "reminder"],
    "site": ["name", "url", "backend_url", "environment", "dashboard_url", "newrelic_app"],
    "newrelic": ["account_id", "endpoint"],
}
toml_scalars = (st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False)
                | st.text(max_size=20) | st.sampled_from(["https://h.example/", "http://x",
                                                         "ftp://a", "live", "  "]))
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=10)


@st.composite
def config_docs(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from([*KEYS, "extra"]), max_size=4, unique=True)):
        names = KEYS.get(section, ["x"])
        table = draw(st.dictionaries(st.sampled_from(names) | st.text(max_size=6), toml_values,
                                     max_size=5))
        doc[section] = [table] if section == "site" and draw(st.booleans()) else table
    return doc


@FUZZ
@example(doc={"provider": {"name": [], "\n": []}})  # found: a key's line break in the message
@given(doc=config_docs())
def test_any_toml_config_is_a_config_or_one_config_error(doc: dict[str, Any]) -> None:
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        return  # not expressible in TOML
    try:
        assert isinstance(parse_config(text), Config)
    except ConfigError as exc:
        assert "\n" not in exc.one_line()


@FUZZ
@given(raw=st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
@example(raw=b"x = " + b"[" * 50_000 + b"]" * 50_000)
@example(raw=b"x = " + b"{a=" * 50_000 + b"1" + b"}" * 50_000)
@example(raw=b"\xef\xbb\xbf[monitor]\ninterval = 1e999\n")
@example(raw=b"[[site]]\nname = \"\xed\xa0\x80\"\n")
def test_any_bytes_as_a_config_file_are_a_config_or_one_config_error(
    raw: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_bytes(raw)
    try:
        assert isinstance(load_config(path), Config)
    except ConfigError as exc:
        assert "\n" not in exc.one_line()


# ---------------------------------------------------------------------- redact

SECRET = st.text(string.ascii_letters + string.digits + "-_.~", min_size=8, max_size=24)
SECRET_PLACES = [
    "https://h.example/p?token={s}", "https://h.example/#access_token={s}",
    "/login?next=/&password={s}", "ftp://user:{s}@h.example/", "wss://h.example/?api_key={s}",
    "https://u:{s}@h.example:8443/x", "Authorization: Bearer {s}", "session={s}",
    "x://a:{s}@b", "https://h.example/a;jsessionid=1?sig={s}&b=2",
]


@FUZZ
@given(text=st.text(max_size=200))
def test_redact_takes_any_text(text: str) -> None:
    assert isinstance(redact(text), str)


@FUZZ
@given(secret=SECRET, place=st.sampled_from(SECRET_PLACES),
       before=st.text(max_size=20), after=st.text(max_size=20))
def test_a_secret_in_any_url_form_never_survives_redact(
    secret: str, place: str, before: str, after: str
) -> None:
    assume(secret not in before and secret not in after)
    text = f"{before} {place.format(s=secret)} {after}"
    assert secret not in redact(text)


# ------------------------------------------------------------- Pantheon answers

LOGIN = {"session": "sess-fuzz-1234", "user_id": "u-1", "expires_at": 4102444800}


@NETWORK_FUZZ
@given(login=st.just(LOGIN) | json_values, answers=st.lists(json_values, max_size=6),
       status=st.sampled_from([200, 200, 200, 401, 404, 500]))
@example(login=LOGIN, answers=[[{"id": "m1", "site": {"id": "s1", "name": "x"}}], deep(40)],
         status=200)
def test_any_pantheon_answer_is_a_listing_or_one_api_error(
    fuzz_server: LoopbackServer, login: Any, answers: list[Any], status: int
) -> None:
    queue = list(answers)

    def answer(req: Request) -> Reply:
        if req.path.startswith("/authorize"):
            return Reply.json(login)
        body = queue.pop(0) if queue else []
        return Reply.json(body, status=status if queue else 200)

    fuzz_server.route("*", answer)
    client = TerminusClient(fuzz_server.url, "mt-fuzz-token-0001", deadline=5)
    try:
        got = asyncio.run(client.list_sites())
        assert isinstance(got, AccountListing)
    except PantheonApiError as exc:
        assert exc.message and "\n" not in exc.message


# ----------------------------------------------------------- New Relic answers

account_like = st.fixed_dictionaries({}, optional={
    "slowest": st.fixed_dictionaries({}, optional={"results": st.lists(
        st.dictionaries(st.sampled_from(["name", "facet", "average.duration",
                                         "percentile.duration", "count"]), json_values,
                        max_size=5) | json_values, max_size=4)}),
    "errors": st.fixed_dictionaries({}, optional={"results": st.lists(
        st.dictionaries(st.sampled_from(["requests", "errors", "rate"]), json_values,
                        max_size=3) | json_values, max_size=3)}),
})


@FUZZ
@given(doc=st.dictionaries(st.text(max_size=6), json_values, max_size=3)
       | account_like.map(lambda a: {"data": {"actor": {"account": a}}}))
def test_any_nerdgraph_document_is_findings_or_one_error(doc: dict[str, Any]) -> None:
    try:
        assert isinstance(parse_findings(doc, "app"), Findings)
    except NewRelicError as exc:
        assert "\n" not in str(exc)


@NETWORK_FUZZ
@given(body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
       status=st.sampled_from([200, 200, 301, 401, 500]))
@example(body=b"[" * 100_000, status=200)
def test_any_nerdgraph_answer_is_findings_or_one_error(
    fuzz_server: LoopbackServer, body: bytes, status: int
) -> None:
    fuzz_server.route("/graphql", Reply(status, body, {"Content-Type": "application/json"}))
    config = NewRelicConfig(account_id=1, endpoint=f"{fuzz_server.url}/graphql")
    try:
        got = asyncio.run(fetch_findings(config, "app", "NRAK-FUZZ0000000000", deadline=5))
        assert isinstance(got, Findings)
    except NewRelicError as exc:
        assert "\n" not in str(exc) and "NRAK-FUZZ" not in str(exc)
