"""What a server sends is never trusted: odd charsets, deep JSON, escapes, `|` in titles.

Each test is the regression test of one defect of issue 12, against a real loopback server.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.models import ErrorKind, ProbeKind
from app.probes import ProbeOptions, probe
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply

FAST = ProbeOptions(timeout=1.0, retries=0)
ROOT = Path(__file__).resolve().parents[1]


def write_config(tmp_path: Path, server: LoopbackServer, *sites: tuple[str, str]) -> Path:
    lines = [f'[provider]\nstatus_page = "{server.url}/status"\n', "[monitor]\ntimeout = 1\n"]
    for name, path in sites:
        lines.append(f'[[site]]\nname = "{name}"\nurl = "{server.url}{path}"\n')
    config = tmp_path / "config.toml"
    config.write_text("".join(lines))
    return config


# ------------------------------------------------------------- defect 1: odd charsets


@pytest.mark.parametrize("charset", ["undefined", "idna", "punycode", "rot13", "no-such"])
def test_an_error_page_in_an_odd_charset_still_gives_its_title(
    server: LoopbackServer, charset: str
) -> None:
    server.route("/", Reply(503, b"<title>Site \xff down</title>",
                            {"Content-Type": f"text/html; charset={charset}"}))
    result = asyncio.run(probe(f"{server.url}/", ProbeKind.ANONYMOUS, FAST))
    assert result.error is ErrorKind.HTTP
    assert result.detail == "503 Site \ufffd down"


def test_check_reports_a_site_whose_error_page_says_charset_undefined(
    tmp_path: Path, server: LoopbackServer, capsys: Any
) -> None:
    server.route("/status/api/v2/summary.json", Reply.json(summary_payload()))
    server.route("/", Reply(503, "<title>Gone</title>",
                            {"Content-Type": "text/html; charset=undefined"}))
    config = write_config(tmp_path, server, ("shop", "/"))
    assert main(["check", "--config", str(config), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["sites"][0]["state"] == "down"
    assert doc["sites"][0]["anonymous"]["detail"] == "503 Gone"


# ------------------------------------------------------ defect 4: deeply nested JSON


@pytest.mark.parametrize("sites", [0, 1])
def test_a_deeply_nested_summary_is_unknown_with_a_reason(
    tmp_path: Path, server: LoopbackServer, capsys: Any, sites: int
) -> None:
    depth = 200_000
    server.route("/status/api/v2/summary.json",
                 Reply(200, "[" * depth + "]" * depth, {"Content-Type": "application/json"}))
    server.route("/", Reply(200, "<title>Shop</title>"))
    config = write_config(tmp_path, server, *[("shop", "/")][:sites])
    code = main(["check", "--config", str(config), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["platform"]["state"] == "unknown"
    assert doc["platform"]["error"] == "status page summary is nested too deeply"
    if sites:
        # The sites answered: their state stands, the platform is reported unknown.
        assert code == 0 and doc["sites"][0]["state"] == "operational"
        assert doc["summary"].endswith("; platform status unknown")
    else:
        # A platform-only check cannot tell: Nagios UNKNOWN.
        assert code == 3 and doc["overall"]["state"] == "unknown"


# ------------------------------------------------- defect 11: terminal escapes from outside

ESCAPES = "\x1b]0;owned\x07\x1b[2J\u009b31m\u202eevil\x7f"
CONTROL_CHARS = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x202E)]


def no_controls(text: str) -> bool:
    return not any(c in text for c in CONTROL_CHARS if c != "\n")


def escaping_site(server: LoopbackServer) -> None:
    server.route("/status/api/v2/summary.json", Reply.json(summary_payload()))
    server.route("/", Reply(503, f"<title>Down {ESCAPES}</title>".encode(),
                            {"X-Styx-Req-Id": "req\u009b1", "X-Cache": "MISS\x85"}))
    server.route("/moved", Reply(302, "", {"Location": "javascript:\u009b2J"}))


def test_check_prints_no_control_character_from_a_server(
    tmp_path: Path, server: LoopbackServer, capsys: Any
) -> None:
    escaping_site(server)
    config = write_config(tmp_path, server, ("shop", "/"), ("moved", "/moved"))
    assert main(["check", "--config", str(config)]) == 2
    out = capsys.readouterr().out
    assert "Down" in out and "owned" in out and "req 1" in out
    assert no_controls(out)
    assert main(["check", "--config", str(config), "--json"]) == 2
    out = capsys.readouterr().out
    assert no_controls(out)
    doc = json.loads(out)
    assert no_controls(json.dumps(doc, ensure_ascii=False))


def test_watch_and_history_print_no_control_character_from_a_server(
    tmp_path: Path, server: LoopbackServer
) -> None:
    escaping_site(server)
    config = write_config(tmp_path, server, ("shop", "/"), ("moved", "/moved"))
    monitor = "timeout = 1\ninterval = 1\nretry_interval = 0.2"
    config.write_text(config.read_text().replace("timeout = 1", monitor))
    env = {**os.environ}
    watch = subprocess.run(
        [sys.executable, "-m", "app", "watch", "--config", str(config), "--duration", "2.5"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
    )
    assert watch.returncode == 0, watch.stderr
    assert "shop" in watch.stdout and "owned" in watch.stdout
    assert no_controls(watch.stdout) and no_controls(watch.stderr)
    for args in (["history"], ["history", "--json"]):
        shown = subprocess.run([sys.executable, "-m", "app", *args], capture_output=True,
                               text=True, timeout=60, cwd=ROOT, env=env)
        assert shown.returncode == 0, shown.stderr
        assert "owned" in shown.stdout and no_controls(shown.stdout)


# ---------------------------------------------- defect 13b: a span beyond the calendar


@pytest.mark.parametrize("span", ["1000000w", "99999999999999999999d", "1" + "0" * 400 + "s"])
def test_history_since_too_far_back_is_one_clear_line(span: str, capsys: Any) -> None:
    assert main(["history", "--since", span]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "reaches back before the year 1" in err


# ------------------------------------------------ defect 14: `|` in plugin output

# One perfdata item per the plugin guidelines: 'label'=value[UOM];[warn];[crit];[min];[max]
PERF_ITEM = re.compile(r"('[^'=|]+'|[^\s'=|]+)=-?[0-9.]+(s|%|B|KB|MB|TB|c)?(;[0-9.]*){0,4}")


def test_no_pipe_from_outside_reaches_the_plugin_output(
    tmp_path: Path, server: LoopbackServer, capsys: Any
) -> None:
    incident = summary_payload()["incidents"]
    server.route("/status/api/v2/summary.json", Reply.json(summary_payload(
        status={"indicator": "minor", "description": "Minor | Partial"},
        incidents=[{**(incident[0] if incident else {}), "id": "i1", "name": "Errors | EU",
                    "status": "investigating", "impact": "minor", "shortlink": ""}],
    )))
    server.route("/", Reply(404, "<title>Page not found | Shop</title>"))
    config = write_config(tmp_path, server, ("shop|x='1'", "/"), ("blog", "/"))
    assert main(["check", "--config", str(config)]) == 2
    first, *long_output = capsys.readouterr().out.splitlines()
    text, perf = first.split(" | ")  # exactly one `|`: the perfdata separator
    assert "Page not found / Shop" in text and "shop/x='1'" in text
    assert re.fullmatch(rf"{PERF_ITEM.pattern}( {PERF_ITEM.pattern})*", perf), perf
    assert "'shop_x_1_ anonymous'=" in perf
    assert not any("|" in line for line in long_output)
    assert any("Page not found / Shop" in line for line in long_output)

    assert main(["check", "--config", str(config), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == text  # the whole line, not cut at a title's `|`
    assert doc["sites"][0]["anonymous"]["detail"] == "404 Page not found | Shop"  # data as is


# ------------------------------------ found by fuzzing: digits that int() refuses, deep TOML


def test_a_latin1_superscript_in_cache_and_retry_headers_is_no_crash(
    tmp_path: Path, server: LoopbackServer, capsys: Any
) -> None:
    # Header bytes arrive as Latin-1: b"\xb2" is "²", a digit to str.isdigit().
    server.route("/status/api/v2/summary.json",
                 Reply(503, "busy", {"Retry-After": "\u00b2"}))
    server.route("/", Reply(200, "<title>Shop</title>",
                            {"Age": "\u00b2", "X-Cache-Hits": "0, \u00b2"}))
    config = write_config(tmp_path, server, ("shop", "/"))
    assert main(["check", "--config", str(config), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sites"][0]["state"] == "operational"
    assert doc["sites"][0]["anonymous"]["cache"] == "miss"
    assert doc["platform"]["state"] == "unknown"


def test_a_config_nested_too_deeply_is_one_line(tmp_path: Path, capsys: Any) -> None:
    config = tmp_path / "config.toml"
    config.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert main(["check", "--config", str(config)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nested too deeply" in err
