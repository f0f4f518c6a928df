"""config.toml: every bad input gives one line naming file, key and line, and exit 3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.config import (
    SECTION,
    SECTIONS,
    Config,
    ConfigError,
    ConfigMissing,
    MonitorConfig,
    ProviderConfig,
    Section,
    SiteConfig,
    config_to_toml,
    load_config,
    parse_config,
    save_config,
    validate_field,
)
from app.config_rules import REQUIRED

ROOT = Path(__file__).resolve().parents[1]

# (name, file text, key named in the message, line, a fragment of the message)
BAD_CONFIGS: list[tuple[str, str, str, int | None, str]] = [
    ("invalid-toml", "[monitor]\ntimeout = \n", "", 2, "invalid TOML"),
    ("duplicate-key", '[[site]]\nname = "a"\nurl = "http://a/"\nname = "b"\n', "", 4,
     "invalid TOML"),
    ("unknown-top-key", '[monitor]\ntimeout = 5\n\n[[sites]]\nname = "a"\n', "sites", 4,
     "unknown key (did you mean 'site'?)"),
    ("unknown-monitor-key", "[monitor]\ninterval = 30\ntimeot = 3\n", "monitor.timeot", 3,
     "did you mean 'timeout'?"),
    ("unknown-provider-key", '[provider]\nname = "P"\nstatuspage = "https://s/"\n',
     "provider.statuspage", 3, "did you mean 'status_page'?"),
    ("unknown-site-key",
     '[[site]]\nname = "a"\nurl = "http://a/"\n\n[[site]]\nname = "b"\nurl = "http://b/"\n'
     'backend = "http://b/login"\n', "site[2].backend", 8, "did you mean 'backend_url'?"),
    ("ftp-url", '[[site]]\nname = "a"\nurl = "ftp://files.example/"\n', "site[1].url", 3,
     "not an http or https URL"),
    ("url-without-scheme", '[[site]]\nname = "a"\nurl = "shop.example.com"\n', "site[1].url", 3,
     "not an http or https URL (no scheme)"),
    ("backend-url-not-http", '[[site]]\nname = "a"\nurl = "http://a/"\n'
     'backend_url = "javascript:alert(1)"\n', "site[1].backend_url", 4, "not an http or https"),
    ("status-page-not-http", '[provider]\nstatus_page = "status.pantheon.io"\n',
     "provider.status_page", 2, "not an http or https URL"),
    ("canary-not-http", '[monitor]\ncanaries = [\n  "https://ok.example/",\n  "gopher://x",\n]\n',
     "monitor.canaries", 2, "'gopher://x' is not an http or https URL"),
    ("credentials-in-url", '[[site]]\nname = "a"\nurl = "https://me:pw@a.example/"\n',
     "site[1].url", 3, "must not contain a user name or password"),
    ("missing-name", '[[site]]\nurl = "http://a/"\n', "site[1].name", 1, "is missing"),
    ("missing-url", '[[site]]\nname = "a"\n', "site[1].url", 1, "is missing"),
    ("empty-name", '[[site]]\nname = "  "\nurl = "http://a/"\n', "site[1].name", 2,
     "must not be empty"),
    ("duplicate-names", '[[site]]\nname = "shop"\nurl = "http://a/"\n\n[[site]]\nname = "Shop"\n'
     'url = "http://b/"\n', "site[2].name", 6, "names must be unique"),
    ("negative-timeout", "[monitor]\ntimeout = -1\n", "monitor.timeout", 2,
     "must be greater than 0"),
    ("zero-timeout", "[monitor]\ntimeout = 0\n", "monitor.timeout", 2, "must be greater than 0"),
    ("negative-retries", "[monitor]\nretries = -2\n", "monitor.retries", 2, "at least 0"),
    ("negative-slow", "[monitor]\nslow = -0.5\n", "monitor.slow", 2, "must be greater than 0"),
    ("negative-interval", "[monitor]\ninterval = -60\n", "monitor.interval", 2, "at least 1"),
    ("fractional-retries", "[monitor]\nretries = 1.5\n", "monitor.retries", 2,
     "must be a whole number"),
    ("string-number", '[monitor]\ntimeout = "10"\n', "monitor.timeout", 2,
     "must be a number, not a string"),
    ("bool-number", "[monitor]\nslow = true\n", "monitor.slow", 2, "not true/false"),
    ("bad-environment", '[[site]]\nname = "a"\nurl = "http://a/"\nenvironment = "Live Site"\n',
     "site[1].environment", 4, "not an environment name"),
    ("site-not-a-table-list", 'site = "shop"\n', "site", 1, "must be a list of [[site]] tables"),
    ("site-entry-not-a-table", "site = [1]\n", "site[1]", 1, "must be a [[site]] table"),
    ("monitor-not-a-table", "monitor = 5\n", "monitor", 1, "must be a [monitor] table"),
]


@pytest.mark.parametrize(
    ("name", "text", "key", "line", "fragment"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS]
)
def test_bad_config_is_one_line_and_exit_3(
    tmp_path: Path, capsys: Any, name: str, text: str, key: str, line: int | None, fragment: str
) -> None:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    code = main(["check", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 3
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    [message] = lines
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert message.startswith(f"lifeline: {where}"), message
    if key:
        assert f": {key}: " in message, message
    assert fragment in message
    assert "Traceback" not in err


def test_bad_config_through_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text('[monitor]\ntimeout = 10\nretires = 2\n')
    done = subprocess.run(
        [sys.executable, "-m", "app", "check", "--config", str(path), "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert done.returncode == 3
    # --json answers in JSON on stdout too (issue 20), the one line stays on stderr.
    answer = json.loads(done.stdout)
    assert (answer["exit_code"], answer["error"]["kind"]) == (3, "config")
    assert (answer["error"]["line"], answer["error"]["key"]) == (3, "monitor.retires")
    assert done.stderr.strip() == (
        f"lifeline: {path}:3: monitor.retires: unknown key (did you mean 'retries'?); known "
        "keys: canaries, cert_warn_days, concurrency, failures_to_alert, flap_threshold, "
        "history_days, interval, remind_every, retries, retry_interval, slow, "
        "successes_to_recover, timeout"
    )


def test_file_problems_are_one_line_and_exit_3(tmp_path: Path, capsys: Any) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[monitor]")
    for path, fragment in (
        (binary, "not UTF-8"),
        (tmp_path / "absent.toml", "no config file here yet"),
        (tmp_path, "cannot read the file"),
    ):
        assert main(["check", "--config", str(path)]) == 3
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and fragment in err
        assert str(path) in err


def test_missing_default_config_is_one_line(capsys: Any) -> None:
    assert main(["check"]) == 3
    err = capsys.readouterr().err
    assert "config.toml" in err and "no config file here yet" in err


def test_usage_errors_exit_3(capsys: Any) -> None:
    assert main(["check", "--bogus"]) == 3


# --------------------------------------------------------------------------- good input


def test_defaults_are_the_documented_ones() -> None:
    config = parse_config('[[site]]\nname = "shop"\nurl = "https://live-shop.example/"\n')
    assert config.provider == ProviderConfig()
    assert config.provider.name == "Pantheon"
    assert config.provider.status_page == "https://status.pantheon.io"
    assert config.provider.hotline == "1-866-415-7624"
    assert config.provider.ticket_api == ""
    assert config.provider.dashboard == "https://dashboard.pantheon.io"
    monitor = config.monitor
    assert (monitor.interval, monitor.timeout, monitor.slow, monitor.retries) == (60, 10, 3.0, 1)
    assert monitor.canaries == ()
    [site] = config.sites
    assert site.environment == "live" and site.backend_url == ""
    assert site.probe_backend_url == "https://live-shop.example/"


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbf[monitor]\ntimeout = 5\n')
    assert load_config(path).monitor.timeout == 5


@pytest.mark.parametrize("name", ["config.toml", "loopback-cases.toml"])
def test_examples_parse(name: str) -> None:
    config = load_config(ROOT / "examples" / name)
    assert config.sites and config.source.endswith(name)


def test_written_config_reads_back_the_same() -> None:
    config = Config(
        monitor=MonitorConfig(timeout=5.0, canaries=("https://one.one.one.one/",)),
        sites=(
            SiteConfig(name="shop", url="https://live-shop.example/",
                       backend_url="https://live-shop.example/user/login"),
            SiteConfig(name="blog", url="https://dev-blog.example/", environment="dev"),
        ),
    )
    again = parse_config(config_to_toml(config), source="x.toml")
    assert again.monitor == config.monitor and again.sites == config.sites


def test_config_missing_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigMissing) as caught:
        load_config(tmp_path / "nope.toml")
    assert isinstance(caught.value, ConfigError)
    assert caught.value.one_line().startswith(str(tmp_path / "nope.toml"))


def test_every_key_is_documented() -> None:
    doc = (ROOT / "docs" / "config.md").read_text()
    for section in SECTIONS:
        start = doc.index(f"## `{section.header}`")
        end = doc.find("\n## ", start + 1)
        part = doc[start : end if end > 0 else None]
        for key in section.settings():
            assert f"| `{key.name}` |" in part, f"{section.header} {key.name} not in the docs"


def test_every_key_has_a_rule_a_label_and_a_form_kind() -> None:
    for section in SECTIONS:
        assert getattr(Config(), section.attr) is not None
        for key in section.settings():
            where = f"{section.key}.{key.name}"
            assert callable(key.spec.rule), where
            assert key.spec.label.strip() and key.spec.help.strip(), where
            assert key.kind in ("text", "int", "float", "list", "lines", "bool", "choice"), where
            if key.default not in (REQUIRED, None):
                # every default passes its own rule (None means "unset": never checked)
                as_toml = list(key.default) if isinstance(key.default, tuple) else key.default
                assert key.spec.rule(as_toml) == key.default, where
            elif key.default is REQUIRED:
                assert section.many and key.name in section.required, where


def test_a_field_without_a_setting_is_refused_at_import() -> None:
    from dataclasses import dataclass, fields

    @dataclass(frozen=True)
    class Bare:
        value: int = 1

    with pytest.raises(TypeError, match="has no setting"):
        Section("bare", Bare, "bare").settings()
    assert fields(Bare)


def test_validate_field_is_the_loaders_rule() -> None:
    assert validate_field("monitor", "retries", 3) == 3
    with pytest.raises(ValueError, match="at most 10"):
        validate_field("monitor", "retries", 11)
    with pytest.raises(ValueError, match="not an http or https URL"):
        validate_field("site", "url", "ftp://x/")
    text = '[monitor]\nretries = 11\n'
    with pytest.raises(ConfigError, match="at most 10"):
        parse_config(text)


def test_a_lone_surrogate_from_outside_is_replaced_on_save(tmp_path: Path) -> None:
    """Issue 12, defect 13c: a Pantheon label with a broken \\ud800 escape made save raise."""
    import json

    label = json.loads('"Caf\\ud800 shop \\ud83d\\ude00"')  # as the API's JSON decodes
    config = Config(sites=(SiteConfig(name=label, url="https://live-cafe.example/"),))
    path = tmp_path / "config.toml"
    written = save_config(config, path)
    assert written.sites[0].name == "Caf\ufffd shop \U0001f600"
    assert load_config(path) == written
    assert path.read_bytes().decode("utf-8")  # valid UTF-8 on disk


def test_a_written_file_has_one_header_per_site_so_a_typo_there_gets_its_line() -> None:
    config = Config(sites=(SiteConfig(name="shop", url="https://live-shop.example/"),
                           SiteConfig(name="blog", url="https://blog.example/")))
    text = config_to_toml(config)
    assert text.count("\n[[site]]\n") == 2
    lines = text.splitlines()
    typo = max(n for n, line in enumerate(lines) if line.startswith("url = "))
    lines[typo] = 'url = "blog.example"'
    with pytest.raises(ConfigError) as caught:
        parse_config("\n".join(lines), source="config.toml")
    assert caught.value.one_line().startswith(f"config.toml:{typo + 1}: site[2].url: ")


def test_form_labels_have_distinct_mnemonics_per_settings_tab() -> None:
    """Alt+letter must reach one control: a new key's `&` may not clash with its tab's
    other labels, the tab titles (Si&tes, Secr&ets and the schema's) or &Save."""
    import re

    def mnemonic(text: str) -> str | None:
        match = re.search(r"&([^&])", text)
        return match.group(1).lower() if match else None

    titles = ["Si&tes", "Secr&ets", "&Save", *(s.tab for s in SECTIONS if s.tab)]
    top = [m for m in map(mnemonic, titles) if m]
    assert len(top) == len(set(top)), titles
    for section in SECTIONS:
        if not section.tab:
            continue
        labels = [k.spec.label for k in section.settings() if k.spec.in_form]
        keys = top + [m for m in map(mnemonic, labels) if m]
        clashes = {k for k in keys if keys.count(k) > 1}
        assert not clashes, f"{section.header}: {clashes} in {labels} or {titles}"
    # the site editor is a form of its own, with its &OK
    labels = ["&OK", *(k.spec.label for k in SECTION["site"].settings() if k.spec.in_form)]
    keys = [m for m in map(mnemonic, labels) if m]
    assert len(keys) == len(set(keys)), f"[[site]] editor: {labels}"
