"""The monitor's asyncio loop in a worker thread, Qt signals out.

The Bridge lives on the GUI thread. Its worker thread runs an asyncio loop that hosts
the Monitor; monitor callbacks (on the loop thread) are handed to the GUI thread through
a queued signal, so every public signal below is emitted on the GUI thread. The events
of one loop iteration (a whole round: up to one per site, then CheckCompleted) cross as
ONE list: a queued signal costs the GUI thread about 0.4 ms, and 200 of them in a row
froze it for most of a tenth of a second. Commands
from the UI (check now, new config, stop) reach the loop with call_soon_threadsafe.
Background work of other UI parts (keyring calls, sending a ticket) goes through
ui.workers.Workers: the bridge hands it this loop while it runs, and forwards its errors
(jobs without on_error) to the `error` signal, never swallowed.

The bridge changes nothing process-wide: interpreter tuning is ui.interpreter's, called
by the app's run().
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.config import Config
from app.events import CheckCompleted, Event, MonitorError, MonitorSnapshot
from app.text import error_line
from ui.workers import Workers, cancel_pending

log = logging.getLogger(__name__)

_STOP_GRACE = 5.0  # seconds the monitor gets to finish (flush history) on stop


class MonitorLike(Protocol):
    """What the bridge needs of app.monitor.Monitor (a test can pass a small fake)."""

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]: ...
    async def run(self) -> None: ...
    def stop(self) -> None: ...
    def update_config(self, config: Config) -> None: ...
    def check_now(self, site: str | None = None) -> None: ...
    def snapshot(self) -> MonitorSnapshot: ...


class Bridge(QObject):
    # The monitor's events, on the GUI thread, in order: a list per loop iteration
    # (a round's state changes, reminders and CheckCompleted arrive together).
    monitorEvents = Signal(object)  # list[Event]
    snapshotChanged = Signal(object)  # MonitorSnapshot: the newest of each batch
    configChanged = Signal(object)  # Config, after update_config
    error = Signal(str)  # a one-line message for the user; already logged
    started = Signal()
    finished = Signal()  # the loop has stopped and the thread is about to end

    # Internal hops from the loop thread to the GUI thread (queued connections).
    _fromLoop = Signal(object)
    _loopError = Signal(str)
    _loopFinished = Signal()

    def __init__(
        self,
        monitor: MonitorLike | Callable[[], MonitorLike],
        config: Config,
        parent: QObject | None = None,
        *,
        workers: Workers | None = None,
    ) -> None:
        """`monitor` is a Monitor, or a function making one: then it is made (and its
        modules imported) on the worker thread, while the GUI thread shows the icon.
        `workers` gets this loop while it runs (a Workers of its own by default)."""
        super().__init__(parent)
        self.workers = workers if workers is not None else Workers(self)
        self.workers.error.connect(self.error)
        self._monitor: MonitorLike | None = None
        self._factory: Callable[[], MonitorLike] | None = None
        if hasattr(monitor, "subscribe"):
            self._monitor = monitor  # type: ignore[assignment]
        else:
            self._factory = monitor
        self._config = config
        self._snapshot = MonitorSnapshot()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._running = False
        self._shutdown = asyncio.Event()  # not bound to a loop until first awaited
        self._batch: list[Event] = []  # loop thread: events not yet sent to the GUI
        queued = Qt.ConnectionType.QueuedConnection
        self._fromLoop.connect(self._deliver, queued)
        self._loopError.connect(self._report_error, queued)
        self._loopFinished.connect(self._on_finished, queued)

    # -- state, read on the GUI thread --------------------------------------------

    @property
    def snapshot(self) -> MonitorSnapshot:
        """The latest snapshot, already in memory: menus read this and never wait."""
        return self._snapshot

    @property
    def config(self) -> Config:
        return self._config

    @property
    def running(self) -> bool:
        return self._running

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the bridge was already started")
        # Created here, run there: a loop is not bound to a thread until it runs, so
        # commands issued right after start() already have a loop to go to.
        self._loop = asyncio.new_event_loop()
        self.workers.attach(self._loop)
        self._thread = threading.Thread(
            target=self._thread_main, args=(self._loop,), name="lifeline-monitor", daemon=True
        )
        self._running = True
        self._thread.start()
        self.started.emit()

    def stop(self) -> None:
        """Stop the monitor and the loop; `finished` is emitted when both have ended."""
        self._call(self._request_shutdown)

    def join(self, timeout: float) -> bool:
        """For shutdown paths outside the event loop (tests, atexit); not for slots."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- commands to the monitor --------------------------------------------------------

    def check_now(self, site: str | None = None) -> None:
        self._call(self._tell_monitor, "check_now", site)

    def update_config(self, config: Config) -> None:
        """Apply a new config to the running monitor (no restart)."""
        self._config = config
        if self._loop is not None:  # not started yet: the monitor is made from it
            self._call(self._tell_monitor, "update_config", config)
        self.configChanged.emit(config)

    # -- loop thread -------------------------------------------------------------------

    def _thread_main(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        if self._factory is not None:
            # Before the loop runs: commands queued meanwhile find the monitor made.
            try:
                self._monitor = self._factory()
            except Exception as exc:
                log.exception("the monitor could not be created")
                self._loopError.emit(f"Monitoring could not start: {error_line(exc)}")
        try:
            loop.run_until_complete(self._main())
        finally:
            self.workers.detach(loop)  # jobs from now on go to the standalone loop
            try:
                cancel_pending(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()
                self._loopFinished.emit()

    async def _main(self) -> None:
        monitor = self._monitor
        if monitor is None:  # its creation failed (reported): keep the loop for jobs
            await self._shutdown.wait()
            return
        unsubscribe = monitor.subscribe(self._collect)
        try:
            self._collect(CheckCompleted(at=_now(), snapshot=monitor.snapshot()))
            run = asyncio.ensure_future(monitor.run())
            shutdown = asyncio.ensure_future(self._shutdown.wait())
            await asyncio.wait({run, shutdown}, return_when=asyncio.FIRST_COMPLETED)
            if not run.done():
                monitor.stop()
                try:
                    await asyncio.wait_for(run, _STOP_GRACE)
                except TimeoutError:
                    log.warning("the monitor did not stop within %s s; cancelled", _STOP_GRACE)
            elif (exc := run.exception()) is not None:
                log.error("the monitor stopped with an error", exc_info=exc)
                self._loopError.emit(f"Monitoring stopped: {error_line(exc)}")
            # The loop outlives a failed monitor, so background jobs (a ticket being
            # sent, a secret being saved) still complete; it ends on stop().
            await shutdown
        finally:
            unsubscribe()
            self._send_batch()  # the monitor's last events (it flushed on stop)

    def _collect(self, event: Event) -> None:
        """A monitor event, on the loop thread: kept until the loop's current callback
        (a whole round is applied in one) is done, then sent with the rest."""
        self._batch.append(event)
        if len(self._batch) == 1 and self._loop is not None:
            self._loop.call_soon(self._send_batch)

    def _send_batch(self) -> None:
        batch, self._batch = self._batch, []
        if batch:
            self._fromLoop.emit(batch)

    def _request_shutdown(self) -> None:
        self._shutdown.set()

    def _tell_monitor(self, method: str, *args: Any) -> None:
        if self._monitor is None:
            log.warning("monitor command %s ignored: there is no monitor", method)
            return
        getattr(self._monitor, method)(*args)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        what = str(args[0]) if fn == self._tell_monitor else fn.__name__
        loop = self._loop
        if loop is None or loop.is_closed():
            log.warning("monitor command %s ignored: the loop is not running", what)
            return

        def guarded() -> None:
            try:
                fn(*args)
            except Exception as exc:
                log.exception("monitor command %s failed", what)
                self._loopError.emit(f"{what} failed: {error_line(exc)}")

        try:
            loop.call_soon_threadsafe(guarded)
        except RuntimeError:  # closed between the check and the call
            log.warning("monitor command %s ignored: the loop has stopped", what)

    # -- GUI thread ----------------------------------------------------------------------

    @Slot(object)
    def _deliver(self, batch: list[Event]) -> None:
        # Only the newest snapshot is shown: the ones before it are already out of date.
        newest: MonitorSnapshot | None = None
        for event in batch:
            if isinstance(event, CheckCompleted):
                newest = event.snapshot
            elif isinstance(event, MonitorError):
                log.error("monitor error: %s", event.message)
                self.error.emit(event.message)
        if newest is not None:
            self._snapshot = newest
            self.snapshotChanged.emit(newest)
        self.monitorEvents.emit(batch)

    @Slot(str)
    def _report_error(self, message: str) -> None:
        self.error.emit(message)

    @Slot()
    def _on_finished(self) -> None:
        self._running = False
        self.finished.emit()




def _now() -> datetime:
    return datetime.now(UTC)
