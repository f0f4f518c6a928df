"""The bridge: a real loop thread; events reach the GUI thread as queued signals."""

from __future__ import annotations

import gc
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QThread

from app.config import Config, SiteConfig
from app.events import CheckCompleted, MonitorError, MonitorSnapshot, SiteStateChanged
from app.models import OverallState, PointOfFailure, SiteState
from tests.fake_monitor import FakeMonitor
from ui.bridge import Bridge

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def on_gui_thread() -> bool:
    app = QCoreApplication.instance()
    assert app is not None
    return QThread.currentThread() is app.thread()


@pytest.fixture
def started(qtbot: Any) -> Any:
    bridges: list[Bridge] = []

    def start(monitor: Any, config: Config | None = None) -> Bridge:
        bridge = Bridge(monitor, config or Config())
        bridges.append(bridge)
        bridge.start()
        if isinstance(monitor, FakeMonitor):
            qtbot.waitUntil(lambda: monitor.loop is not None, timeout=5000)
        return bridge

    yield start
    for bridge in bridges:
        if bridge.running:
            with qtbot.waitSignal(bridge.finished, timeout=5000):
                bridge.stop()
        assert bridge.join(5)


def test_events_arrive_as_signals_on_the_gui_thread(qtbot: Any, started: Any) -> None:
    monitor = FakeMonitor()
    bridge = started(monitor)
    qtbot.waitUntil(lambda: bridge.snapshot is monitor.current, timeout=5000)  # initial
    seen: list[tuple[object, bool, str]] = []
    bridge.monitorEvents.connect(
        lambda batch: seen.extend((e, on_gui_thread(), threading.current_thread().name)
                                  for e in batch)
    )
    change = SiteStateChanged(
        at=NOW, site="shop", previous=SiteState.OPERATIONAL, state=SiteState.DOWN,
        point_of_failure=PointOfFailure.SITE, reason="503",
    )
    with qtbot.waitSignal(bridge.monitorEvents, timeout=5000,
                          check_params_cb=lambda batch: change in batch):
        monitor.emit(change)
    assert seen == [(change, True, threading.main_thread().name)]
    # ...and the monitor ran on the worker thread, not this one.
    assert monitor.threads == {"lifeline-monitor"}


def test_a_rounds_events_cross_as_one_batch(qtbot: Any, started: Any) -> None:
    """200 state changes and the round's CheckCompleted, emitted in one loop callback as
    the monitor does: ONE queued signal to the GUI thread, one snapshot update."""
    monitor = FakeMonitor()
    bridge = started(monitor)
    batches: list[list[object]] = []
    snapshots: list[MonitorSnapshot] = []
    bridge.monitorEvents.connect(batches.append)
    bridge.snapshotChanged.connect(snapshots.append)
    qtbot.waitUntil(lambda: bridge.snapshot is monitor.current, timeout=5000)  # initial
    batches.clear()
    snapshots.clear()
    changes = [
        SiteStateChanged(
            at=NOW, site=f"site{i}", previous=None, state=SiteState.OPERATIONAL,
            point_of_failure=PointOfFailure.NONE, reason="",
        )
        for i in range(200)
    ]
    early = MonitorSnapshot(overall=OverallState.UNKNOWN, last_check=NOW)
    final = MonitorSnapshot(overall=OverallState.OPERATIONAL, last_check=NOW)
    round_events = [CheckCompleted(at=NOW, snapshot=early), *changes,
                    CheckCompleted(at=NOW, snapshot=final)]
    with qtbot.waitSignal(bridge.monitorEvents, timeout=5000):
        monitor.emit(*round_events)
    assert batches == [round_events]  # all of them, in order, at once
    assert snapshots == [final]  # only the newest: the earlier one is already stale
    assert bridge.snapshot is final
    # The next round is a batch of its own.
    with qtbot.waitSignal(bridge.monitorEvents, timeout=5000):
        monitor.emit(CheckCompleted(at=NOW, snapshot=early))
    assert len(batches) == 2 and snapshots == [final, early]


def test_snapshot_kept_in_memory_from_check_completed(qtbot: Any, started: Any) -> None:
    monitor = FakeMonitor()
    bridge = started(monitor)
    snap = MonitorSnapshot(overall=OverallState.DOWN, last_check=NOW)
    threads: list[bool] = []
    bridge.snapshotChanged.connect(lambda s: threads.append(on_gui_thread()))
    is_snap = lambda s: s is snap  # noqa: E731
    with qtbot.waitSignal(bridge.snapshotChanged, timeout=5000, check_params_cb=is_snap):
        monitor.emit(CheckCompleted(at=NOW, snapshot=snap))
    assert bridge.snapshot is snap
    assert threads and all(threads)


def test_initial_snapshot_comes_from_the_monitor(qtbot: Any) -> None:
    monitor = FakeMonitor()
    monitor.current = MonitorSnapshot(overall=OverallState.OPERATIONAL, last_check=NOW)
    bridge = Bridge(monitor, Config())
    with qtbot.waitSignal(bridge.snapshotChanged, timeout=5000):
        bridge.start()
    assert bridge.snapshot is monitor.current
    with qtbot.waitSignal(bridge.finished, timeout=5000):
        bridge.stop()


def test_commands_run_on_the_loop_thread(qtbot: Any, started: Any) -> None:
    monitor = FakeMonitor()
    bridge = started(monitor)
    new = Config(sites=(SiteConfig(name="a", url="http://127.0.0.1:9/"),))
    with qtbot.waitSignal(bridge.configChanged, timeout=5000):
        bridge.update_config(new)
    bridge.check_now("a")
    bridge.check_now()
    qtbot.waitUntil(lambda: monitor.checks == ["a", None], timeout=5000)
    assert monitor.configs == [new]
    assert bridge.config is new
    assert monitor.threads == {"lifeline-monitor"}


def test_monitor_error_event_becomes_error_signal(qtbot: Any, started: Any) -> None:
    monitor = FakeMonitor()
    bridge = started(monitor)
    with qtbot.waitSignal(bridge.error, timeout=5000) as blocker:
        monitor.emit(MonitorError(at=NOW, message="history database is locked"))
    assert blocker.args == ["history database is locked"]


def test_a_crashing_monitor_is_reported_not_swallowed(qtbot: Any, started: Any) -> None:
    bridge = Bridge(FakeMonitor(fail_with=RuntimeError("boom in run()")), Config())
    with qtbot.waitSignal(bridge.error, timeout=5000) as blocker:
        bridge.start()
    assert "boom in run()" in blocker.args[0]
    # The loop outlives the monitor: background jobs still run on it.
    results: list[str] = []

    async def where() -> str:
        return threading.current_thread().name

    bridge.workers.submit(where, results.append)
    qtbot.waitUntil(lambda: results == ["lifeline-monitor"], timeout=5000)
    with qtbot.waitSignal(bridge.finished, timeout=5000):
        bridge.stop()


def test_jobs_run_off_the_gui_thread(qtbot: Any, started: Any) -> None:
    bridge = started(FakeMonitor())
    ran_on: list[str] = []
    delivered: list[tuple[object, bool]] = []

    def blocking() -> str:
        ran_on.append(threading.current_thread().name)
        threading.Event().wait(0.05)  # stands in for a keyring prompt
        return "secret saved"

    bridge.workers.submit(blocking, lambda r: delivered.append((r, on_gui_thread())))
    qtbot.waitUntil(lambda: delivered == [("secret saved", True)], timeout=5000)
    assert ran_on and ran_on[0] != threading.main_thread().name


def test_coroutine_jobs_run_on_the_monitors_loop(qtbot: Any, started: Any) -> None:
    bridge = started(FakeMonitor())
    delivered: list[object] = []

    async def send_ticket() -> str:
        return threading.current_thread().name

    bridge.workers.submit(send_ticket, delivered.append)
    qtbot.waitUntil(lambda: delivered == ["lifeline-monitor"], timeout=5000)


def test_job_errors_reach_on_error_or_the_error_signal(
    qtbot: Any, started: Any
) -> None:
    bridge = started(FakeMonitor())
    errors: list[tuple[BaseException, bool]] = []

    def fail() -> None:
        raise PermissionError("keyring locked")

    bridge.workers.submit(
        fail, lambda _r: None, on_error=lambda e: errors.append((e, on_gui_thread()))
    )
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=5000)
    assert isinstance(errors[0][0], PermissionError) and errors[0][1]

    with qtbot.waitSignal(bridge.error, timeout=5000) as blocker:
        bridge.workers.submit(fail)
    assert blocker.args == ["keyring locked"]


def test_after_stop_jobs_go_to_the_standalone_loop(qtbot: Any) -> None:
    """A dialog still open when the monitor has stopped can still save."""
    bridge = Bridge(FakeMonitor(), Config())
    bridge.start()
    with qtbot.waitSignal(bridge.finished, timeout=5000):
        bridge.stop()
    assert bridge.join(5)

    async def where() -> str:
        return threading.current_thread().name

    seen: list[str] = []
    bridge.workers.submit(where, seen.append)
    qtbot.waitUntil(lambda: seen == ["lifeline-workers"], timeout=5000)
    bridge.workers.shutdown()


def test_the_bridge_changes_nothing_process_wide(qtbot: Any, started: Any) -> None:
    """Interpreter tuning is the app's explicit choice (ui.interpreter), not a side
    effect of hosting a monitor."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # Python's default, whatever ran before this test
    try:
        frozen = gc.get_freeze_count()
        monitor = FakeMonitor()
        bridge = started(lambda: monitor)
        qtbot.waitUntil(lambda: bridge.snapshot is monitor.current, timeout=5000)
        assert sys.getswitchinterval() == 0.005
        assert gc.get_freeze_count() == frozen
    finally:
        sys.setswitchinterval(previous)


def test_stop_ends_the_loop_and_the_thread(qtbot: Any) -> None:
    monitor = FakeMonitor()
    bridge = Bridge(monitor, Config())
    bridge.start()
    qtbot.waitUntil(lambda: monitor.loop is not None, timeout=5000)
    with qtbot.waitSignal(bridge.finished, timeout=5000):
        bridge.stop()
    assert monitor.stopped.is_set()
    assert bridge.join(5)
    assert not bridge.running
    assert monitor.subscribers == []  # unsubscribed on the way out


def test_real_monitor_against_loopback_sites(qtbot: Any, make_server: Any, tmp_path: Path) -> None:
    """The real Monitor hosted by the bridge: a down site arrives as a signal, then the
    recovery, both on the GUI thread."""
    from app.history import History
    from app.monitor import Monitor
    from tests.conftest import summary_payload
    from tests.loopback import Reply

    down = {"now": True}
    site = make_server()
    site.route("*", lambda _r: Reply(503, "<title>Service Unavailable</title>")
               if down["now"] else Reply(200, "<html>fine</html>"))
    status = make_server()
    status.route("/api/v2/summary.json", Reply.json(summary_payload()))
    config = Config(sites=(SiteConfig(name="shop", url=f"{site.url}/"),))
    from dataclasses import replace

    config = replace(
        config,
        provider=replace(config.provider, status_page=status.url),
        monitor=replace(config.monitor, interval=1.0, retry_interval=0.2, timeout=2.0,
                        failures_to_alert=2, successes_to_recover=2),
    )
    history = History(tmp_path / "history.sqlite3")
    bridge = Bridge(Monitor(config, history=history), config)
    states: list[tuple[SiteState, bool]] = []

    def record(events: list[object]) -> None:
        for event in events:
            if isinstance(event, SiteStateChanged):
                states.append((event.state, on_gui_thread()))

    bridge.monitorEvents.connect(record)
    bridge.start()
    try:
        qtbot.waitUntil(lambda: (SiteState.DOWN, True) in states, timeout=15000)
        assert bridge.snapshot.overall is OverallState.DOWN
        down["now"] = False
        bridge.check_now()
        qtbot.waitUntil(lambda: states[-1] == (SiteState.OPERATIONAL, True), timeout=15000)
        qtbot.waitUntil(lambda: bridge.snapshot.overall is OverallState.OPERATIONAL, timeout=5000)
    finally:
        with qtbot.waitSignal(bridge.finished, timeout=10000):
            bridge.stop()
        bridge.join(5)
        history.close()


def test_a_monitor_factory_runs_on_the_worker_thread(qtbot: Any) -> None:
    made_on: list[str] = []
    monitor = FakeMonitor()

    def make() -> FakeMonitor:
        made_on.append(threading.current_thread().name)
        return monitor

    bridge = Bridge(make, Config())
    bridge.start()
    bridge.check_now("early")  # issued before the monitor exists: still reaches it
    qtbot.waitUntil(lambda: monitor.checks == ["early"], timeout=5000)
    assert made_on == ["lifeline-monitor"]
    with qtbot.waitSignal(bridge.finished, timeout=5000):
        bridge.stop()


def test_a_failing_monitor_factory_is_reported(qtbot: Any) -> None:
    def make() -> FakeMonitor:
        raise OSError("history database is read-only")

    bridge = Bridge(make, Config())
    with qtbot.waitSignal(bridge.error, timeout=5000) as blocker:
        bridge.start()
    assert blocker.args == ["Monitoring could not start: history database is read-only"]
    with qtbot.waitSignal(bridge.finished, timeout=5000):
        bridge.stop()
