"""A real ui.workers.Workers that also notes the thread each job ran on."""

from __future__ import annotations

import inspect
import threading
from typing import Any

from ui.workers import OnDone, OnError, Work, Workers


class RecordingWorkers(Workers):
    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []  # thread idents, one per job, as each started

    def submit(self, work: Work, on_done: OnDone | None = None, on_error: OnError | None = None,
               **kwargs: Any) -> None:
        def note() -> None:
            self.threads.append(threading.get_ident())

        async def on_loop() -> Any:
            note()
            return await work()

        def in_pool() -> Any:
            note()
            return work()

        job = on_loop if inspect.iscoroutinefunction(work) else in_pool
        super().submit(job, on_done, on_error, **kwargs)
