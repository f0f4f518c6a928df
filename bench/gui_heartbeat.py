"""The tray app's GUI thread under load: `python -m bench.gui_heartbeat BASE_URL SECONDS [control]`.

Builds what ui.main.TrayApp builds (Monitor with History -> Bridge -> TrayIcon with
IconSet), in this process, on 200 sites of the server at BASE_URL: 160 answering after
50 ms, 20 that hang until the probe deadline and 20 that send 64 MiB bodies. A 5 ms
QTimer on the GUI thread records every gap between its ticks while the monitor checks,
until the hanging sites are confirmed down (two rounds and the notifications). Run
with QT_QPA_PLATFORM=offscreen. Prints JSON: longest gap, p99, p50, ticks, and the time
to rebuild the 200-site menu as it opens (a user action, reported apart; each site's
submenu is built when it opens, timed as `site_submenu_ms`).

With `control`, the same check runs in another process (bench.engine_inproc) while this
one only beats: what the machine's CPU competition alone does to the heartbeat, so the
difference to the real run is what sharing a process (and its GIL) with the monitor costs.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

SITES = 200
HANG = 20
BIG = 20
TIMEOUT = 3.0
BASELINE_MS = 3000


def _paths() -> list[str]:
    paths = [f"/hang/{k}" for k in range(HANG)] + [f"/big/{k}" for k in range(BIG)]
    return paths + [f"/site/{k}" for k in range(SITES - HANG - BIG)]


def main() -> None:
    from PySide6.QtCore import QElapsedTimer, QProcess, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from app.config import load_config
    from app.events import SiteStateChanged
    from app.history import History
    from app.models import SiteState
    from app.monitor import Monitor
    from bench.sites import write_config
    from ui.bridge import Bridge
    from ui.icons import IconSet
    from ui.interpreter import imports_frozen, tune_for_gui
    from ui.tray import TrayIcon

    base, limit = sys.argv[1], float(sys.argv[2])
    control = sys.argv[3:] == ["control"]
    tune_for_gui()  # as ui.main.run() does
    app = QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    config = load_config(
        write_config(tmp / "config.toml", base, SITES, timeout=TIMEOUT, retry_interval=2,
                     paths=_paths())
    )
    history = History(tmp / "history.sqlite3")
    # As ui.main.TrayApp does: the monitor is made on the worker thread, and the engine's
    # objects frozen out of the GC once made.
    def make_monitor() -> Monitor:
        with imports_frozen():
            return Monitor(config, history=history)

    bridge = Bridge(make_monitor, config)
    tray = TrayIcon(bridge, IconSet(), open_settings=lambda: None, on_quit=lambda: None)

    gaps: list[float] = []
    started = [0.0]
    clock = QElapsedTimer()
    last = [0]
    beat = QTimer()
    beat.setTimerType(Qt.TimerType.PreciseTimer)
    beat.setInterval(5)

    # Beside each gap, the CPU time the GUI thread itself used in it: the app's own work
    # on that thread, blind to preemption by other processes and to waiting for the GIL,
    # so it holds on a noisy shared machine.
    busy: list[float] = []
    last_cpu = [time.thread_time()]
    long_gaps: list[list[float]] = []  # [seconds after start, gap ms, GUI-thread CPU ms]

    def tick() -> None:
        now, cpu = clock.nsecsElapsed(), time.thread_time()
        gaps.append((now - last[0]) / 1e6)
        busy.append((cpu - last_cpu[0]) * 1000)
        last[0], last_cpu[0] = now, cpu
        if gaps[-1] > 30 and started[0]:
            at = time.perf_counter() - started[0]
            long_gaps.append([round(at, 2), round(gaps[-1], 1), round(busy[-1], 1)])

    beat.timeout.connect(tick)

    confirmed: list[float] = []

    def on_events(events: list[object]) -> None:
        for event in events:
            if isinstance(event, SiteStateChanged) and event.state is SiteState.DOWN:
                confirmed.append(time.perf_counter() - started[0])
                if len(confirmed) == HANG:
                    QTimer.singleShot(1000, app.quit)

    bridge.monitorEvents.connect(on_events)

    baseline: list[float] = []
    other = QProcess()
    other.finished.connect(lambda *_: QTimer.singleShot(1000, app.quit))

    def begin() -> None:
        # The same heartbeat with nothing to do first: the machine's own scheduling noise,
        # measured in the same run, so a shared machine's hiccups are not blamed on us.
        baseline.extend(gaps[1:])
        gaps.clear()
        busy.clear()
        started[0] = time.perf_counter()
        if control:
            other.start(sys.executable, ["-m", "bench.engine_inproc", config.source])
            return
        bridge.start()
        tray.show()

    clock.start()
    beat.start()
    QTimer.singleShot(BASELINE_MS, begin)
    QTimer.singleShot(int(limit * 1000) + BASELINE_MS, app.quit)
    app.exec()
    beat.stop()
    busy_sorted = sorted(busy)
    window = time.perf_counter() - started[0]

    menu = []
    for _ in range(5):
        t0 = time.perf_counter()
        tray.rebuild_menu()
        menu.append((time.perf_counter() - t0) * 1000)
    submenu = []
    for action in tray.menu.actions()[3:8]:  # the worst sites, listed first
        sub = action.menu()
        if sub is not None:
            t0 = time.perf_counter()
            sub.aboutToShow.emit()
            submenu.append((time.perf_counter() - t0) * 1000)

    other.waitForFinished(30_000)
    if bridge.running:
        bridge.stop()
        bridge.join(10)
    history.close()
    shutil.rmtree(tmp, ignore_errors=True)
    ordered = sorted(gaps)
    quiet = sorted(baseline)
    print(
        json.dumps(
            {
                "ticks": len(gaps),
                "window_s": window,
                "hanging_confirmed_down": len(confirmed),
                "last_down_at_s": confirmed[-1] if confirmed else None,
                "longest_gap_ms": ordered[-1] if ordered else None,
                "p99_gap_ms": ordered[int(0.99 * (len(ordered) - 1))] if ordered else None,
                "p50_gap_ms": statistics.median(ordered) if ordered else None,
                "gaps_over_30ms": sum(g > 30 for g in gaps),
                "gaps_over_30ms_at": long_gaps,
                "baseline_longest_gap_ms": quiet[-1] if quiet else None,
                "baseline_p99_gap_ms": quiet[int(0.99 * (len(quiet) - 1))] if quiet else None,
                "menu_rebuild_ms": statistics.median(menu),
                "site_submenu_ms": statistics.median(submenu) if submenu else None,
                "gui_cpu_longest_ms": busy_sorted[-1] if busy_sorted else None,
                "gui_cpu_p99_ms": busy_sorted[int(0.99 * (len(busy_sorted) - 1))]
                if busy_sorted else None,
                "gui_cpu_total_ms": sum(busy),
                "sites": SITES,
                "hanging": HANG,
                "big_bodies": BIG,
            }
        )
    )


if __name__ == "__main__":
    main()
