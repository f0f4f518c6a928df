"""The one way the GUI runs background work: `Workers.submit(work, on_done, on_error)`.

The GUI thread never waits (no network, keyring, disk or sleep in a slot), so every such
call is handed to `submit`:

- `work` is a zero-argument callable. If it is an `async def` function, or returns a
  coroutine, the coroutine runs on the asyncio loop; otherwise `work` itself runs in
  that loop's thread pool (a keyring prompt or a sqlite write), so it never stalls the
  loop that monitors the sites.
- `on_done(result)` or `on_error(exc)` is then called on the GUI thread (a queued signal).
  Without `on_error`, the error is logged and emitted as `error` (one line), which the
  tray shows: a failure is never silent.
- Jobs given the same `lane` run one after another, in submission order (keyring calls
  must not race: a locked keyring would prompt twice). Lanes are kept on the GUI thread,
  so the order holds even when the loop underneath changes.

The loop is the monitor's: the Bridge attaches it when it starts and detaches it when it
stops. Without one (Settings on first run, a dialog opened after the monitor failed to
start, tests) Workers starts its own loop in a thread on first use, and `shutdown()`
ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from app.text import error_line

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[], Any]  # a value, an awaitable, or (async def) a coroutine
OnDone = Callable[[Any], None]
OnError = Callable[[BaseException], None]


class WorkerStopped(RuntimeError):
    """The loop a job ran on ended before the job did (the app is quitting)."""


@dataclass
class _Job:
    work: Work
    on_done: OnDone | None
    on_error: OnError | None
    lane: str | None
    owner: QObject | None
    result: Any = None
    error: BaseException | None = None


class _Relay(QObject):
    """The signals other threads emit. Not Workers' own: a Workers belonging to a dialog
    is deleted with it, possibly while a loop thread is emitting; the relay has no
    parent and each job holds it, so the sender outlives every emit. Qt drops what is
    queued for a receiver that is gone."""

    finished = Signal(object)  # _Job, from a loop thread to the GUI thread
    submitted = Signal(object)  # _Job, from another thread to the GUI thread


def _finished(relay: _Relay, job: _Job) -> None:
    with contextlib.suppress(RuntimeError):  # interpreter exit tore Qt down first
        relay.finished.emit(job)


class _Standalone:
    """A loop of Workers' own in a daemon thread, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def started(self) -> bool:
        return self._loop is not None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=_serve, args=(self._loop,), name="lifeline-workers", daemon=True
                ).start()
            return self._loop

    def stop(self, *_args: object) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # already closed
                loop.call_soon_threadsafe(loop.stop)
        # Not joined: a job blocked in C (a keyring prompt) must not hang the GUI; the
        # thread is a daemon and closes its loop when the job returns.


class Workers(QObject):
    """Runs jobs off the GUI thread and brings their outcome back to it. Lives on the
    GUI thread; `submit` may be called from any thread."""

    error = Signal(str)  # a job without on_error failed; already logged

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._attached: asyncio.AbstractEventLoop | None = None
        self._standalone = _Standalone()
        self._lanes: dict[str, deque[_Job]] = {}  # GUI thread: the head is running
        self._relay = _Relay()
        queued = Qt.ConnectionType.QueuedConnection
        self._relay.finished.connect(self._finish, queued)
        self._relay.submitted.connect(self._enqueue, queued)
        # A dialog's Workers goes with the dialog: so does its loop, if it started one.
        self.destroyed.connect(self._standalone.stop)

    # -- the loop underneath ------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run jobs on `loop` (the monitor's) from now on."""
        with self._lock:
            self._attached = loop

    def detach(self, loop: asyncio.AbstractEventLoop) -> None:
        """`loop` is ending: later jobs go to the standalone loop."""
        with self._lock:
            if self._attached is loop:
                self._attached = None

    def shutdown(self) -> None:
        """End the standalone loop, if one was started (the attached one is not ours)."""
        self._standalone.stop()

    # -- submitting ------------------------------------------------------------------------

    def submit(
        self,
        work: Work,
        on_done: OnDone | None = None,
        on_error: OnError | None = None,
        *,
        lane: str | None = None,
        owner: QObject | None = None,
    ) -> None:
        """Run `work` off the GUI thread; its result goes to `on_done` on the GUI thread.

        `owner`: a widget the callbacks belong to; once it is deleted the outcome is
        dropped (a bound method of a deleted QObject is recognised without it).
        """
        job = _Job(work, on_done, on_error, lane, owner)
        if QThread.currentThread() is self.thread():
            self._enqueue(job)
        else:
            relay = self._relay  # held here: this object may go meanwhile, the relay not
            with contextlib.suppress(RuntimeError):
                relay.submitted.emit(job)

    @Slot(object)
    def _enqueue(self, job: _Job) -> None:
        if job.lane is None:
            self._start(job)
            return
        waiting = self._lanes.setdefault(job.lane, deque())
        waiting.append(job)
        if len(waiting) == 1:
            self._start(job)

    def _start(self, job: _Job) -> None:
        # The loop thread holds the relay, never this object (see _Relay).
        report = functools.partial(_finished, self._relay)
        loop = self._attached_loop()
        if loop is not None:
            try:
                loop.call_soon_threadsafe(_spawn, job, report)
                return
            except RuntimeError:  # closed since we looked: the standalone loop takes it
                self.detach(loop)
        loop = self._standalone.loop()
        try:
            loop.call_soon_threadsafe(_spawn, job, report)
        except RuntimeError:  # shut down meanwhile (another thread called shutdown)
            job.error = WorkerStopped("the background worker is not running")
            self._finish(job)

    def _attached_loop(self) -> asyncio.AbstractEventLoop | None:
        with self._lock:
            loop = self._attached
        return loop if loop is not None and not loop.is_closed() else None

    # -- GUI thread -------------------------------------------------------------------------

    @Slot(object)
    def _finish(self, job: _Job) -> None:
        try:
            self._deliver(job)
        finally:
            if job.lane is not None:
                waiting = self._lanes.get(job.lane)
                if waiting and waiting[0] is job:
                    waiting.popleft()
                    if waiting:
                        self._start(waiting[0])
                    else:
                        del self._lanes[job.lane]

    def _deliver(self, job: _Job) -> None:
        if job.error is not None:
            if job.on_error is None:
                log.error("background job failed", exc_info=job.error)
                self.error.emit(error_line(job.error))
            elif _alive(job.on_error, job.owner):
                job.on_error(job.error)
            return
        if job.on_done is not None and _alive(job.on_done, job.owner):
            job.on_done(job.result)


def _spawn(job: _Job, report: Callable[[_Job], None]) -> None:
    """On the loop: start the job; its outcome is reported exactly once, even when the
    task is cancelled before it first ran (the loop ending)."""

    def ended(task: asyncio.Task[None]) -> None:
        if task.cancelled():
            job.error = WorkerStopped("the background worker stopped before the job ended")
        report(job)

    asyncio.get_running_loop().create_task(_run(job)).add_done_callback(ended)


async def _run(job: _Job) -> None:
    try:
        if inspect.iscoroutinefunction(job.work):
            result = await job.work()
        else:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(None, job.work)
            if inspect.isawaitable(result):
                result = await _awaited(result)
        job.result = result
    except Exception as exc:  # delivered to on_error or the error signal, not swallowed
        job.error = exc


async def _awaited(value: Awaitable[T]) -> T:
    return await value


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        cancel_pending(loop)
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


def cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the loop's tasks until none is left: a job submitted while the loop was
    stopping becomes a task during the first round, and must be reported too."""
    while tasks := [t for t in asyncio.all_tasks(loop) if not t.done()]:
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _alive(callback: Callable[..., object], owner: QObject | None) -> bool:
    """False when the callback's widget is gone (a dialog closed while its job ran)."""
    target = getattr(callback, "__self__", None)
    for obj in (owner, target):
        if isinstance(obj, QObject) and not shiboken6.isValid(obj):
            log.debug("a background result was dropped: its window is gone")
            return False
    return True


