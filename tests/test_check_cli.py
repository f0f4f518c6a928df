"""`lifeline check` end to end: real servers on 127.0.0.1, in-process and as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from app.check import run_check
from app.cli import main
from app.config import parse_config
from app.models import OverallState, PointOfFailure, SiteState
from app.probes import ProbeOptions
from tests.conftest import summary_payload
from tests.loopback import Drip, Hang, LoopbackServer, Reply, Request, Stream

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "loopback-cases.toml"

EXPECTED = {
    "ok": ("operational", None),
    "cached-origin-down": ("editors_blocked", "http"),
    "bad-gateway": ("down", "http"),
    "db-down": ("down", "http"),
    "missing-page": ("down", "http"),
    "slow": ("degraded", None),
    "hang": ("down", "timeout"),
    "drip": ("down", "timeout"),
    "refused": ("down", "refused"),
    "bad-tls": ("down", "tls"),
    "redirect-loop": ("down", "redirects"),
    "huge": ("operational", None),
    "gzip-bomb": ("operational", None),
}


def cached_origin_down(req: Request) -> Reply:
    if "NO_CACHE=1" in req.headers.get("Cookie", ""):
        return Reply(503, "<title>503 Database not Responding</title>", {"X-Cache": "MISS"})
    return Reply(200, "<title>Shop</title>", {"X-Cache": "HIT", "Age": "42",
                                              "X-Styx-Req-Id": "edge-1"})


def gzip_zeros(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(megabytes)) + packer.flush()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_zeros(64)


def serve_cases(srv: LoopbackServer, bomb: bytes, summary: Any) -> None:
    srv.route("/status/api/v2/summary.json", Reply.json(summary))
    srv.route("/ok", Reply(200, "<title>fine</title>", {"X-Cache": "MISS"}))
    srv.route("/cached", cached_origin_down)
    srv.route("/502", Reply(502, ""))
    srv.route("/503", Reply(503, "<html><title>503 Database not Responding</title></html>",
                            {"Pantheon-Trace-Id": "trace-503"}))
    srv.route("/404", Reply(404, "<title>Page not found | Shop</title>"))
    srv.route("/slow", Reply(200, "late", delay=1.2))
    srv.route("/hang", Hang())
    srv.route("/drip", Drip(interval=0.1))
    srv.route("/loop", Reply(302, "", {"Location": "/loop"}))
    srv.route("/huge", Stream(64 * 1024 * 1024))
    srv.route("/bomb", Reply(200, bomb, {"Content-Encoding": "gzip"}))


@pytest.fixture
def cases_config(
    tmp_path: Path, make_server: Any, tls_server: LoopbackServer, bomb: bytes
) -> tuple[Path, LoopbackServer]:
    srv: LoopbackServer = make_server()
    serve_cases(srv, bomb, summary_payload())
    tls_server.route("/", Reply(200, "secure but not trusted"))
    text = EXAMPLE.read_text()
    text = text.replace("127.0.0.1:8765", f"127.0.0.1:{srv.port}")
    text = text.replace("localhost:8443", f"localhost:{tls_server.port}")
    path = tmp_path / "cases.toml"
    path.write_text(text)
    return path, srv


def assert_cases(doc: dict[str, Any]) -> None:
    states = {s["name"]: (s["state"], s["anonymous"]["error"] or s["backend"]["error"])
              for s in doc["sites"]}
    assert states == EXPECTED
    sites = {s["name"]: s for s in doc["sites"]}
    assert sites["db-down"]["anonymous"]["detail"] == "503 Database not Responding"
    assert sites["db-down"]["anonymous"]["request_id"] == "trace-503"
    assert sites["db-down"]["environment"] == "test"
    assert sites["missing-page"]["anonymous"]["detail"] == "404 Page not found | Shop"
    assert sites["missing-page"]["backend"]["error"] is None  # the origin is alive
    blocked = sites["cached-origin-down"]
    assert blocked["anonymous"]["cache"] == "hit" and blocked["anonymous"]["error"] is None
    assert blocked["backend"]["detail"] == "503 Database not Responding"
    # Pantheon's "Database not Responding" page is platform-side: evidence on its own.
    assert blocked["point_of_failure"] == "platform"
    assert blocked["platform_evidence"] == "error_page"
    assert sites["missing-page"]["platform_evidence"] is None
    assert sites["ok"]["point_of_failure"] == "none"
    assert doc["overall"] == {"state": "down", "point_of_failure": "site"}
    assert doc["platform"]["state"] == "operational"


def test_every_case_in_process(cases_config: tuple[Path, LoopbackServer], capsys: Any) -> None:
    path, _ = cases_config
    code = main(["check", "--config", str(path), "--json"])
    out, err = capsys.readouterr()
    assert code == 2, err
    doc = json.loads(out)
    assert_cases(doc)
    # The documented shape, key by key (more keys are allowed).
    assert {"checked_at", "overall", "platform", "sites"} <= doc.keys()
    assert doc["checked_at"].endswith("Z") and len(doc["checked_at"]) == 20
    assert {"state", "indicator", "description", "incidents", "maintenances", "components",
            "error"} <= doc["platform"].keys()
    for site in doc["sites"]:
        assert {"name", "url", "environment", "state", "point_of_failure", "reason",
                "anonymous", "backend"} <= site.keys()
        assert site["reason"] and "\n" not in site["reason"]
        for probe in (site["anonymous"], site["backend"]):
            assert {"url", "status", "seconds", "cache", "request_id", "error",
                    "detail"} <= probe.keys()
            assert probe["cache"] in ("hit", "miss", "unknown")
            assert probe["seconds"] < 1.6 + 0.5  # nothing runs past its deadline


def test_every_case_as_a_subprocess(cases_config: tuple[Path, LoopbackServer]) -> None:
    path, _ = cases_config
    done = subprocess.run(
        [sys.executable, "-m", "app", "check", "--config", str(path), "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert_cases(json.loads(done.stdout))


def test_text_output_opens_with_a_nagios_line(
    cases_config: tuple[Path, LoopbackServer], capsys: Any
) -> None:
    path, _ = cases_config
    code = main(["check", "--config", str(path), "--site", "bad-gateway", "--site", "ok"])
    out, _ = capsys.readouterr()
    assert code == 2
    first, *rest = out.splitlines()
    summary, perf = first.split(" | ")
    assert summary == "LIFELINE CRITICAL - 1 of 2 sites down (bad-gateway: 502 Bad Gateway)"
    assert "sites=2;;;0" in perf and "down=1;;;0" in perf and "'ok anonymous'=" in perf
    table = "\n".join(rest)
    assert "bad-gateway" in table and "Platform: operational" in table
    assert "hang" not in table  # --site limits the check


@pytest.mark.parametrize(
    ("site", "code", "word"),
    [
        ("ok", 0, "OK"),
        ("slow", 1, "WARNING"),
        ("cached-origin-down", 1, "WARNING"),
        ("refused", 2, "CRITICAL"),
    ],
)
def test_exit_codes_follow_nagios(
    cases_config: tuple[Path, LoopbackServer], capsys: Any, site: str, code: int, word: str
) -> None:
    path, _ = cases_config
    assert main(["check", "--config", str(path), "--site", site]) == code
    assert capsys.readouterr().out.startswith(f"LIFELINE {word} - ")


def test_platform_maintenance_exits_0_and_says_so(
    tmp_path: Path, server: LoopbackServer, capsys: Any
) -> None:
    summary = summary_payload(
        status={"indicator": "maintenance", "description": "Under maintenance"},
        scheduled_maintenances=[{"id": "m1", "name": "Database upgrade", "status": "in_progress"}],
    )
    server.route("/api/v2/summary.json", Reply.json(summary))
    server.route("/", Reply(200, "ok"))
    path = tmp_path / "c.toml"
    path.write_text(
        f'[provider]\nstatus_page = "{server.url}"\n[monitor]\ntimeout = 1\n'
        f'[[site]]\nname = "a"\nurl = "{server.url}/"\n'
    )
    assert main(["check", "--config", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["overall"]["state"] == "maintenance"
    assert doc["platform"]["maintenances"][0]["name"] == "Database upgrade"


def test_offline_is_unknown_not_down(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "offline.toml"
    path.write_text(
        '[provider]\nstatus_page = "http://127.0.0.1:1"\n'
        '[monitor]\ntimeout = 0.5\ncanaries = ["http://127.0.0.1:1/"]\n'
        '[[site]]\nname = "a"\nurl = "http://127.0.0.1:1/a"\n'
        '[[site]]\nname = "b"\nurl = "http://127.0.0.1:1/b"\n'
    )
    assert main(["check", "--config", str(path), "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["overall"] == {"state": "unknown", "point_of_failure": "network"}
    assert {s["state"] for s in doc["sites"]} == {"unknown"}
    assert doc["canaries_ok"] is False


def test_a_working_canary_turns_unknown_into_down(
    tmp_path: Path, server: LoopbackServer, capsys: Any
) -> None:
    server.route("/", Reply(204, ""))
    path = tmp_path / "canary.toml"
    path.write_text(
        '[provider]\nstatus_page = "http://127.0.0.1:1"\n'
        f'[monitor]\ntimeout = 0.5\ncanaries = ["{server.url}/"]\n'
        '[[site]]\nname = "a"\nurl = "http://127.0.0.1:1/a"\n'
    )
    assert main(["check", "--config", str(path), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["overall"]["state"] == "down" and doc["canaries_ok"] is True


def test_unknown_site_name_is_one_line_and_exit_3(
    cases_config: tuple[Path, LoopbackServer], capsys: Any
) -> None:
    path, srv = cases_config
    assert main(["check", "--config", str(path), "--site", "nope"]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "no site named 'nope'" in err
    assert srv.requests == []  # nothing was probed


def test_trusted_tls_through_ssl_cert_file(
    tmp_path: Path, tls_server: LoopbackServer, tls_ca: Any
) -> None:
    """The same untrusted server is fine once the user's trust store includes its CA."""
    tls_server.route("/", Reply(200, "ok"))
    tls_server.route("/api/v2/summary.json", Reply.json(summary_payload()))
    ca = tmp_path / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(ca))
    path = tmp_path / "tls.toml"
    path.write_text(
        f'[provider]\nstatus_page = "{tls_server.url}"\n[monitor]\ntimeout = 2\n'
        f'[[site]]\nname = "secure"\nurl = "{tls_server.url}/"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "app", "check", "--config", str(path), "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "SSL_CERT_FILE": str(ca)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["overall"]["state"] == "operational"
    assert doc["platform"]["state"] == "operational"


# --------------------------------------------------------------------------- deadlines


def twenty_sites(srv: LoopbackServer, timeout: float, retries: int) -> str:
    srv.route("/api/v2/summary.json", Reply.json(summary_payload()))
    srv.route("/fine", Reply(200, "ok"))
    srv.route("/hang", Hang())
    lines = [f'[provider]\nstatus_page = "{srv.url}"',
             f"[monitor]\ntimeout = {timeout}\nretries = {retries}\nslow = 10"]
    for n in range(20):
        route = "hang" if n % 4 == 0 else "fine"
        lines.append(f'[[site]]\nname = "site{n}"\nurl = "{srv.url}/{route}?{n}"')
    return "\n".join(lines) + "\n"


def test_hanging_sites_cost_one_deadline_not_one_each(server: LoopbackServer) -> None:
    config = parse_config(twenty_sites(server, timeout=1.0, retries=1))
    start = time.monotonic()
    report = asyncio.run(run_check(config, options=ProbeOptions(timeout=1.0, retries=1)))
    elapsed = time.monotonic() - start
    # 5 of 20 hang: timeout x (retries + 1) = 2 s, plus a second of slack.
    assert elapsed < 1.0 * 2 + 1.0
    assert elapsed >= 1.9  # the retry really ran
    states = [s.state for s in report.sites]
    assert states.count(SiteState.DOWN) == 5 and states.count(SiteState.OPERATIONAL) == 15
    assert report.overall is OverallState.DOWN
    assert report.point_of_failure is PointOfFailure.SITE
    assert all(s.anonymous.attempts == 2 for s in report.sites if s.state is SiteState.DOWN)


def test_hanging_sites_through_the_cli(tmp_path: Path, server: LoopbackServer) -> None:
    path = tmp_path / "twenty.toml"
    path.write_text(twenty_sites(server, timeout=0.5, retries=1))
    start = time.monotonic()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "lifeline"), "check", "--config", str(path), "--json"]
        if (ROOT / ".venv" / "bin" / "lifeline").exists()
        else [sys.executable, "-m", "app", "check", "--config", str(path), "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    wall = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    doc = json.loads(done.stdout)
    assert doc["duration"] < 0.5 * 2 + 1.0
    assert wall < 0.5 * 2 + 1.0 + 5.0  # plus interpreter start-up on a busy machine
    assert sum(s["state"] == "down" for s in doc["sites"]) == 5


# --------------------------------------------------------------------------- report text


def _report(*sites: tuple[str, SiteState], platform: Any = None) -> Any:
    from datetime import UTC, datetime

    from app.config import Config, SiteConfig
    from app.impact import assess
    from app.models import (
        CacheVerdict,
        ErrorKind,
        PlatformState,
        PlatformStatus,
        ProbeKind,
        ProbeResult,
    )

    def probe(kind: ProbeKind, good: bool, seconds: float = 0.1) -> ProbeResult:
        if good:
            return ProbeResult(kind, "u", "u", True, 200, seconds, CacheVerdict.HIT,
                               request_id="rid-1")
        return ProbeResult(kind, "u", "u", False, 502, 0.1, error=ErrorKind.HTTP,
                           detail="502 Bad Gateway")

    pairs = {
        SiteState.OPERATIONAL: (True, True, 0.1),
        SiteState.DOWN: (False, False, 0.1),
        SiteState.EDITORS_BLOCKED: (True, False, 0.1),
        SiteState.DEGRADED: (True, True, 5.0),
    }
    probes = {}
    for name, state in sites:
        anon_ok, back_ok, secs = pairs[state]
        probes[name] = (probe(ProbeKind.ANONYMOUS, anon_ok, secs),
                        probe(ProbeKind.BACKEND, back_ok))
    config = Config(sites=tuple(SiteConfig(name=n, url=f"https://{n}.example/")
                                for n, _ in sites))
    return assess(config, probes, platform or PlatformStatus(PlatformState.OPERATIONAL, "none"),
                  canaries_ok=None, checked_at=datetime(2026, 11, 27, 8, tzinfo=UTC))


def test_nagios_line_names_each_bad_state_worst_first() -> None:
    from app.report import nagios_summary

    report = _report(("a", SiteState.OPERATIONAL), ("b", SiteState.EDITORS_BLOCKED),
                     ("c", SiteState.DOWN), ("d", SiteState.DEGRADED))
    line, perf = nagios_summary(report).split(" | ")
    assert line == (
        "LIFELINE CRITICAL - 1 of 4 sites down (c: 502 Bad Gateway); "
        "1 editors blocked (b: 502 Bad Gateway); 1 degraded (d: slow, 5.0 s)"
    )
    assert perf.startswith("sites=4;;;0 down=1;;;0 editors_blocked=1;;;0 degraded=1;;;0 ")
    assert "'d anonymous'=5.000s;;;0" in perf


def test_nagios_line_for_platform_trouble_and_odd_names() -> None:
    from app.models import Incident, PlatformState, PlatformStatus
    from app.report import format_report, nagios_summary, report_to_json

    outage = PlatformStatus(
        PlatformState.OUTAGE, "minor", "Partial outage",
        incidents=(Incident("Sites return 503", "major", "identified", "https://stspg.io/x"),),
    )
    report = _report(("it's=fine", SiteState.OPERATIONAL), platform=outage)
    line, perf = nagios_summary(report).split(" | ")
    assert line == ("LIFELINE WARNING - 1 of 1 sites operational; "
                    "platform outage: Sites return 503")
    assert "'it_s_fine anonymous'=0.100s;;;0" in perf
    text = format_report(report)
    assert "incident: Sites return 503 [major, identified] https://stspg.io/x" in text
    doc = report_to_json(report)
    assert doc["overall"] == {"state": "degraded", "point_of_failure": "platform"}
    assert doc["exit_code"] == 1 and doc["summary"] == line
    json.dumps(doc)  # serialisable as it is


def test_many_sites_in_one_state_are_summarised() -> None:
    from app.report import nagios_summary

    report = _report(*((f"s{i}", SiteState.DOWN) for i in range(5)))
    line = nagios_summary(report).split(" | ")[0]
    assert line.startswith("LIFELINE CRITICAL - 5 of 5 sites down (s0: 502 Bad Gateway, ")
    assert line.endswith(", +2 more)")


def test_text_report_survives_a_non_utf8_terminal(
    cases_config: tuple[Path, LoopbackServer]
) -> None:
    path, _ = cases_config
    done = subprocess.run(
        [sys.executable, "-m", "app", "check", "--config", str(path), "--site", "bad-tls"],
        capture_output=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert done.returncode == 2, done.stderr
    assert b"Traceback" not in done.stderr
    assert b"LIFELINE CRITICAL - 1 of 1 sites down (bad-tls: tls: certificate" in done.stdout
    assert b"unable to? " in done.stdout  # the ellipsis became '?'


def test_check_timeout_prints_a_proper_result_by_the_deadline(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """`-t 3`: an engine that kills the plugin at 3 s still gets CRITICAL, not UNKNOWN.

    Probes that would take 20 s x 2 attempts stop at the check's deadline and count as
    timed out; the sites that answered keep their state.
    """
    server.route("/fine", Reply(200, "ok"))
    server.route("/hang", Hang())
    server.route("/status/api/v2/summary.json", Hang())
    path = tmp_path / "slow.toml"
    path.write_text(
        f'[provider]\nstatus_page = "{server.url}/status"\n'
        "[monitor]\ntimeout = 20\nretries = 1\n"
        f'[[site]]\nname = "up"\nurl = "{server.url}/fine"\n'
        f'[[site]]\nname = "stuck"\nurl = "{server.url}/hang"\n'
    )
    start = time.monotonic()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "lifeline"), "check", "--config", str(path), "--json",
         "-t", "3"],
        capture_output=True, text=True, timeout=60,
    )
    elapsed = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    assert elapsed < 3.0 + 1.0  # the deadline, and slack for a loaded machine
    doc = json.loads(done.stdout)
    sites = {s["name"]: s for s in doc["sites"]}
    assert sites["up"]["state"] == "operational"
    stuck = sites["stuck"]["anonymous"]
    assert sites["stuck"]["state"] == "down" and stuck["error"] == "timeout"
    assert stuck["detail"].startswith("no answer within the check's deadline")
    assert doc["platform"]["state"] == "unknown"
    assert "deadline" in doc["platform"]["error"]


@pytest.mark.parametrize("value", ["0", "-5", "abc", "nan", "1e9"])
def test_check_timeout_must_be_seconds(value: str, capsys: Any) -> None:
    assert main(["check", f"--timeout={value}"]) == 3
    assert "is not a number of seconds" in capsys.readouterr().err


def test_missing_config_points_to_what_exists_and_json_is_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 20 item 5: the packaged app has no examples/ folder; --json answers JSON."""
    absent = tmp_path / "absent.toml"
    assert main(["check", "--config", str(absent)]) == 3
    out, err = capsys.readouterr()
    assert out == "" and "examples/" not in err and "Settings" in err
    assert main(["check", "--json", "--config", str(absent)]) == 3
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["exit_code"] == 3 and doc["overall"]["state"] == "unknown"
    assert doc["error"]["kind"] == "config_missing" and doc["error"]["file"] == str(absent)
    assert len(err.strip().splitlines()) == 1
