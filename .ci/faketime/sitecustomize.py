"""Loaded by every Python process of the suite's second run, under `faketime` (.ci/run).

libfaketime 0.9.10 (Debian 12's) breaks Python 3.11's time.sleep: Python sleeps with
clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) and libfaketime shifts that absolute
monotonic deadline by the fake offset, so the kernel answers EINVAL ("OSError: [Errno 22]
Invalid argument"; wolfcw/libfaketime#426, even with FAKETIME_DONT_FAKE_MONOTONIC=1).
A relative select() timeout is not shifted, so sleeping through select() behaves as the
real time.sleep does.

Its poll() wrapper is slow besides: socketserver's accept loop (PollSelector) then answers
40 parallel probes of the loopback test servers so late that 0.5 s deadlines expire
(measured: 12 of 20 sites "down" instead of 5). epoll, which asyncio uses already, is not
affected, so the servers use it here too. This file is never on the path outside that run.
"""

from __future__ import annotations

import os
import select
import time

if "faketime" in os.environ.get("LD_PRELOAD", ""):

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep

    import selectors
    import socketserver

    if hasattr(selectors, "EpollSelector"):
        socketserver._ServerSelector = selectors.EpollSelector  # type: ignore[attr-defined]
