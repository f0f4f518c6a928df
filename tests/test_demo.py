"""The demo simulator: real checks against it move through every state and back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest

from app.check import run_check
from app.config import load_config
from app.demo import PHASES, SITES, start, start_demo, summary
from app.models import OverallState, PlatformState, PointOfFailure, SiteState
from app.statuspage import parse_summary

EXPECTED: dict[str, tuple[OverallState, PlatformState, dict[str, SiteState]]] = {
    "operational": (OverallState.OPERATIONAL, PlatformState.OPERATIONAL, {}),
    "degraded": (OverallState.DEGRADED, PlatformState.OPERATIONAL,
                 {"shop": SiteState.DEGRADED}),
    "editors_blocked": (OverallState.EDITORS_BLOCKED, PlatformState.OPERATIONAL,
                        {"shop": SiteState.EDITORS_BLOCKED}),
    "down": (OverallState.DOWN, PlatformState.OPERATIONAL,
             {"shop": SiteState.DOWN, "blog": SiteState.EDITORS_BLOCKED}),
    "maintenance": (OverallState.MAINTENANCE, PlatformState.MAINTENANCE, {}),
}


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.read_by_server = threading.Event()  # the server reads it on every request

    def __call__(self) -> float:
        if threading.current_thread() is not threading.main_thread():
            self.read_by_server.set()
        return self.now


def test_checks_see_every_phase_in_order_and_then_the_cycle_again(tmp_path: Path) -> None:
    clock = ManualClock()
    with start_demo(tmp_path, phase_seconds=10.0, clock=clock) as demo:
        seen = []
        for step in range(len(PHASES) + 1):  # one full cycle, then back to the start
            clock.now = 1000.0 + step * 10.0 + 5.0
            report = asyncio.run(run_check(demo.config))
            phase = demo.phase
            seen.append(report.overall)
            overall, platform, troubled = EXPECTED[phase]
            assert report.overall is overall, (phase, report)
            assert report.platform.state is platform
            states = {s.name: s.state for s in report.sites}
            assert states == {name: troubled.get(name, SiteState.OPERATIONAL) for name in SITES}
            for site in report.sites:
                if site.state is not SiteState.OPERATIONAL:
                    assert site.point_of_failure is PointOfFailure.SITE
        assert seen == [EXPECTED[p][0] for p in (*PHASES, PHASES[0])]


def test_what_the_probes_record_in_each_bad_phase(tmp_path: Path) -> None:
    clock = ManualClock()
    with start_demo(tmp_path, phase_seconds=10.0, clock=clock) as demo:
        clock.now += 2 * 10.0  # editors_blocked
        shop = asyncio.run(run_check(demo.config)).site("shop")
        assert shop is not None
        assert shop.anonymous.ok and shop.anonymous.cache.value == "hit"
        assert not shop.backend.ok and shop.backend.status == 503
        assert shop.backend.detail.startswith("503")
        assert shop.backend.request_id and shop.backend.styx_hostname == "styx-demo-1"

        clock.now += 10.0  # down: the error page's <title> becomes the detail
        shop = asyncio.run(run_check(demo.config)).site("shop")
        assert shop is not None
        assert shop.anonymous.status == 502
        assert "PHP backend" in shop.anonymous.detail

        clock.now += 10.0  # maintenance: the in-progress maintenance is listed
        platform = asyncio.run(run_check(demo.config)).platform
        assert [m.status for m in platform.maintenances] == ["in_progress"]
        assert platform.description == "Service Under Maintenance"


def test_the_phases_advance_on_a_real_clock(tmp_path: Path) -> None:
    with start_demo(tmp_path, phase_seconds=0.2) as demo:
        seen: list[str] = [demo.phase]
        deadline = time.monotonic() + 5
        while len(seen) < len(PHASES) + 1 and time.monotonic() < deadline:
            if demo.phase != seen[-1]:
                seen.append(demo.phase)
            time.sleep(0.01)
        assert seen == [*PHASES, PHASES[0]]


def test_summary_is_the_documented_schema() -> None:
    for phase in PHASES:
        data = summary(phase, "http://127.0.0.1:1")
        assert set(data) >= {"page", "components", "incidents", "scheduled_maintenances", "status"}
        maintenance = phase == "maintenance"
        expected = PlatformState.MAINTENANCE if maintenance else PlatformState.OPERATIONAL
        assert parse_summary(data).state is expected
        # the same key set as a real page's components
        real = json.loads(
            (Path(__file__).parent / "data" / "statuspage" / "summary-operational.json").read_text()
        )
        assert set(data["components"][0]) == set(real["components"][0])


def test_the_written_config_drives_the_cli(tmp_path: Path) -> None:
    clock = ManualClock()
    with start_demo(tmp_path, phase_seconds=10.0, clock=clock) as demo:
        assert load_config(demo.config_path) == demo.config
        assert demo.config.monitor.failures_to_alert == 1
        clock.now += 3 * 10.0  # down
        proc = subprocess.run(
            [sys.executable, "-m", "app", "check", "--config", str(demo.config_path), "--json"],
            capture_output=True, text=True, timeout=30,
        )
        assert proc.returncode == 2, proc.stderr  # Nagios CRITICAL
        assert json.loads(proc.stdout)["overall"]["state"] == "down"


def test_backend_is_told_apart_by_the_no_cache_cookie(tmp_path: Path) -> None:
    clock = ManualClock()
    with start_demo(tmp_path, phase_seconds=10.0, clock=clock) as demo:
        clock.now += 2 * 10.0  # editors_blocked
        url = f"{demo.url}/sites/shop/"
        with httpx2.Client() as client:
            assert client.get(url).status_code == 200
            assert client.get(url, headers={"Cookie": "NO_CACHE=1"}).status_code == 503
            assert client.get(url, headers={"Cookie": "a=b; NO_CACHE=1"}).status_code == 503
            assert client.get(f"{demo.url}/nowhere").status_code == 404


def test_stop_frees_the_port_even_with_a_slow_answer_in_flight(tmp_path: Path) -> None:
    clock = ManualClock()
    demo = start_demo(tmp_path, phase_seconds=10.0, clock=clock)
    clock.now += 10.0  # degraded: shop answers after SLOW_DELAY
    port = int(demo.url.rsplit(":", 1)[1])

    def slow_request() -> None:
        with contextlib.suppress(httpx2.HTTPError):  # cut off by stop(): expected
            httpx2.get(f"{demo.url}/sites/shop/", timeout=5)

    worker = threading.Thread(target=slow_request)
    worker.start()
    assert clock.read_by_server.wait(5)  # the request is being answered (slowly)
    started = time.monotonic()
    demo.stop()
    worker.join(timeout=5)
    assert time.monotonic() - started < 1.5
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    demo.stop()  # idempotent


def test_start_without_a_folder_uses_a_temporary_one_and_cleans_it_up() -> None:
    demo = start()  # what `lifeline --demo` calls
    folder = demo.config_path.parent
    assert demo.config_path.is_file()
    assert load_config(demo.config_path).sites == demo.config.sites
    demo.stop()
    assert not folder.exists()
