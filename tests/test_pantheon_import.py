"""The Pantheon account client against a loopback fake of the Terminus API, and the
pure merge of imported sites into a config."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from app.config import Config, SiteConfig, config_to_toml, parse_config
from app.integrations.pantheon import (
    AccountListing,
    ApiErrorKind,
    PantheonApiError,
    TerminusClient,
    backend_path,
    choose_domain,
)
from app.sites_import import ImportCandidate, normalise_url, plan_import, unique_name
from tests.loopback import LoopbackServer, Reply, free_port
from tests.pantheon_fake import SESSION, USER_ID, FakeOrganization, FakeSite, PantheonFake

TOKEN = "mt-PLANTED-0123456789abcdef"


def listing(api: str, token: str = TOKEN, **kwargs: object) -> AccountListing:
    client = TerminusClient(api, token, **kwargs)  # type: ignore[arg-type]
    return asyncio.run(client.list_sites())


def failure(api: str, token: str = TOKEN, **kwargs: object) -> PantheonApiError:
    with pytest.raises(PantheonApiError) as info:
        listing(api, token, **kwargs)
    return info.value


# --------------------------------------------------------------------------- the flow


def test_lists_live_sites_with_custom_domains_and_backend(server: LoopbackServer) -> None:
    fake = PantheonFake(
        server,
        TOKEN,
        [
            FakeSite("shop", framework="drupal10", custom=("shop.example.com",)),
            FakeSite(
                "blog",
                framework="wordpress",
                custom=("blog.example.org", "www.blog.example.org"),
                primary=1,
            ),
            FakeSite("docs", framework="wordpress_network"),
            FakeSite("static", framework="other"),
        ],
    )
    result = listing(fake.api)
    by_name = {s.name: s for s in result.sites}
    assert set(by_name) == {"Shop", "Blog", "Docs", "Static"}
    assert by_name["Shop"].url == "https://shop.example.com/"
    assert by_name["Shop"].backend_url == "https://shop.example.com/user/login"
    # The primary custom domain wins over the first one listed.
    assert by_name["Blog"].url == "https://www.blog.example.org/"
    assert by_name["Blog"].backend_url == "https://www.blog.example.org/wp-login.php"
    # No custom domain: the platform domain.
    assert by_name["Docs"].url == "https://live-docs.pantheonsite.io/"
    assert by_name["Docs"].backend_url.endswith("/wp-login.php")
    assert by_name["Static"].backend_url == ""
    assert by_name["Shop"].dashboard_url.startswith("https://dashboard.pantheon.io/sites/")
    assert result.skipped == ()


def test_sites_of_every_organisation_once_each_with_their_group(server: LoopbackServer) -> None:
    shared = FakeSite("client-a-main", custom=("www.client-a.example",))
    fake = PantheonFake(
        server,
        TOKEN,
        sites=[FakeSite("my-blog", framework="wordpress"), shared],
        organizations=[
            # Five sites at two per page: three pages of organisation sites.
            FakeOrganization("Client A", sites=[shared] + [
                FakeSite(f"client-a-{n}") for n in range(3)
            ] + [FakeSite("client-a-frozen", frozen=True)]),
            FakeOrganization("  Client   B ", sites=[FakeSite("client-b-shop")]),
        ],
    )
    result = listing(fake.api, page_size=2)
    groups = {s.name: s.group for s in result.sites}
    assert groups == {
        "My Blog": "Personal",
        "Client A Main": "Client A",  # also a direct membership: the client's group wins
        "Client A 0": "Client A",
        "Client A 1": "Client A",
        "Client A 2": "Client A",
        "Client B Shop": "Client B",
    }
    assert len(result.sites) == len({s.source_id for s in result.sites}) == 6
    assert [s.name for s in result.skipped] == ["Client A Frozen"]
    org_a = fake.organizations[0].id
    assert fake.requests.count(f"/organizations/{org_a}/memberships/sites") == 3
    main = next(s for s in result.sites if s.name == "Client A Main")
    assert main.dashboard_url.endswith(f"/sites/{shared.id}#live")
    assert main.url == "https://www.client-a.example/"


def test_an_organisation_without_an_id_is_an_unexpected_answer(server: LoopbackServer) -> None:
    fake = PantheonFake(server, TOKEN, organizations=[FakeOrganization("Broken", id="")])
    fake.organizations[0].id = ""  # the fake gives one; the API answer here has none
    error = failure(fake.api)
    assert error.kind is ApiErrorKind.UNEXPECTED
    assert "organisations" in error.message


def test_login_sends_token_in_body_and_session_as_bearer(server: LoopbackServer) -> None:
    fake = PantheonFake(server, TOKEN, [FakeSite("one")])
    listing(fake.api)
    login = server.requests[0]
    assert login.method == "POST" and login.path == "/authorize/machine-token"
    assert login.json() == {"machine_token": TOKEN, "client": "lifeline"}
    for req in server.requests[1:]:
        assert req.headers["Authorization"] == f"Bearer {SESSION}"
        assert TOKEN not in req.path and SESSION not in req.path
    assert server.requests[1].path.startswith(f"/users/{USER_ID}/memberships/sites?limit=100")


def test_pages_across_three_pages(server: LoopbackServer) -> None:
    sites = [FakeSite(f"site-{n:03d}") for n in range(10)]
    fake = PantheonFake(server, TOKEN, sites)
    result = listing(fake.api, page_size=4)
    assert len(result.sites) == 10
    assert len({s.url for s in result.sites}) == 10
    pages = [r.path for r in server.requests if "/memberships/sites" in r.path]
    assert len(pages) == 3  # 4 + 4 + 2: the short page ends it
    assert "start=" not in pages[0] and "limit=4" in pages[0]
    assert f"start={sorted(s.id for s in sites)[3]}" in pages[1]
    assert f"start={sorted(s.id for s in sites)[7]}" in pages[2]


def test_exact_multiple_of_the_page_size_stops_on_the_empty_page(server: LoopbackServer) -> None:
    fake = PantheonFake(server, TOKEN, [FakeSite(f"s{n}") for n in range(4)])
    result = listing(fake.api, page_size=2)
    assert len(result.sites) == 4
    assert fake.pages_served == 3  # 2 + 2 + the empty page that ends it


def test_a_pager_that_repeats_itself_terminates(server: LoopbackServer) -> None:
    """A server that ignores `start` would page forever; we stop when nothing is new."""
    fake = PantheonFake(server, TOKEN, [FakeSite(f"s{n}") for n in range(2)])
    server.route(f"/users/{USER_ID}/memberships/sites", lambda req: fake._memberships({}))
    result = listing(fake.api, page_size=2)
    assert len(result.sites) == 2
    assert fake.pages_served == 2


def test_frozen_and_uninitialised_sites_are_skipped_with_a_note(server: LoopbackServer) -> None:
    fake = PantheonFake(
        server,
        TOKEN,
        [
            FakeSite("ok"),
            FakeSite("cold", frozen=True),
            FakeSite("fresh", initialized=False),
            FakeSite("nolive", live=False),
        ],
    )
    result = listing(fake.api)
    assert [s.name for s in result.sites] == ["Ok"]
    notes = {s.name: s.why for s in result.skipped}
    assert notes == {
        "Cold": "the site is frozen",
        "Fresh": "its Live environment is not initialised yet",
        "Nolive": "it has no Live environment",
    }
    # A frozen site costs no further requests.
    cold = next(s for s in fake.sites if s.name == "cold")
    assert not any(cold.id in r.path for r in server.requests)


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_token_is_one_clear_line(server: LoopbackServer, status: int) -> None:
    PantheonFake(server, TOKEN, [FakeSite("one")])
    server.route("/authorize/machine-token", Reply.json({"message": "no"}, status=status))
    err = failure(server.url)
    assert err.kind is ApiErrorKind.TOKEN
    assert f"rejected the machine token (HTTP {status})" in err.message
    assert "\n" not in err.message and TOKEN not in err.message


def test_wrong_token_is_rejected(server: LoopbackServer) -> None:
    fake = PantheonFake(server, "mt-the-real-one")
    err = failure(fake.api, token=TOKEN)
    assert err.kind is ApiErrorKind.TOKEN and TOKEN not in str(err)


def test_refused_connection_is_unreachable() -> None:
    err = failure(f"http://127.0.0.1:{free_port()}")
    assert err.kind is ApiErrorKind.UNREACHABLE
    assert err.message == "cannot reach the Pantheon API at 127.0.0.1 (connection refused)"


def test_hanging_api_returns_within_the_deadline(server: LoopbackServer) -> None:
    fake = PantheonFake(server, TOKEN, [FakeSite("one")])
    fake.hang = True
    started = time.monotonic()
    err = failure(fake.api, request_timeout=0.5, deadline=5.0)
    assert time.monotonic() - started < 3.0
    assert err.kind is ApiErrorKind.UNREACHABLE and "did not answer within 0.5 s" in err.message


def test_total_deadline_bounds_a_slow_account(server: LoopbackServer) -> None:
    fake = PantheonFake(server, TOKEN, [FakeSite("one")])
    fake.hang = True
    started = time.monotonic()
    err = failure(fake.api, request_timeout=30.0, deadline=0.7)
    assert time.monotonic() - started < 3.0
    assert "did not finish answering within 0.7 s" in err.message


def test_server_error_is_unreachable(server: LoopbackServer) -> None:
    server.route("*", Reply(503, "<title>503 Service Unavailable</title>"))
    err = failure(server.url)
    assert err.kind is ApiErrorKind.UNREACHABLE and "HTTP 503" in err.message


@pytest.mark.parametrize(
    ("broken", "phrase"),
    [("login", "signing in: not JSON"), ("memberships", "listing your sites: not a JSON list")],
)
def test_malformed_answers_are_unexpected(server: LoopbackServer, broken: str, phrase: str) -> None:
    fake = PantheonFake(server, TOKEN, [FakeSite("one")])
    fake.broken = broken
    err = failure(fake.api)
    assert err.kind is ApiErrorKind.UNEXPECTED
    assert phrase in err.message and "\n" not in err.message


@pytest.mark.parametrize("broken", ["environments", "domains"])
def test_malformed_site_details_skip_that_site_only(server: LoopbackServer, broken: str) -> None:
    fake = PantheonFake(server, TOKEN, [FakeSite("one"), FakeSite("two")])
    fake.broken = broken
    result = listing(fake.api)
    assert result.sites == ()
    assert len(result.skipped) == 2 and all("unexpected answer" in s.why for s in result.skipped)


def test_redirect_is_not_followed_with_the_session(make_server: object) -> None:
    elsewhere = make_server()  # type: ignore[operator]
    api = make_server()  # type: ignore[operator]
    fake = PantheonFake(api, TOKEN, [FakeSite("one")])
    api.route(
        f"/users/{USER_ID}/memberships/sites",
        Reply(302, "", {"Location": f"{elsewhere.url}/steal"}),
    )
    err = failure(fake.api)
    assert err.kind is ApiErrorKind.UNEXPECTED and "redirect" in err.message
    assert elsewhere.requests == []


def test_token_and_session_never_reach_the_logs(server: LoopbackServer) -> None:
    from app.logs import setup_logging
    from app.paths import default_paths

    log_file = default_paths().log_file
    root, http = logging.getLogger(), logging.getLogger("httpx2")
    saved = (root.level, list(root.handlers), http.level)
    setup_logging(log_file, level=logging.DEBUG)
    http.setLevel(logging.DEBUG)  # worst case: full request logging
    try:
        fake = PantheonFake(server, TOKEN, [FakeSite("one")])
        listing(fake.api)
        failure(f"http://127.0.0.1:{free_port()}")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        root.setLevel(saved[0])
        for handler in saved[1]:
            root.addHandler(handler)
        http.setLevel(saved[2])
    text = log_file.read_text()
    assert "memberships/sites" in text  # the requests were logged...
    for secret in (TOKEN, SESSION):
        assert secret not in text  # ...without the secrets


# --------------------------------------------------------------------------- pure helpers


def test_backend_path_by_framework() -> None:
    assert backend_path("drupal") == backend_path("drupal8") == "/user/login"
    assert backend_path("wordpress_network") == "/wp-login.php"
    assert backend_path("") == ""


def test_choose_domain_ignores_wildcards_and_junk() -> None:
    domains = [
        {"id": "*.example.com", "type": "custom", "primary": True},
        {"id": "bad host", "type": "custom"},
        {"id": "live-x.pantheonsite.io", "type": "platform"},
    ]
    assert choose_domain(domains, "x") == "live-x.pantheonsite.io"
    assert choose_domain([], "y") == "live-y.pantheonsite.io"


def test_plan_import_keeps_existing_sites_and_matches_by_url() -> None:
    existing = SiteConfig(name="Shop", url="http://SHOP.example.com", backend_url="https://shop.example.com/admin")
    config = Config(sites=(existing,))
    plan = plan_import(
        config,
        [
            ImportCandidate(name="Shop", url="https://shop.example.com/"),
            ImportCandidate(name="Shop", url="https://shop2.example.com/"),
            ImportCandidate(name="shop", url="https://shop3.example.com/"),
            ImportCandidate(name="Dupe", url="https://shop2.example.com"),
            ImportCandidate(name="Bad", url="ftp://nope"),
        ],
    )
    assert plan.config.sites[0] == existing  # untouched, first
    assert [s.name for s in plan.added] == ["Shop (2)", "shop (3)"]
    assert [existing_name for _, existing_name in plan.present] == ["Shop", "Shop (2)"]
    assert [s.name for s in plan.invalid] == ["Bad"]
    # The result is a config we can write and read back.
    again = parse_config(config_to_toml(plan.config))
    assert [s.name for s in again.sites] == ["Shop", "Shop (2)", "shop (3)"]


def test_plan_import_makes_labels_printable_so_the_config_takes_them() -> None:
    # An account label with a terminal escape or a bidi override would be refused by the
    # config's rules, and the whole import with it.
    plan = plan_import(Config(), [
        ImportCandidate(name="Shop\x1b[31m red", url="https://shop.example.com/",
                        group="Client\u202e Acme"),
    ])
    assert [(s.name, s.group) for s in plan.added] == [("Shop [31m red", "Client Acme")]
    again = parse_config(config_to_toml(plan.config))
    assert again.sites[0].name == "Shop [31m red"


def test_normalise_url_and_unique_name() -> None:
    assert normalise_url("HTTPS://Example.COM:443/a/") == normalise_url("http://example.com/a")
    assert normalise_url("https://example.com:8443/") != normalise_url("https://example.com/")
    assert unique_name("A", {"a", "a (2)"}) == "A (3)"
    assert unique_name("B", {"a"}) == "B"
