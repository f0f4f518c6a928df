"""Issue 12 defect 7: secrets only over https (loopback excepted), and a warning when a
provider's secret goes to a host that is not the provider's own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.config import ConfigError, parse_config
from app.secret_hosts import foreign_secret_hosts, is_own_host
from tests.conftest import summary_payload
from tests.loopback import Reply


@pytest.mark.parametrize(
    "text",
    [
        '[newrelic]\nendpoint = "http://nerdgraph.example.com/graphql"',
        '[provider]\napi = "http://terminus.example.com/api"',
        '[provider]\nticket_api = "http://tickets.example.com"',
        '[[route]]\nkind = "pagerduty"\nendpoint = "http://events.example.com/v2/enqueue"',
    ],
)
def test_plain_http_to_another_host_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert "must use https" in caught.value.one_line()
    assert "\n" not in caught.value.one_line()


@pytest.mark.parametrize(
    "text",
    [
        '[newrelic]\nendpoint = "http://127.0.0.1:8080/graphql"',
        '[provider]\napi = "http://localhost:9000/api"',
        '[provider]\nticket_api = "http://[::1]:8443"',
    ],
)
def test_plain_http_to_this_machine_is_fine(text: str) -> None:
    parse_config(text)


def test_the_providers_own_hosts_give_no_warning() -> None:
    config = parse_config(
        '[provider]\napi = "https://terminus.pantheon.io/api/v2"\n'
        '[newrelic]\nendpoint = "https://api.eu.newrelic.com/graphql"\n'
    )
    assert foreign_secret_hosts(config) == []
    assert foreign_secret_hosts(parse_config("")) == []


def test_another_host_is_named_in_one_line_per_secret() -> None:
    config = parse_config(
        '[provider]\napi = "https://terminus.evilpantheon.io/api"\n'
        '[newrelic]\nendpoint = "https://nerdgraph.corp.example/graphql"\n'
    )
    assert foreign_secret_hosts(config) == [
        "[provider] api sends the Pantheon machine token to terminus.evilpantheon.io, "
        "which is not a pantheon.io host; make sure you trust it",
        "[newrelic] endpoint sends the New Relic API key to nerdgraph.corp.example, "
        "which is not a newrelic.com host; make sure you trust it",
    ]


def test_own_host_is_the_domain_or_a_subdomain() -> None:
    assert is_own_host("https://pantheon.io/x", "pantheon.io")
    assert is_own_host("https://TERMINUS.Pantheon.io./api", "pantheon.io")
    assert not is_own_host("https://evilpantheon.io", "pantheon.io")
    assert not is_own_host("https://pantheon.io.evil.example", "pantheon.io")


def test_lifeline_check_warns_on_stderr_and_still_reports(
    make_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, status = make_server(), make_server()
    site.route("*", Reply(200, "<title>Shop</title>"))
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    path = tmp_path / "config.toml"
    path.write_text(
        f'[provider]\nstatus_page = "{status.url}"\n'
        'api = "https://terminus.agency-proxy.example/api"\n'
        '[newrelic]\nendpoint = "https://api.newrelic.com/graphql"\n'
        f'[[site]]\nname = "shop"\nurl = "{site.url}/"\n'
    )
    code = main(["check", "--config", str(path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["overall"]["state"] == "operational"
    assert err.splitlines() == [
        "lifeline: warning: [provider] api sends the Pantheon machine token to "
        "terminus.agency-proxy.example, which is not a pantheon.io host; make sure you trust it"
    ]


def test_settings_says_where_a_secret_goes(qtbot: Any, paths: Any, tmp_path: Path) -> None:
    from app.credentials import CredentialStore
    from ui.settings.dialog import SettingsDialog

    config = parse_config('[newrelic]\nendpoint = "https://nerdgraph.corp.example/graphql"\n')
    dialog = SettingsDialog(
        config,
        paths=paths,
        store=CredentialStore(),
        on_saved=lambda _c: None,
        config_path=tmp_path / "config.toml",
    )
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentWidget(dialog.secrets)
    notice = dialog.secrets.destinations_notice
    qtbot.waitUntil(notice.isVisible)
    assert notice.text() == (
        "[newrelic] endpoint sends the New Relic API key to nerdgraph.corp.example, "
        "which is not a newrelic.com host; make sure you trust it"
    )

    plain = SettingsDialog(
        parse_config(""),
        paths=paths,
        store=CredentialStore(),
        on_saved=lambda _c: None,
        config_path=tmp_path / "other.toml",
    )
    qtbot.addWidget(plain)
    assert plain.secrets.destinations_notice.text() == ""
    assert plain.secrets.destinations_notice.isHidden()
