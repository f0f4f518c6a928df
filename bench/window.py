"""Benchmark: the Lifeline window with 200 sites and 30 days of history (issue 15).

`run()` starts this module as a child process on the bench desktop (Xvfb + trayer, the
real X11 platform; offscreen when there is none). The child writes a history file as
30 days of watching 200 sites would leave it (a few state changes per site and day,
the machine asleep every night, response-time buckets every 5 minutes for both
probes), then builds the real LifelineWindow over a stand-in monitor holding a 200-site
snapshot, with a 5 ms QTimer on the GUI thread recording every gap between its ticks:

- first paint: from `open()` to the first paint of the site list (current states, the
  strips still being read), and to the paint that completes every visible row's strip
  (the first screenful read on the worker, then drawn, a few rows per frame);
- the range switched to 30 days (the worst read) and back;
- scrolling the whole list a row at a time, then page by page.

Reported: both first-paint figures (median of several openings of a fresh window), the
30-day read, and the heartbeat's longest gap and p99 over all of it.

    python -m bench --only window
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import PYTHON, log, run_process
from bench.desktop import app_env, desktop, isolated_env

SITES, DAYS, OPENINGS = 200, 30, 5
TARGET_FIRST_PAINT_MS = 300.0
TARGET_GAP_MS = 30.0
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def run(openings: int = OPENINGS) -> dict[str, Any]:
    with isolated_env() as (env, _home), desktop() as screen:
        log(f"window: {SITES} sites x {DAYS} days, {openings} openings "
            f"({'Xvfb + trayer' if screen else 'offscreen'})")
        proc = run_process([PYTHON, "-m", "bench.window", str(openings)],
                           env=app_env(env, screen), timeout=600)
        got: dict[str, Any] = proc.json()
    got["platform"] = "xcb (Xvfb + trayer)" if screen else "offscreen"
    got["target_first_paint_ms"] = TARGET_FIRST_PAINT_MS
    got["target_gap_ms"] = TARGET_GAP_MS
    return got


def write_history(path: Path) -> int:
    """30 days of 200 sites, as the monitor would have written them; returns bytes."""
    from app.events import SiteStateChanged
    from app.history import _TIMING, PROBES, TIMING_SLOTS, History
    from app.models import PointOfFailure, SiteState

    rng = random.Random(15)
    start = NOW - timedelta(days=DAYS)
    states = [SiteState.DEGRADED, SiteState.DOWN, SiteState.EDITORS_BLOCKED]
    with History(path) as history:
        db = history._db()
        db.execute("BEGIN")
        for day in range(DAYS):
            morning = start + timedelta(days=day, hours=7)
            history.mark_observed(morning, continuous=False)
            history.mark_observed(morning + timedelta(hours=16))  # asleep from 23:00 to 7:00
        for n in range(SITES):
            site = f"site-{n:03d}"
            history.record(SiteStateChanged(
                at=start, site=site, previous=None, state=SiteState.OPERATIONAL,
                point_of_failure=PointOfFailure.NONE, reason="",
            ))
            for day in range(DAYS):
                for _ in range(rng.randrange(0, 4)):
                    at = start + timedelta(days=day, hours=7 + rng.random() * 15)
                    bad = rng.choice(states)
                    history.record(SiteStateChanged(
                        at=at, site=site, previous=SiteState.OPERATIONAL, state=bad,
                        point_of_failure=PointOfFailure.SITE, reason=f"{bad.label} for a while",
                    ))
                    history.record(SiteStateChanged(
                        at=at + timedelta(minutes=rng.randrange(2, 90)), site=site,
                        previous=bad, state=SiteState.OPERATIONAL,
                        point_of_failure=PointOfFailure.NONE, reason="",
                    ))
        rows = []
        first_hour = int(start.timestamp()) // 3600
        for n in range(SITES):
            for hour in range(DAYS * 24):
                values = []
                for _slot in range(TIMING_SLOTS):
                    for _probe in PROBES:
                        mean = 150 + rng.randrange(0, 400)
                        values += [5, mean // 2, mean, mean * 2]
                rows.append((f"site-{n:03d}", first_hour + hour, _TIMING.pack(*values)))
        db.executemany("INSERT INTO timings (site, hour, data) VALUES (?, ?, ?)", rows)
        db.execute("COMMIT")
    return history.size_bytes()


def _snapshot() -> tuple[Any, Any]:
    from app.config import Config, SiteConfig
    from app.events import MonitorSnapshot, SiteStatus
    from app.models import OverallState, PointOfFailure, SiteState

    sites, statuses = [], []
    for n in range(SITES):
        name = f"site-{n:03d}"
        group = f"Client {chr(ord('A') + n % 8)}"
        sites.append(SiteConfig(name, f"https://{name}.example/", group=group))
        state = SiteState.DOWN if n % 37 == 0 else SiteState.OPERATIONAL
        statuses.append(SiteStatus(
            name=name, url=f"https://{name}.example/", environment="live", state=state,
            point_of_failure=PointOfFailure.SITE if not state.is_good else PointOfFailure.NONE,
            reason="502 Bad Gateway" if state is SiteState.DOWN else "", group=group,
            last_checked=NOW,
        ))
    config = Config(sites=tuple(sites))
    return config, MonitorSnapshot(overall=OverallState.DOWN, sites=tuple(statuses),
                                   last_check=NOW)


def child(openings: int) -> dict[str, Any]:
    from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from app.events import CheckCompleted
    from tests.fake_monitor import FakeMonitor
    from ui.bridge import Bridge
    from ui.icons import IconSet
    from ui.interpreter import tune_for_gui
    from ui.window.main_window import LifelineWindow
    from ui.workers import Workers

    tune_for_gui()  # as ui.main.run() does
    app = QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp(prefix="bench-window-"))
    history_path = tmp / "history.sqlite3"
    built = time.perf_counter()
    size = write_history(history_path)
    log(f"window: history of {size / 2**20:.1f} MiB written in "
        f"{time.perf_counter() - built:.1f} s")
    # As the app is when a window opens: what start-up loaded moved out of the
    # collector's sight (ui.interpreter.imports_frozen); the writing's garbage gone.
    gc.collect()
    gc.freeze()
    config, snapshot = _snapshot()
    monitor = FakeMonitor(config)
    workers = Workers()
    bridge = Bridge(monitor, config, workers=workers)
    bridge.start()
    while monitor.loop is None:
        app.processEvents()
    monitor.emit(CheckCompleted(at=NOW, snapshot=snapshot))
    while bridge.snapshot is not snapshot:
        app.processEvents()

    gaps: list[float] = []
    phases: dict[str, tuple[int, int]] = {}  # name -> (first, last) index into gaps
    beat = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(5)

    def tick() -> None:
        gaps.append(beat.restart())

    timer.timeout.connect(tick)

    def wait(ready: Any, limit: float = 60.0) -> None:
        deadline = time.perf_counter() + limit
        while not ready():
            if time.perf_counter() > deadline:
                raise SystemExit("the window bench timed out")
            app.processEvents()

    painted: list[float] = []

    class Paints(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                painted.append(time.perf_counter())
            return False

    watcher = Paints()
    first_ms, strips_ms, all_ms = [], [], []
    window: LifelineWindow | None = None
    beat.start()
    timer.start()
    # Control: the heartbeat alone for 3 s, nothing else on the GUI thread: what the
    # machine's load (other processes on 2 cores) does to it by itself.
    settle = time.perf_counter() + 3.0
    while time.perf_counter() < settle:
        app.processEvents()
    phases["machine alone"] = (0, len(gaps))
    mark = len(gaps)
    for _ in range(openings):
        if window is not None:
            window.close_history()
            window.hide()
            window.deleteLater()
        window = LifelineWindow(bridge, IconSet(), workers, history_path=history_path,
                                open_url=lambda url: None, clock=lambda: NOW)
        window.resize(1180, 720)
        loaded: list[float] = []
        window.historyLoaded.connect(lambda got=loaded: got.append(time.perf_counter()))
        filled: list[float] = []  # when the first strips reached the model

        def first_strips(*_: object, w: LifelineWindow = window, got: list[float] = filled) -> None:
            if not got and any(w.model.row(i).history is not None
                               for i in range(w.model.rowCount())):
                got.append(time.perf_counter())

        window.model.dataChanged.connect(first_strips)
        window.model.modelReset.connect(first_strips)
        painted.clear()
        window.list.viewport().installEventFilter(watcher)
        t0 = time.perf_counter()
        window.open()
        wait(lambda: bool(painted))
        first_ms.append((painted[0] - t0) * 1000)
        # Building and first showing the window is the user's action, timed above; the
        # heartbeat counts from here, while the history is read and painted.
        beat.restart()
        mark = len(gaps)
        # Every visible row's chart drawn (a frame draws a few; the next ones the rest).
        wait(lambda w=window, got=filled: bool(got) and painted[-1] > got[0]
             and not w.delegate.behind)
        strips_ms.append((painted[-1] - t0) * 1000)
        wait(lambda got=loaded: bool(got))
        all_ms.append((loaded[0] - t0) * 1000)
        phases[f"reading {len(all_ms)}"] = (mark, len(gaps))
    assert window is not None
    switch: list[float] = []
    mark = len(gaps)
    for key in ("30d", "24h"):
        done: list[bool] = []
        window.historyLoaded.connect(lambda got=done: got.append(True))
        t0 = time.perf_counter()
        window.set_range(key)
        wait(lambda got=done: bool(got))
        switch.append((time.perf_counter() - t0) * 1000)
    phases["range"] = (mark, len(gaps))
    mark = len(gaps)
    bar = window.list.verticalScrollBar()
    for step in (bar.singleStep(), bar.pageStep()):
        bar.setValue(0)
        while bar.value() < bar.maximum():
            bar.setValue(bar.value() + step)
            app.processEvents()
    phases["scroll"] = (mark, len(gaps))
    timer.stop()
    window.close_history()
    bridge.stop()
    bridge.join(10)
    workers.shutdown()
    measured = [g for name, (a, b) in phases.items() if name != "machine alone"
                for g in gaps[a:b]]
    ordered = sorted(measured)
    return {
        "sites": SITES,
        "days": DAYS,
        "history_mib": round(size / 2**20, 1),
        "openings": openings,
        "first_paint_ms_median": round(statistics.median(first_ms), 1),
        "first_paint_ms_max": round(max(first_ms), 1),
        "strips_painted_ms_median": round(statistics.median(strips_ms), 1),
        "strips_painted_ms_max": round(max(strips_ms), 1),
        "all_read_ms_median": round(statistics.median(all_ms), 1),
        "range_30d_ms": round(switch[0], 1),
        "range_24h_ms": round(switch[1], 1),
        "heartbeat_longest_gap_ms": round(max(measured), 1),
        "heartbeat_p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 1),
        "heartbeat_ticks": len(measured),
        "longest_gap_ms_by_phase": {
            name: round(max(gaps[a:b], default=0.0), 1) for name, (a, b) in phases.items()
        },
    }


if __name__ == "__main__":
    print(json.dumps(child(int(sys.argv[1]) if len(sys.argv) > 1 else OPENINGS)))
