"""Events to subscribers, synchronously on the loop thread, history first.

Every event goes to the history writer (which keeps only state changes) before any
subscriber sees it, so a subscriber that fails, or a silencing policy added between a
tracker and `emit`, can never keep a change out of the history. A failing subscriber is
logged and reported as one MonitorError; a failing error handler is not answered with
more errors.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from app.clock import Clock
from app.events import Event, MonitorError

log = logging.getLogger(__name__)


class EventFanout:
    def __init__(self, clock: Clock, record: Callable[[Event], None]) -> None:
        self._clock = clock
        self._record = record
        self._subscribers: list[Callable[[Event], None]] = []

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, event: Event) -> None:
        self._record(event)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception as exc:  # one broken subscriber must not silence the others
                log.exception("an event subscriber failed")
                if isinstance(event, MonitorError):
                    continue
                self.error(f"a subscriber failed on {type(event).__name__}: {exc}")

    def error(self, message: str) -> None:
        self.emit(MonitorError(at=self._clock.now(), message=message))
