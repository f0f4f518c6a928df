"""`lifeline import pantheon` end to end: real CLI entry point, real config file on disk,
loopback fake of the Pantheon API."""

from __future__ import annotations

import json
import resource
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from app.cli import main
from app.config import Config, ProviderConfig, SiteConfig, load_config, save_config
from app.credentials import PANTHEON_TOKEN, CredentialStore
from app.paths import Paths
from tests.loopback import LoopbackServer, free_port
from tests.pantheon_fake import SESSION, FakeOrganization, FakeSite, PantheonFake

TOKEN = "mt-CLI-PLANTED-a1b2c3d4e5f6"

EXISTING = SiteConfig(
    name="Shop",
    url="https://shop.example.com/",
    backend_url="https://shop.example.com/admin/custom-login",
    newrelic_app="Shop (live)",
)


def write_config(path: Path, api: str, *sites: SiteConfig) -> str:
    save_config(Config(provider=ProviderConfig(api=api), sites=sites), path)
    return path.read_text()


@pytest.fixture
def account(server: LoopbackServer) -> PantheonFake:
    return PantheonFake(
        server,
        TOKEN,
        [
            FakeSite("shop", custom=("shop.example.com",)),  # already configured
            FakeSite("blog", framework="wordpress", custom=("blog.example.org",)),
            FakeSite("docs", framework="drupal10"),
            FakeSite("cold", frozen=True),
        ],
    )


def run(capsys: pytest.CaptureFixture[str], paths: Paths, *args: str) -> tuple[int, str, str]:
    code = main(["import", "pantheon", *args], paths=paths)
    out, err = capsys.readouterr()
    return code, out, err


def test_dry_run_lists_and_writes_nothing(
    tmp_path: Path, paths: Paths, account: PantheonFake, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    cfg = tmp_path / "config.toml"
    before = write_config(cfg, account.api, EXISTING)
    code, out, err = run(capsys, paths, "--dry-run", "--config", str(cfg))
    assert code == 0, err
    assert "Would add 2 sites" in out and "dry run, nothing written" in out
    assert (
        "+ Blog  https://blog.example.org/  (editors: https://blog.example.org/wp-login.php)"
    ) in out
    assert "+ Docs  https://live-docs.pantheonsite.io/" in out
    assert "= https://shop.example.com/  as 'Shop'" in out
    assert "- Cold: the site is frozen" in out
    assert cfg.read_text() == before
    assert TOKEN not in out + err and SESSION not in out + err


def test_import_adds_new_sites_and_leaves_existing_ones(
    tmp_path: Path, paths: Paths, account: PantheonFake, capsys: pytest.CaptureFixture[str],
) -> None:
    CredentialStore(plaintext_path=paths.plaintext_secrets).set(PANTHEON_TOKEN, TOKEN)
    cfg = tmp_path / "config.toml"
    write_config(cfg, account.api, EXISTING)
    code, out, err = run(capsys, paths, "--config", str(cfg))
    assert code == 0, err
    assert out.startswith(f"Added 2 sites to {cfg}:")
    config = load_config(cfg)  # parseable after the write
    shop = account.sites[0]
    # Only its empty group and site id are filled; custom backend and New Relic app kept.
    assert config.sites[0] == replace(EXISTING, group="Personal", pantheon_site_id=shop.id)
    assert [s.name for s in config.sites] == ["Shop", "Blog", "Docs"]
    docs = config.site("Docs")
    assert docs is not None and docs.backend_url == "https://live-docs.pantheonsite.io/user/login"
    assert docs.dashboard_url.startswith("https://dashboard.pantheon.io/sites/")
    assert cfg.stat().st_mode & 0o777 == 0o600
    assert TOKEN not in cfg.read_text() and SESSION not in cfg.read_text()

    # A second run finds nothing new and does not rewrite the file.
    mtime = cfg.stat().st_mtime_ns
    code, out, _ = run(capsys, paths, "--config", str(cfg))
    assert code == 0 and out.startswith("Nothing to add")
    assert cfg.stat().st_mtime_ns == mtime


def test_json_output(
    tmp_path: Path, paths: Paths, account: PantheonFake, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    cfg = tmp_path / "config.toml"
    write_config(cfg, account.api, EXISTING)
    code, out, _ = run(capsys, paths, "--dry-run", "--json", "--config", str(cfg))
    assert code == 0
    doc = json.loads(out)
    assert doc["dry_run"] is True and doc["written"] is False
    assert [a["name"] for a in doc["added"]] == ["Blog", "Docs"]
    assert doc["already_present"] == [
        {"name": "Shop", "url": "https://shop.example.com/", "configured_as": "Shop"}
    ]
    assert doc["skipped"] == [{"name": "Cold", "why": "the site is frozen"}]


@pytest.fixture
def agency(server: LoopbackServer) -> PantheonFake:
    """Two organisations, one holding a site the user is also a direct member of."""
    shared = FakeSite("client-a-main", custom=("www.client-a.example",))
    return PantheonFake(
        server,
        TOKEN,
        sites=[FakeSite("my-blog", framework="wordpress"), shared],
        organizations=[
            FakeOrganization("Client A", sites=[shared, FakeSite("client-a-shop"),
                                                FakeSite("client-a-old", frozen=True)]),
            FakeOrganization("Client B", sites=[FakeSite("client-b-site")]),
        ],
    )


def test_organisation_sites_get_their_group_and_site_id(
    tmp_path: Path, paths: Paths, agency: PantheonFake, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    cfg = tmp_path / "config.toml"
    write_config(cfg, agency.api)
    code, out, err = run(capsys, paths, "--dry-run", "--json", "--config", str(cfg))
    assert code == 0, err
    shown = {a["name"]: a["group"] for a in json.loads(out)["added"]}
    assert shown == {"My Blog": "Personal", "Client A Main": "Client A",
                     "Client A Shop": "Client A", "Client B Site": "Client B"}

    code, out, err = run(capsys, paths, "--config", str(cfg))
    assert code == 0, err
    assert "+ Client B Site  https://live-client-b-site.pantheonsite.io/" in out
    assert "[Client B]" in out
    config = load_config(cfg)
    ids = {s.name: s.id for s in agency.all_sites()}
    for site in config.sites:
        assert site.group == shown[site.name]
        uuid = ids[site.name.lower().replace(" ", "-")]
        assert site.pantheon_site_id == uuid
        assert site.dashboard_link("https://dashboard.pantheon.io") == (
            f"https://dashboard.pantheon.io/sites/{uuid}#live"
        )


def test_a_rerun_fills_only_an_empty_group_or_site_id(
    tmp_path: Path, paths: Paths, agency: PantheonFake, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    cfg = tmp_path / "config.toml"
    old = SiteConfig(name="main", url="https://www.client-a.example/")  # before groups
    mine = SiteConfig(name="shop", url="https://live-client-a-shop.pantheonsite.io/",
                      group="Retail", newrelic_app="Shop")  # the user's own group
    write_config(cfg, agency.api, old, mine)
    code, out, err = run(capsys, paths, "--config", str(cfg))
    assert code == 0, err
    assert "Completed 2 configured site(s)" in out
    config = load_config(cfg)
    assert [s.name for s in config.sites] == ["main", "shop", "My Blog", "Client B Site"]
    ids = {s.name: s.id for s in agency.all_sites()}
    assert config.sites[0] == replace(old, group="Client A",
                                      pantheon_site_id=ids["client-a-main"])
    # Its group is the user's: kept; only the missing site id is filled.
    assert config.sites[1] == replace(mine, pantheon_site_id=ids["client-a-shop"])

    mtime = cfg.stat().st_mtime_ns
    code, out, _ = run(capsys, paths, "--config", str(cfg))
    assert code == 0 and out.startswith("Nothing to add")
    assert cfg.stat().st_mtime_ns == mtime  # nothing left to fill: not rewritten


def test_minimal_config_in_the_default_place(
    paths: Paths, account: PantheonFake, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    # Only the API is set (a user who just pointed Lifeline at their account).
    cfg = paths.config_file
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f'[provider]\napi = "{account.api}"\n')
    code, out, err = run(capsys, paths)
    assert code == 0, err
    assert [s.name for s in load_config(cfg).sites] == ["Shop", "Blog", "Docs"]


def test_no_token_exits_2(paths: Paths, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    write_config(cfg, f"http://127.0.0.1:{free_port()}")
    code, out, err = run(capsys, paths, "--config", str(cfg))
    assert code == 2 and out == ""
    assert err == (
        "lifeline import: no Pantheon machine token: save one in Settings, or set "
        "LIFELINE_PANTHEON_TOKEN for headless use\n"
    )


def test_rejected_token_exits_4_without_the_token(
    tmp_path: Path, paths: Paths, account: PantheonFake, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "mt-WRONG-PLANTED-zyxwvu987654"
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", wrong)
    cfg = tmp_path / "config.toml"
    before = write_config(cfg, account.api, EXISTING)
    code, out, err = run(capsys, paths, "--config", str(cfg))
    assert code == 4
    assert err.count("\n") == 1 and "rejected the machine token (HTTP 401)" in err
    assert wrong not in out + err
    assert cfg.read_text() == before


def test_unreachable_api_exits_5(
    tmp_path: Path, paths: Paths, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    cfg = tmp_path / "config.toml"
    write_config(cfg, f"http://127.0.0.1:{free_port()}")
    code, _, err = run(capsys, paths, "--config", str(cfg))
    assert code == 5
    assert err == (
        "lifeline import: cannot reach the Pantheon API at 127.0.0.1 (connection refused)\n"
    )


def test_unexpected_answer_exits_6(
    tmp_path: Path, paths: Paths, account: PantheonFake, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    account.broken = "memberships"
    cfg = tmp_path / "config.toml"
    write_config(cfg, account.api)
    code, _, err = run(capsys, paths, "--config", str(cfg))
    assert code == 6 and "unexpected answer" in err and "Traceback" not in err


def test_broken_config_exits_3(
    tmp_path: Path, paths: Paths, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    cfg = tmp_path / "config.toml"
    cfg.write_text("[provider\napi = 1\n")
    code, _, err = run(capsys, paths, "--config", str(cfg))
    assert code == 3 and err.startswith(f"lifeline import: {cfg}:1: invalid TOML")


def test_unwritable_config_exits_7_and_keeps_the_file(
    tmp_path: Path, paths: Paths, account: PantheonFake, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    cfg = tmp_path / "config.toml"
    before = write_config(cfg, account.api, EXISTING)
    # A full disk, even for root: no file may grow, so the write fails with EFBIG.
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
    try:
        code, _, err = run(capsys, paths, "--config", str(cfg))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)
    assert code == 7, err
    assert err.startswith(f"lifeline import: {cfg}: cannot write the config")
    assert cfg.read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_missing_config_is_not_a_config_error(
    paths: Paths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """First run: no file yet is fine for an import (it creates one); the token is next."""
    code, _, err = run(capsys, paths, "--config", str(tmp_path / "absent.toml"))
    assert code == 2 and "no Pantheon machine token" in err
