"""The tray menu's snooze entries: write the snooze off the GUI thread, then have the
monitor look at the site again so the menu shows it snoozed at once.

The file is the one `lifeline snooze` writes (app/snooze.py); the monitor re-reads it
each round, so a snooze made from the command line reaches the tray within one interval
and one made here reaches a running `lifeline watch` alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

from app.durations import parse_duration
from app.snooze import SnoozeStore
from ui.workers import Workers

log = logging.getLogger(__name__)

TOMORROW_HOUR = 9  # "until tomorrow 9:00", local time


def snooze_end(how: str, now: datetime) -> datetime:
    """The end of a menu snooze: "hour", or "tomorrow" (9:00 local time)."""
    if how == "hour":
        return now + timedelta(hours=1)
    if how == "tomorrow":
        local = now.astimezone()
        tomorrow = (local + timedelta(days=1)).date()
        wall = datetime(tomorrow.year, tomorrow.month, tomorrow.day, TOMORROW_HOUR)
        return wall.astimezone().astimezone(UTC)  # 9:00 as the local zone has it that day
    raise ValueError(f"unknown snooze {how!r}")


class SnoozeActions:
    """`handler(site, how)` for MenuHandlers.snooze: "hour", "tomorrow", "ask", "off"."""

    def __init__(
        self,
        store: SnoozeStore,
        workers: Workers,
        check_now: Callable[[str | None], None],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        parent: QWidget | None = None,
    ) -> None:
        self._store = store
        self._workers = workers
        self._check_now = check_now
        self._clock = clock
        self._parent = parent
        self.dialog: QInputDialog | None = None  # the open "Snooze…" question

    def __call__(self, site: str, how: str) -> None:
        if how == "ask":
            self._ask(site)
        elif how == "off":
            now = self._clock()
            self._write(site, lambda: self._store.unsnooze(site, now=now))
        else:
            self.snooze(site, snooze_end(how, self._clock()))

    def snooze(self, site: str, until: datetime) -> None:
        now = self._clock()
        self._write(site, lambda: self._store.snooze(site, until, now=now))

    def _write(self, site: str, work: Callable[[], object]) -> None:
        # A failed write is reported by Workers (one line in the tray), never silent.
        self._workers.submit(work, lambda _: self._check_now(site), lane="snoozes")

    def _ask(self, site: str, problem: str = "", typed: str = "2h") -> None:
        """A non-modal question (the GUI thread never waits on it)."""
        if self.dialog is not None:
            self.dialog.close()
        dialog = QInputDialog(self._parent)
        dialog.setWindowTitle(f"Snooze {site}")
        hint = "How long? For example 30m, 2h or 1d."
        dialog.setLabelText(f"{problem}\n{hint}".strip())
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue(typed)  # what was typed stays, to be corrected
        dialog.textValueSelected.connect(lambda text: self._asked(site, text))
        self.dialog = dialog
        dialog.open()

    def _asked(self, site: str, text: str) -> None:
        try:
            duration = parse_duration(text)
        except ValueError as exc:
            self._ask(site, str(exc), text)  # ask again, saying what was wrong
            return
        self.dialog = None
        self.snooze(site, self._clock() + duration)
