"""ui.workers: real loops and threads; outcomes always on the GUI thread, lanes in order."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread

from ui.workers import Workers, WorkerStopped

WAIT = 5000


def on_gui_thread() -> bool:
    app = QCoreApplication.instance()
    assert app is not None
    return QThread.currentThread() is app.thread()


@pytest.fixture
def workers(qtbot: Any) -> Iterator[Workers]:
    made = Workers()
    yield made
    made.shutdown()


@pytest.fixture
def loop_thread() -> Iterator[asyncio.AbstractEventLoop]:
    """A loop in its own thread, standing in for the bridge's."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bridge-like", daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_a_blocking_function_runs_off_the_gui_thread_and_reports_on_it(
    qtbot: Any, workers: Workers
) -> None:
    ran_on: list[str] = []
    delivered: list[tuple[int, bool]] = []

    def blocking() -> int:
        ran_on.append(threading.current_thread().name)
        return 42

    workers.submit(blocking, lambda r: delivered.append((r, on_gui_thread())))
    qtbot.waitUntil(lambda: bool(delivered), timeout=WAIT)
    assert delivered == [(42, True)]
    assert ran_on and ran_on[0] != threading.main_thread().name


def test_coroutines_run_on_the_loop_itself(
    qtbot: Any, workers: Workers, loop_thread: asyncio.AbstractEventLoop
) -> None:
    workers.attach(loop_thread)
    seen: list[tuple[str, str]] = []

    async def on_loop() -> str:
        assert asyncio.get_running_loop() is loop_thread
        return threading.current_thread().name

    workers.submit(on_loop, lambda name: seen.append(("async def", name)))
    workers.submit(lambda: on_loop(), lambda name: seen.append(("returns a coroutine", name)))
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=WAIT)
    assert sorted(seen) == [("async def", "bridge-like"), ("returns a coroutine", "bridge-like")]


def test_errors_reach_on_error_on_the_gui_thread(qtbot: Any, workers: Workers) -> None:
    errors: list[tuple[str, bool]] = []

    def fail() -> None:
        raise OSError("keyring locked")

    workers.submit(fail, lambda _r: errors.append(("done?!", False)),
                   lambda exc: errors.append((str(exc), on_gui_thread())))
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT)
    assert errors == [("keyring locked", True)]


def test_errors_without_on_error_are_logged_and_signalled(
    qtbot: Any, workers: Workers, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail() -> None:
        raise ValueError("garbage from the server")

    with qtbot.waitSignal(workers.error, timeout=WAIT) as blocker:
        workers.submit(fail, lambda _r: None)
    assert blocker.args == ["garbage from the server"]
    assert "garbage from the server" in caplog.text


def lane_run(qtbot: Any, workers: Workers, lane: str | None) -> tuple[list[str], threading.Event]:
    """Three jobs; the first blocks until released. Returns the log and the release."""
    release = threading.Event()
    log: list[str] = []

    def job(name: str, block: bool) -> Any:
        def work() -> str:
            log.append(f"start {name}")
            if block:
                assert release.wait(WAIT / 1000)
            log.append(f"end {name}")
            return name
        return work

    workers.submit(job("a", True), None, lane=lane)
    workers.submit(job("b", False), None, lane=lane)
    workers.submit(job("c", False), None, lane=lane)
    return log, release


def test_jobs_in_one_lane_run_one_after_another_in_order(
    qtbot: Any, workers: Workers
) -> None:
    log, release = lane_run(qtbot, workers, "keyring")
    # Work outside the lane is not held up by it...
    other: list[str] = []
    workers.submit(lambda: "other", other.append)
    qtbot.waitUntil(lambda: other == ["other"], timeout=WAIT)
    # ...while the lane waits for its first job.
    assert log == ["start a"]
    release.set()
    qtbot.waitUntil(lambda: len(log) == 6, timeout=WAIT)
    assert log == ["start a", "end a", "start b", "end b", "start c", "end c"]


def test_without_a_lane_jobs_overlap(qtbot: Any, workers: Workers) -> None:
    """The control for the test above: the thread pool alone does not serialise."""
    log, release = lane_run(qtbot, workers, None)
    qtbot.waitUntil(lambda: "end b" in log and "end c" in log, timeout=WAIT)
    assert "end a" not in log
    release.set()
    qtbot.waitUntil(lambda: "end a" in log, timeout=WAIT)


def test_a_failed_job_does_not_block_its_lane(qtbot: Any, workers: Workers) -> None:
    outcomes: list[str] = []

    def fail() -> None:
        raise OSError("no keyring")

    workers.submit(fail, None, lambda exc: outcomes.append(str(exc)), lane="keyring")
    workers.submit(lambda: "next", outcomes.append, lane="keyring")
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=WAIT)
    assert outcomes == ["no keyring", "next"]


def test_without_an_attached_loop_the_standalone_one_is_started_lazily(
    qtbot: Any, workers: Workers, loop_thread: asyncio.AbstractEventLoop
) -> None:
    assert not workers._standalone.started  # nothing started until needed

    async def where() -> str:
        return threading.current_thread().name

    seen: list[str] = []
    workers.attach(loop_thread)
    workers.submit(where, seen.append)
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=WAIT)
    assert not workers._standalone.started
    workers.detach(loop_thread)  # the monitor stopped: a dialog still works
    workers.submit(where, seen.append)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=WAIT)
    assert seen == ["bridge-like", "lifeline-workers"]


def test_a_closed_attached_loop_falls_back_to_the_standalone_one(
    qtbot: Any, workers: Workers
) -> None:
    closed = asyncio.new_event_loop()
    closed.close()
    workers.attach(closed)
    seen: list[str] = []
    workers.submit(lambda: threading.current_thread().name, seen.append)
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT)
    assert seen[0].startswith("asyncio_")  # the standalone loop's executor


def test_a_job_cut_short_by_the_loop_ending_reports_it(
    qtbot: Any, workers: Workers
) -> None:
    errors: list[BaseException] = []
    running = threading.Event()

    async def forever() -> None:
        running.set()
        await asyncio.Event().wait()

    workers.submit(forever, None, errors.append)
    qtbot.waitUntil(running.is_set, timeout=WAIT)
    workers.shutdown()
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT)
    assert isinstance(errors[0], WorkerStopped)


def test_results_for_a_deleted_window_are_dropped(qtbot: Any, workers: Workers) -> None:
    release = threading.Event()
    delivered: list[object] = []

    class Window(QObject):
        def done(self, result: object) -> None:
            delivered.append(("deleted window", result))

    window = Window()
    owned = QObject()
    # One lane: the last job's result arrives after the others were delivered or dropped.
    workers.submit(lambda: release.wait(WAIT / 1000), window.done, lane="w")
    workers.submit(lambda: "owned", delivered.append, owner=owned, lane="w")
    workers.submit(lambda: "alive", delivered.append, lane="w")
    shiboken6.delete(window)
    shiboken6.delete(owned)
    release.set()
    qtbot.waitUntil(lambda: bool(delivered), timeout=WAIT)
    assert delivered == ["alive"]


def test_submit_from_another_thread(qtbot: Any, workers: Workers) -> None:
    delivered: list[tuple[str, bool]] = []
    thread = threading.Thread(
        target=lambda: workers.submit(lambda: "from a thread",
                                      lambda r: delivered.append((r, on_gui_thread())))
    )
    thread.start()
    thread.join(5)
    qtbot.waitUntil(lambda: bool(delivered), timeout=WAIT)
    assert delivered == [("from a thread", True)]


def test_a_dialogs_workers_deleted_mid_job_is_safe_and_ends_its_loop(qtbot: Any) -> None:
    """A dialog closed (and deleted) while its job runs: nothing is delivered, nothing
    crashes, and the loop it started ends with it."""
    dialog = QObject()
    workers = Workers(dialog)
    started = threading.Event()
    loop_thread: list[threading.Thread] = []
    delivered: list[object] = []

    async def slow() -> str:
        loop_thread.append(threading.current_thread())
        started.set()
        await asyncio.sleep(30)
        return "too late"

    workers.submit(slow, delivered.append, delivered.append)
    qtbot.waitUntil(started.is_set, timeout=WAIT)
    shiboken6.delete(dialog)  # takes its Workers with it
    qtbot.waitUntil(lambda: not loop_thread[0].is_alive(), timeout=WAIT)
    # The cancelled job's report was emitted to a receiver that is gone: dropped.
    probe = Workers()
    done: list[str] = []
    probe.submit(lambda: "after", done.append)
    qtbot.waitUntil(lambda: done == ["after"], timeout=WAIT)
    probe.shutdown()
    assert delivered == []


@pytest.mark.parametrize("held_by", ["callback", "work"])
def test_the_last_reference_to_a_widget_of_a_job_goes_on_the_gui_thread(
    qtbot: Any, workers: Workers, held_by: str
) -> None:
    """A Python-owned QObject destroyed in a loop thread corrupts Qt's event queues (a
    segfault in the GUI's next processEvents): the loop must never drop the last
    reference to anything of the GUI's, a job's callback or its work."""
    deleted_on: list[str] = []
    release = threading.Event()

    class Window(QObject):
        def done(self, _result: object) -> None:
            pass

        def slow(self) -> bool:
            return release.wait(WAIT / 1000)

    window = Window()
    window.destroyed.connect(
        lambda: deleted_on.append(threading.current_thread().name),
        Qt.ConnectionType.DirectConnection,
    )
    if held_by == "callback":
        workers.submit(lambda: release.wait(WAIT / 1000), window.done)
    else:
        workers.submit(window.slow)
    del window  # the job holds the last reference now
    release.set()
    qtbot.waitUntil(lambda: bool(deleted_on), timeout=WAIT)
    assert deleted_on == [threading.main_thread().name]
