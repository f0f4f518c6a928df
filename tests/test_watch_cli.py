"""`lifeline watch` and `lifeline history` as a user runs them: real processes, real servers.

The sites' behaviour changes with time since their first request, so the monitor in the
child process sees an outage begin and end on its own schedule (interval 1 s, the config
minimum; retry_interval 0.2 s).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from app.paths import Paths
from tests.conftest import summary_payload
from tests.loopback import LoopbackServer, Reply, Request, free_port

ROOT = Path(__file__).resolve().parents[1]


def lifeline(*args: str) -> list[str]:
    return [sys.executable, "-m", "app", *args]


def write_config(path: Path, status_page: str, sites: dict[str, str], **monitor: Any) -> Path:
    settings = {"interval": 1, "retry_interval": 0.2, "timeout": 2, **monitor}
    lines = ["[provider]", f'status_page = "{status_page}"', "", "[monitor]"]
    lines += [f"{k} = {v}" for k, v in settings.items()]
    for name, url in sites.items():
        lines += ["", "[[site]]", f'name = "{name}"', f'url = "{url}"']
    path.write_text("\n".join(lines) + "\n")
    return path


class Outage:
    """Up, then down (503) from `start` to `end` seconds after its first request, then up."""

    def __init__(self, server: LoopbackServer, start: float, end: float) -> None:
        self.t0: float | None = None
        self.start, self.end = start, end
        self.lock = threading.Lock()
        server.route("*", self.answer)

    def answer(self, request: Request) -> Reply:
        with self.lock:
            if self.t0 is None:
                self.t0 = time.monotonic()
            age = time.monotonic() - self.t0
        if self.start <= age < self.end:
            return Reply(503, "<title>503 Service Unavailable</title>", {"X-Styx-Req-Id": "r503"})
        return Reply(200, "<title>ok</title>")


class OneInThree:
    def __init__(self, server: LoopbackServer) -> None:
        self.n = 0
        self.lock = threading.Lock()
        server.route("*", self.answer)

    def answer(self, request: Request) -> Reply:
        with self.lock:
            self.n += 1
            n = self.n
        return Reply(502, "<title>502 Bad Gateway</title>") if n % 3 == 0 else Reply(200, "ok")


def run_watch(config: Path, duration: float) -> tuple[list[dict[str, Any]], str, int]:
    proc = subprocess.run(
        lifeline("watch", "--config", str(config), "--json-lines", "--duration", str(duration)),
        capture_output=True,
        text=True,
        timeout=duration + 30,
        cwd=ROOT,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    return events, proc.stderr, proc.returncode


def test_watch_reports_one_down_and_one_recovery_and_nothing_for_a_flaky_site(
    make_server: Any, paths: Paths, tmp_path: Path
) -> None:
    status: LoopbackServer = make_server()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    shop, flaky = make_server(), make_server()
    Outage(shop, start=1.5, end=4.0)
    OneInThree(flaky)
    config = write_config(
        tmp_path / "config.toml", status.url, {"shop": shop.url, "flaky": flaky.url}
    )
    events, stderr, code = run_watch(config, duration=8.5)
    assert code == 0, stderr
    for event in events:
        assert set(event) >= {"at", "event", "site", "from", "to", "point_of_failure", "reason"}
        assert event["event"] in {
            "site_state",
            "platform_state",
            "overall_state",
            "reminder",
            "network",
        }
        assert event["at"].endswith("Z")
    shop_changes = [(e["from"], e["to"]) for e in events if e["site"] == "shop"]
    assert shop_changes == [(None, "operational"), ("operational", "down"), ("down", "operational")]
    down = next(e for e in events if e["site"] == "shop" and e["to"] == "down")
    assert down["point_of_failure"] == "site" and "503" in down["reason"]
    assert [(e["from"], e["to"]) for e in events if e["site"] == "flaky"] == [(None, "operational")]
    overall = [e["to"] for e in events if e["event"] == "overall_state"]
    assert overall == ["operational", "down", "operational"]
    assert [e["to"] for e in events if e["event"] == "platform_state"] == ["operational"]

    # The history was flushed on exit: `lifeline history` shows the same transitions.
    out = subprocess.run(
        lifeline("history", "--json", "--site", "shop"),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [t["to"] for t in doc["transitions"]] == ["operational", "down", "operational"]
    assert doc["transitions"][1]["evidence"]["anonymous"]["request_id"] == "r503"
    uptime = doc["sites"][0]["uptime_24h"]
    assert uptime is not None and 0.3 < uptime < 0.9
    text = subprocess.run(lifeline("history"), capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert text.returncode == 0
    assert "shop: operational -> down" in text.stdout and "[request id r503]" in text.stdout


def test_watch_with_everything_unreachable_reports_the_network(tmp_path: Path) -> None:
    sites = {f"s{i}": f"http://127.0.0.1:{free_port()}/" for i in range(3)}
    config = write_config(tmp_path / "c.toml", f"http://127.0.0.1:{free_port()}", sites)
    events, stderr, code = run_watch(config, duration=3)
    assert code == 0, stderr
    assert [(e["event"], e["to"]) for e in events if e["event"] == "network"] == [
        ("network", "offline")
    ]
    assert not [e for e in events if e["event"] == "site_state"]
    overall = [e for e in events if e["event"] == "overall_state"]
    assert [(e["to"], e["point_of_failure"]) for e in overall] == [("unknown", "network")]


def test_watch_stops_cleanly_on_sigterm_and_sigint(make_server: Any, tmp_path: Path) -> None:
    status: LoopbackServer = make_server()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    site: LoopbackServer = make_server()
    site.route("*", Reply(200, "ok"))
    config = write_config(tmp_path / "c.toml", status.url, {"shop": site.url})
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc = subprocess.Popen(
            lifeline("watch", "--config", str(config)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the first event: the monitor is running
        assert "platform" in first or "site" in first
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert "Traceback" not in err


def test_watch_config_errors_are_one_line_exit_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[monitor]\nintervall = 5\n")
    proc = subprocess.run(
        lifeline("watch", "--config", str(bad), "--duration", "1"),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "intervall" in lines[0] and "interval" in lines[0]
    missing = subprocess.run(
        lifeline("watch", "--config", str(tmp_path / "none.toml")),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert missing.returncode == 3 and len(missing.stderr.strip().splitlines()) == 1


def test_history_without_a_file_and_with_bad_input(paths: Paths) -> None:
    env = dict(os.environ)
    proc = subprocess.run(
        lifeline("history"), capture_output=True, text=True, timeout=30, cwd=ROOT, env=env
    )
    assert proc.returncode == 0 and "No history yet" in proc.stdout
    assert not paths.history_db.exists()  # reading never creates it
    bad = subprocess.run(
        lifeline("history", "--since", "yesterday"),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert bad.returncode == 3 and "--since" in bad.stderr


def test_every_event_has_its_line() -> None:
    from datetime import UTC, datetime

    from app.eventlines import json_line, text_line
    from app.events import (
        CheckCompleted,
        MonitorError,
        NetworkChanged,
        PlatformStateChanged,
        Reminder,
        SitePending,
    )
    from app.models import Incident, PlatformState, PlatformStatus, SiteState

    at = datetime(2026, 11, 27, 8, 0, 5, 123456, tzinfo=UTC)
    outage = PlatformStatus(
        state=PlatformState.OUTAGE,
        incidents=(Incident("Dashboard unavailable", "critical", "identified", ""),),
    )
    platform = PlatformStateChanged(at, PlatformState.OPERATIONAL, PlatformState.OUTAGE, outage)
    assert json.loads(json_line(platform) or "") == {
        "at": "2026-11-27T08:00:05Z",
        "event": "platform_state",
        "site": None,
        "from": "operational",
        "to": "outage",
        "point_of_failure": "platform",
        "reason": "Dashboard unavailable (critical, identified)",
    }
    reminder = json.loads(json_line(Reminder(at, "shop", SiteState.DOWN, at, "503")) or "")
    assert (reminder["event"], reminder["site"], reminder["to"]) == ("reminder", "shop", "down")
    assert reminder["point_of_failure"] == "site"
    assert "since 2026-11-27T08:00:05Z" in reminder["reason"]
    lost = json.loads(json_line(NetworkChanged(at, available=False, reason="x")) or "")
    assert (lost["from"], lost["to"], lost["point_of_failure"]) == ("online", "offline", "network")
    pending = SitePending(at, "shop", SiteState.DOWN, "503")
    assert json_line(pending) is None  # not part of the JSON-lines contract
    assert "pending" in (text_line(pending) or "") and "looks down" in (text_line(pending) or "")
    assert json_line(CheckCompleted(at)) is None and text_line(CheckCompleted(at)) is None
    assert "boom" in (text_line(MonitorError(at, "boom")) or "")
    assert text_line(platform) == (
        "2026-11-27T08:00:05Z platform  operational -> outage - "
        "Dashboard unavailable (critical, identified)"
    )


def test_a_corrupt_history_file_costs_history_not_monitoring(
    make_server: Any, paths: Paths, tmp_path: Path
) -> None:
    status: LoopbackServer = make_server()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    site: LoopbackServer = make_server()
    site.route("*", Reply(200, "ok"))
    paths.history_db.parent.mkdir(parents=True, exist_ok=True)
    paths.history_db.write_bytes(b"not a database " * 200)
    config = write_config(tmp_path / "c.toml", status.url, {"shop": site.url})
    events, stderr, code = run_watch(config, duration=2)
    assert code == 0
    assert [e["to"] for e in events if e["site"] == "shop"] == ["operational"]
    assert "history" in stderr and "Traceback" not in stderr
    proc = subprocess.run(lifeline("history"), capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert proc.returncode == 3 and "history file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
