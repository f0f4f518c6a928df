"""A stand-in with app.monitor.Monitor's interface, for bridge and tray tests.

Not a mock of behaviour we test: the bridge's job is hosting *a* monitor on a loop
thread and carrying its events across; this one emits exactly what a test tells it to,
from the loop thread, through the same subscribe/run/stop contract.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from app.config import Config
from app.events import Event, MonitorSnapshot


class FakeMonitor:
    def __init__(self, config: Config | None = None, *, fail_with: Exception | None = None):
        self.config = config or Config()
        self.fail_with = fail_with
        self.subscribers: list[Callable[[Event], None]] = []
        self.checks: list[str | None] = []
        self.configs: list[Config] = []
        self.threads: set[str] = set()  # names of the threads commands ran on
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.stopped = threading.Event()
        self.current = MonitorSnapshot()

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        self.subscribers.append(callback)
        return lambda: self.subscribers.remove(callback)

    async def run(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.threads.add(threading.current_thread().name)
        if self.fail_with is not None:
            raise self.fail_with
        self._stop = asyncio.Event()
        await self._stop.wait()
        self.stopped.set()

    def stop(self) -> None:
        self.threads.add(threading.current_thread().name)
        if self._stop is not None:
            self._stop.set()

    def update_config(self, config: Config) -> None:
        self.threads.add(threading.current_thread().name)
        self.configs.append(config)

    def check_now(self, site: str | None = None) -> None:
        self.threads.add(threading.current_thread().name)
        self.checks.append(site)

    def snapshot(self) -> MonitorSnapshot:
        return self.current

    # -- test side ---------------------------------------------------------------------

    def emit(self, *events: Event) -> None:
        """Deliver events from the loop thread, as the real monitor does."""
        assert self.loop is not None, "run() has not started yet"

        def send() -> None:
            for event in events:
                for callback in list(self.subscribers):
                    callback(event)

        self.loop.call_soon_threadsafe(send)
