"""`lifeline --self-test` from source: every step passes here, and a broken install fails.

The frozen app runs the same self-test in tests/test_package.py (slow).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ui import selftest

ROOT = Path(__file__).resolve().parents[1]
STEPS = ["qt", "icons", "modules", "resources", "keyring", "check", "autostart", "startup"]


def run_in_process(monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # restored after the test
    out = io.StringIO()
    code = selftest.self_test(out=out)
    return code, out.getvalue().splitlines()


def step_lines(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        for prefix in ("ok  ", "FAIL "):
            if line.startswith(prefix):
                name, _, detail = line.removeprefix(prefix).partition(": ")
                found[name] = prefix.strip() + " " + detail
    return found


def test_every_step_passes_in_process(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = run_in_process(monkeypatch)
    steps = step_lines(lines)
    assert code == 0, "\n".join(lines)
    assert list(steps) == STEPS
    assert all(detail.startswith("ok ") for detail in steps.values()), steps
    assert steps["icons"] == "ok 6 states x 6 sizes rendered"
    # conftest's in-memory keyring is a usable backend, and the self-test names it.
    assert steps["keyring"].startswith("ok backend tests.memory_keyring.MemoryKeyring")
    assert "operational" in steps["check"] and "127.0.0.1" in steps["check"]
    assert lines[-1] == "self-test passed"


def test_missing_resources_fail_that_step_and_the_run(
    qapp: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # What a bundle built without resources/ looks like: nothing to find anywhere.
    monkeypatch.setattr(selftest, "resource_dirs", lambda: [tmp_path / "nothing-here"])
    code, lines = run_in_process(monkeypatch)
    steps = step_lines(lines)
    assert code == 1
    assert steps["resources"].startswith("FAIL no desktop entry and app icon found")
    # The other steps still ran and passed: one broken part does not hide the rest.
    assert all(steps[name].startswith("ok ") for name in STEPS if name != "resources")
    assert lines[-1] == "self-test FAILED: resources"


def test_a_corrupt_icon_is_reported(
    qapp: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", copy)
    broken = next(copy.glob("icons/hicolor/48x48/apps/*.png"))
    broken.write_bytes(broken.read_bytes()[:100])  # truncated, as by a bad download
    monkeypatch.setattr(selftest, "resource_dirs", lambda: [copy])
    code, lines = run_in_process(monkeypatch)
    assert code == 1
    assert step_lines(lines)["resources"] == f"FAIL {broken} does not load as a 48 px PNG"


def test_cli_flag_from_source_without_a_keyring() -> None:
    """`python -m app --self-test`: the real CLI path, with keyring's fail backend."""
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # the self-test sets offscreen itself
    env.pop("DISPLAY", None)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    steps = step_lines(proc.stdout.splitlines())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert list(steps) == STEPS
    # No keyring is not a broken install: said, not failed.
    assert steps["keyring"].startswith("ok no usable backend here")
    assert "Traceback" not in proc.stderr
    assert proc.stdout.splitlines()[0].startswith("lifeline ")
    assert "(Python package," in proc.stdout.splitlines()[0]


def test_c_locale_adds_no_qt_warning_to_the_report() -> None:
    """Issue 20: under LC_ALL=C, Qt's "Detected locale "C"..." lines landed in the middle
    of the report (stderr and stdout share a terminal)."""
    env = dict(os.environ, LC_ALL="C", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--self-test"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stdout
    assert "locale" not in proc.stdout.lower(), proc.stdout
    assert list(step_lines(proc.stdout.splitlines())) == STEPS


def test_process_age_counts_from_process_start() -> None:
    age, origin = selftest.process_age()
    if sys.platform.startswith("linux"):
        assert origin == "process start"
    # The test process has been running for a while, but not for hours.
    assert 0.0 < age < 3600


def test_loopback_server_serves_a_summary_the_parser_accepts() -> None:
    import json
    import urllib.request

    from app.models import PlatformState
    from app.statuspage import parse_summary

    with selftest.loopback_server() as server:
        host, port = server.server_address[:2]
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(f"http://{host}:{port}/api/v2/summary.json", timeout=5) as reply:
            data = json.load(reply)
    assert parse_summary(data).state is PlatformState.OPERATIONAL


def test_a_module_left_out_of_the_build_is_named(
    qapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes the import fail, as a module PyInstaller did not
    # collect does in a frozen app.
    monkeypatch.setitem(sys.modules, "ui.status_window", None)
    code, lines = run_in_process(monkeypatch)
    detail = step_lines(lines)["modules"]
    assert code == 1
    assert detail.startswith("FAIL 1 of ") and "ui.status_window (ModuleNotFoundError" in detail


def test_a_platform_plugin_that_cannot_load_is_named(tmp_path: Path) -> None:
    platforms = tmp_path / "platforms"
    platforms.mkdir()
    (platforms / "libqxcb.so").write_bytes(b"not a shared library")
    with pytest.raises(selftest.StepFailed, match="libqxcb.so cannot load: "):
        selftest._check_loadable([platforms], "libqxcb.so")
    assert selftest._check_loadable([tmp_path / "elsewhere"], "libqxcb.so") is False
