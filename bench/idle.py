"""Benchmark 3: what the tray app costs while it waits between checks.

The real app (`lifeline --config PATH`) on the bench desktop watching 100 sites at
interval 60 on the 50 ms server. After its first check, the bench samples it once a
second for the window (2 minutes; shorter with --quick): resident memory (split into
anonymous and file-backed), CPU time of all its threads (as % of one core), and
wakeups, counted as the voluntary + involuntary context switches of every thread
(/proc/PID/task/*/status). Seconds in which a check ran (more than 20 ms of CPU) are
counted apart, so "between checks" shows whether anything polls or redraws while
nothing happens.
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.common import BIN, PYTHON, log
from bench.desktop import app_env, desktop, isolated_env, log_file, wait_for_line
from bench.peers import delay_server
from bench.sites import write_config

SITES = 100
BUSY_CPU_S = 0.020


def wakeups(pid: int) -> dict[int, int]:
    """Context switches so far of each thread of `pid`, by thread id."""
    counts: dict[int, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:
            continue  # a thread that just ended
        counts[int(task.name)] = sum(
            int(line.split()[1])
            for line in text.splitlines()
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
        )
    return counts


def _woken(before: dict[int, int], after: dict[int, int]) -> int:
    # Per thread: a thread that ended takes its count with it, one that started brings
    # all of its own (the few switches of a thread between a sample and its end are lost).
    return sum(count - before.get(tid, 0) for tid, count in after.items())


def _rss_parts(pid: int) -> dict[str, float]:
    parts: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("RssAnon", "RssFile", "RssShmem")):
            key, value = line.split(":", 1)
            parts[key] = round(int(value.split()[0]) / 1024, 1)
    return parts


def _sample(proc: psutil.Process) -> tuple[float, float, dict[int, int], float]:
    times = proc.cpu_times()
    return time.perf_counter(), times.user + times.system, wakeups(proc.pid), proc.memory_info().rss


def run(window: float) -> dict[str, Any]:
    with desktop() as screen, isolated_env() as (base_env, home), delay_server(0.05) as base, \
            tempfile.TemporaryDirectory() as tmp:
        env = app_env(base_env, screen)
        config = write_config(Path(tmp) / "config.toml", base, SITES, interval=60)
        lifeline = BIN / "lifeline"
        argv = [str(lifeline)] if lifeline.exists() else [PYTHON, "-m", "app"]
        app = subprocess.Popen([*argv, "--config", str(config)], env=env, cwd=home,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # The first check's result turns the icon from unknown to operational.
            if wait_for_line(log_file(home), "tray icon: operational", 60, step=0.1) is None:
                raise RuntimeError("the app did not show an operational icon within 60 s")
            time.sleep(2)
            log(f"idle: sampling the tray app ({SITES} sites, interval 60 s) for {window:g} s")
            proc = psutil.Process(app.pid)
            samples = [_sample(proc)]
            end = samples[0][0] + window
            while time.perf_counter() < end:
                time.sleep(1.0)
                samples.append(_sample(proc))
            threads = proc.num_threads()
            parts = _rss_parts(app.pid)
        finally:
            app.send_signal(signal.SIGTERM)
            try:
                app.wait(15)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()
    wall = samples[-1][0] - samples[0][0]
    cpu = samples[-1][1] - samples[0][1]
    wakes = quiet_wakes = busy_seconds = checks = 0
    quiet_wall = quiet_cpu = 0.0
    previous_busy = False
    for (t0, c0, w0, _), (t1, c1, w1, _) in zip(samples, samples[1:], strict=False):
        woken = _woken(w0, w1)
        wakes += woken
        busy = c1 - c0 > BUSY_CPU_S
        checks += busy and not previous_busy
        previous_busy = busy
        if busy:
            busy_seconds += 1
            continue
        quiet_wall += t1 - t0
        quiet_cpu += c1 - c0
        quiet_wakes += woken
    rss = [s[3] / 1024 / 1024 for s in samples]
    return {
        "sites": SITES,
        "interval_s": 60,
        "window_s": round(wall, 1),
        "rss_mb": round(rss[-1], 1),
        "rss_max_mb": round(max(rss), 1),
        # Anonymous: what the app allocated itself (heaps, stacks). File: the code of Qt,
        # Python and their libraries (shared with any other process that maps them).
        "rss_anon_mb": parts.get("RssAnon"),
        "rss_file_mb": parts.get("RssFile"),
        "cpu_percent": round(100 * cpu / wall, 3),
        "wakeups_per_s": round(wakes / wall, 2),
        "between_checks": {
            "seconds": round(quiet_wall, 1),
            "cpu_percent": round(100 * quiet_cpu / quiet_wall, 3) if quiet_wall else None,
            "wakeups_per_s": round(quiet_wakes / quiet_wall, 2) if quiet_wall else None,
        },
        "seconds_with_a_check": busy_seconds,
        "checks_in_window": checks,
        "cpu_s_per_check": round((cpu - quiet_cpu) / checks, 3) if checks else None,
        "threads": threads,
        "display": "Xvfb + trayer" if screen else "offscreen (no tray host: status window)",
        "targets": {"rss_mb": 90, "cpu_percent": 0.5, "wakeups_per_s": 1},
    }
