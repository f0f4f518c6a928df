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

Loop threads never hold the last reference to anything of the GUI's: a Python-owned
QObject (a dialog, a widget a callback is bound to) whose last reference goes in another
thread is destroyed there, and Qt's event queues do not survive that (a segfault in the
GUI's next processEvents). So the callbacks and the owner stay on the GUI side, in the
Workers' table of jobs in flight; the loop gets the work alone, drops it before it
reports, and hands errors over without their traceback frames (formatted first, for the
log). Outcomes travel through one relay that lives as long as the application.

The loop is the monitor's: the Bridge attaches it when it starts and detaches it when it
stops. Without one (Settings on first run, a dialog opened after the monitor failed to
start, tests) Workers starts its own loop in a thread on first use, and `shutdown()`
ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import threading
import traceback
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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
    """The GUI side of a job: everything that may reference a widget stays here."""

    id: int
    work: Work | None
    on_done: OnDone | None
    on_error: OnError | None
    lane: str | None
    owner: QObject | None


@dataclass(frozen=True)
class _Outcome:
    """What crosses back from a loop thread: plain data, no callback, no frame."""

    home: int  # the Workers' key in _HOMES
    job: int
    result: Any = None
    error: BaseException | None = None
    trace: str = ""  # the error's traceback, formatted on the loop thread
    # The job's work, handed back so that the GUI thread lets go of it (see _release).
    holder: list[Work | None] = field(default_factory=list)


_ids = itertools.count(1)
_HOMES: weakref.WeakValueDictionary[int, Workers] = weakref.WeakValueDictionary()


class _Relay(QObject):
    """Carries outcomes and submissions to the GUI thread. One for the application,
    made on the GUI thread and never deleted: an emitter that another thread could
    destroy mid-emit would take Qt's queue with it."""

    finished = Signal(object)  # _Outcome, from a loop thread
    submitted = Signal(object)  # (home key, _Job), from any other thread

    def __init__(self) -> None:
        super().__init__()
        queued = Qt.ConnectionType.QueuedConnection
        self.finished.connect(self._finished, queued)
        self.submitted.connect(self._submitted, queued)

    @Slot(object)
    def _finished(self, outcome: _Outcome) -> None:
        try:
            home = _home(outcome.home)
            if home is not None:
                home._finish(outcome)
        finally:
            # Here, on the GUI thread, whoever holds the holder list afterwards: the work
            # (a closure over a dialog, a widget's bound method) goes with the GUI.
            outcome.holder.clear()

    @Slot(object)
    def _submitted(self, item: tuple[int, _Job]) -> None:
        home = _home(item[0])
        if home is not None:
            home._enqueue(item[1])


_relay: _Relay | None = None


def _the_relay() -> _Relay:
    """Made by the first Workers, on the GUI thread (Workers are made there)."""
    global _relay
    if _relay is None:
        _relay = _Relay()
    return _relay


def _home(key: int) -> Workers | None:
    home = _HOMES.get(key)
    return home if home is not None and shiboken6.isValid(home) else None


def _report(outcome: _Outcome) -> None:
    relay = _relay
    if relay is not None:
        with contextlib.suppress(RuntimeError):  # interpreter exit tore Qt down first
            relay.finished.emit(outcome)


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
        self._in_flight: dict[int, _Job] = {}  # GUI thread: started, not yet finished
        self._key = next(_ids)
        _the_relay()
        _HOMES[self._key] = self
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
        job = _Job(next(_ids), work, on_done, on_error, lane, owner)
        if QThread.currentThread() is self.thread():
            self._enqueue(job)
        elif _relay is not None:
            with contextlib.suppress(RuntimeError):
                _relay.submitted.emit((self._key, job))

    def _enqueue(self, job: _Job) -> None:
        if job.lane is None:
            self._start(job)
            return
        waiting = self._lanes.setdefault(job.lane, deque())
        waiting.append(job)
        if len(waiting) == 1:
            self._start(job)

    def _start(self, job: _Job) -> None:
        self._in_flight[job.id] = job
        holder = [job.work]  # the loop pops it, and lets go of it before it reports
        start = _Start(self._key, job.id, holder)
        loop = self._attached_loop()
        if loop is not None:
            try:
                loop.call_soon_threadsafe(_spawn, start)
                return
            except RuntimeError:  # closed since we looked: the standalone loop takes it
                self.detach(loop)
        loop = self._standalone.loop()
        try:
            loop.call_soon_threadsafe(_spawn, start)
        except RuntimeError:  # shut down meanwhile (another thread called shutdown)
            self._finish(_Outcome(self._key, job.id, error=WorkerStopped(
                "the background worker is not running")))

    def _attached_loop(self) -> asyncio.AbstractEventLoop | None:
        with self._lock:
            loop = self._attached
        return loop if loop is not None and not loop.is_closed() else None

    # -- GUI thread -------------------------------------------------------------------------

    def _finish(self, outcome: _Outcome) -> None:
        job = self._in_flight.pop(outcome.job, None)
        if job is None:
            return
        try:
            self._deliver(job, outcome)
        finally:
            if job.lane is not None:
                waiting = self._lanes.get(job.lane)
                if waiting and waiting[0] is job:
                    waiting.popleft()
                    if waiting:
                        self._start(waiting[0])
                    else:
                        del self._lanes[job.lane]

    def _deliver(self, job: _Job, outcome: _Outcome) -> None:
        if outcome.error is not None:
            if job.on_error is None:
                log.error("background job failed: %s\n%s", error_line(outcome.error),
                          outcome.trace.rstrip())
                self.error.emit(error_line(outcome.error))
            elif _alive(job.on_error, job.owner):
                job.on_error(outcome.error)
            return
        if job.on_done is not None and _alive(job.on_done, job.owner):
            job.on_done(outcome.result)


@dataclass(frozen=True)
class _Start:
    """What a loop thread is given: the work, in a holder it empties, and where to report."""

    home: int
    job: int
    holder: list[Work | None]


def _spawn(start: _Start) -> None:
    """On the loop: start the job; its outcome is reported exactly once, even when the
    task is cancelled before it first ran (the loop ending)."""

    def ended(task: asyncio.Task[_Outcome]) -> None:
        if task.cancelled():
            _report(_Outcome(start.home, start.job, error=WorkerStopped(
                "the background worker stopped before the job ended"), holder=start.holder))
        else:
            _report(task.result())

    asyncio.get_running_loop().create_task(_run(start)).add_done_callback(ended)


async def _run(start: _Start) -> _Outcome:
    try:
        work = start.holder[0]
        assert work is not None
        if inspect.iscoroutinefunction(work):
            awaitable: Any = work()
            del work
            result = await awaitable
        else:
            del work
            result = await asyncio.get_running_loop().run_in_executor(None, _call, start.holder)
            if inspect.isawaitable(result):
                result = await _awaited(result)
        return _Outcome(start.home, start.job, result=result, holder=start.holder)
    except Exception as exc:  # delivered to on_error or the error signal, not swallowed
        return _Outcome(start.home, start.job, error=exc, trace=_detach_frames(exc),
                        holder=start.holder)


def _call(holder: list[Work | None]) -> Any:
    """In the executor: the work, called from its holder (which keeps it: the GUI thread
    lets go of it, never this one)."""
    work = holder[0] if holder else None
    try:
        return work() if work is not None else None
    finally:
        del work


def _detach_frames(exc: BaseException) -> str:
    """The traceback as text (for the log); then the frames are dropped, so the widget a
    failing method belonged to is not kept alive by the loop thread."""
    text = "".join(traceback.format_exception(exc))
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__
    return text


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
    """Cancel the loop's tasks until none is left, and run what was scheduled but not
    yet run: a job submitted while the loop was stopping is a callback that becomes a
    task, and must be reported too (closing the loop would drop it, and its work with
    it, on this thread)."""
    while True:
        loop.call_soon(loop.stop)
        loop.run_forever()  # one pass over what is ready now
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if not tasks:
            return
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
