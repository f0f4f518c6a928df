"""Benchmark 4: from process start to the tray icon shown, cold and warm.

The real app (`lifeline --config PATH`, from source; dist/lifeline/lifeline too when a
frozen build exists) on the bench desktop (Xvfb + trayer). The app logs "tray icon shown
N ms after start" right after QSystemTrayIcon.show(); the bench reports both its own
clock (spawn to that line appearing, polled every 2 ms) and the app's N (which starts
after the interpreter and the CLI are loaded). Cold: the page cache of every file the
app loads (Python's library, the venv, the app's source) is evicted first with
posix_fadvise(DONTNEED), as after a reboot, without touching the rest of the machine.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import BIN, PYTHON, ROOT, Figures, log, median
from bench.desktop import app_env, desktop, isolated_env, log_file, wait_for_line
from bench.peers import delay_server
from bench.sites import write_config

ICON_LINE = "tray icon shown"
FROZEN = ROOT / "dist" / "lifeline" / "lifeline"


def evict(paths: list[Path]) -> int:
    """Drop these files (recursively) from the page cache; returns how many were evicted."""
    count = 0
    for top in paths:
        walker = [(str(top), [], [top.name])] if top.is_file() else os.walk(top)
        for folder, _dirs, files in walker:
            for name in files:
                path = os.path.join(folder, name) if not top.is_file() else str(top)
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    count += 1
                except OSError:
                    pass
                finally:
                    os.close(fd)
    return count


def _app_files(frozen: bool) -> list[Path]:
    if frozen:
        return [FROZEN.parent]
    stdlib = Path(os.__file__).parent
    venv = Path(sys.prefix)
    return [stdlib, venv, Path(sys.base_prefix) / "bin", ROOT / "app", ROOT / "ui"]


def _launch(argv: list[str], env: dict[str, str], home: Path) -> dict[str, float] | None:
    logf = log_file(home)
    logf.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=home, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        line = wait_for_line(logf, ICON_LINE, timeout=30)
        seen = time.perf_counter() - start
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    if line is None:
        log(f"start-up: no '{ICON_LINE}' in the log within 30 s: "
            f"{err.decode(errors='replace').strip()[-300:]}")
        return None
    match = re.search(r"shown (\d+) ms", line)
    own = float(match.group(1)) / 1000 if match else float("nan")
    return {"to_icon_s": seen, "app_reported_s": own}


def _series(argv: list[str], env: dict[str, str], home: Path, frozen: bool,
            cold_runs: int, warm_runs: int) -> dict[str, Any]:
    cold, warm = Figures(), Figures()
    for _ in range(cold_runs):
        evicted = evict(_app_files(frozen))
        got = _launch(argv, env, home)
        if got:
            cold.add(**got)
        cold.note = f"{evicted} files evicted from the page cache before each run"
    _launch(argv, env, home)  # fills the caches again
    for _ in range(warm_runs):
        got = _launch(argv, env, home)
        if got:
            warm.add(**got)
    return {"cold": cold.summary(), "warm": warm.summary()}


def run(cold_runs: int, warm_runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with desktop() as screen, isolated_env() as (base_env, home):
        if screen is None:
            return {"skipped": "no X desktop with a tray host (Xvfb + trayer) here"}
        env = app_env(base_env, screen)
        with delay_server(0.05) as base, tempfile.TemporaryDirectory() as tmp:
            config = write_config(Path(tmp) / "config.toml", base, 10)
            lifeline = BIN / "lifeline"
            source = [str(lifeline)] if lifeline.exists() else [PYTHON, "-m", "app"]
            log(f"start-up from source: {cold_runs} cold, {warm_runs} warm")
            results["source"] = _series([*source, "--config", str(config)], env, home, False,
                                        cold_runs, warm_runs)
            if FROZEN.exists():
                log(f"start-up of the frozen build: {cold_runs} cold, {warm_runs} warm")
                results["frozen"] = _series([str(FROZEN), "--config", str(config)], env, home,
                                            True, cold_runs, warm_runs)
            else:
                results["frozen"] = "skipped: no frozen build (make package builds dist/lifeline)"
    results["target_s"] = 1.0
    warm = results["source"]["warm"]
    results["met"] = bool(warm.get("runs")) and median([warm["to_icon_s"]]) < 1.0
    return results
