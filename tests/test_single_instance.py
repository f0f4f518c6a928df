"""One instance per user: a second launch signals the first and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.paths import Paths
from ui.single_instance import SingleInstance

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def first(qapp: Any, paths: Paths) -> Any:
    instance = SingleInstance(paths.runtime_dir)
    assert instance.claim()
    yield instance
    instance.release()


def test_second_claim_in_the_same_runtime_dir_fails(first: SingleInstance, paths: Paths) -> None:
    second = SingleInstance(paths.runtime_dir)
    assert not second.claim()


def test_second_instance_signals_the_first(
    qtbot: Any, first: SingleInstance, paths: Paths
) -> None:
    second = SingleInstance(paths.runtime_dir)
    assert not second.claim()
    with qtbot.waitSignal(first.requested, timeout=5000) as blocker:
        # send() blocks until written; the first instance answers in the event loop,
        # which waitSignal runs. Queue the send so both happen.
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: second.send("settings"))
    assert blocker.args == ["settings"]


def test_second_lifeline_process_opens_the_first_ones_menu_and_exits_0(
    qtbot: Any, first: SingleInstance
) -> None:
    """The real `lifeline` command as the second launch (offscreen: no display needed)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        with qtbot.waitSignal(first.requested, timeout=15000) as blocker:
            pass
        assert blocker.args == ["menu"]
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "already running" in err
    assert "Traceback" not in err


def test_a_crashed_instance_does_not_block_the_next(qapp: Any, paths: Paths) -> None:
    """A lock left by a killed process (its pid gone) is taken over."""
    code = (
        "import sys, os; from pathlib import Path\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "app = QCoreApplication([])\n"
        "from ui.single_instance import SingleInstance\n"
        f"s = SingleInstance(Path({str(paths.runtime_dir)!r}))\n"
        "assert s.claim()\n"
        "os._exit(0)  # no release: as if it crashed\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert (paths.runtime_dir / "lifeline.lock").exists()
    instance = SingleInstance(paths.runtime_dir)
    try:
        assert instance.claim()
    finally:
        instance.release()


def test_unknown_requests_are_refused(first: SingleInstance, paths: Paths) -> None:
    with pytest.raises(ValueError):
        SingleInstance(paths.runtime_dir).send("rm -rf")
