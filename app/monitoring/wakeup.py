"""The pause between two rounds, cut short by `check_now`, a config change or `stop`."""

from __future__ import annotations

import asyncio

from app.clock import Clock


class Wakeup:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._event: asyncio.Event | None = None

    def start(self) -> None:
        """Called on the monitor's loop before its first round (the event belongs there);
        a poke before it is not needed: the first round starts at once."""
        self._event = asyncio.Event()

    def clear(self) -> None:
        if self._event is not None:
            self._event.clear()

    def poke(self) -> None:
        if self._event is not None:
            self._event.set()

    async def wait(self, delay: float) -> None:
        """Sleep `delay` seconds on the clock, or until poked (a poke since the last
        `clear` counts)."""
        assert self._event is not None
        if delay <= 0 or self._event.is_set():
            return
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))
        waker = asyncio.ensure_future(self._event.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()
