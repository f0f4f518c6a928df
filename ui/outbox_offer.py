"""Offer to send saved tickets once the ticket service is reachable; never send unasked.

Drafts that were tried and not filed (and not filed by phone) wait in the outbox. After
each check the tray's snapshot says whether the network works; when it does (at start,
after an outage, or every RECHECK_SECONDS) the outbox is read on the worker thread and,
if tickets wait and the ticket service accepts a connection (nothing is sent to find
out), the user is asked. "Not now" is remembered for that set of drafts until
the network drops and comes back, or a new draft joins them.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from app.config import Config
from app.credentials import CredentialStore
from app.events import MonitorSnapshot
from app.paths import Paths
from app.tickets.outbox import Draft, Outbox, pending_drafts
from ui.bridge import Bridge
from ui.workers import Workers

if TYPE_CHECKING:
    from app.tickets.session import SessionOutcome

RECHECK_SECONDS = 600.0

SEND, LATER, BY_PHONE = "send", "later", "by_phone"
Asker = Callable[[list[Draft], Callable[[str], None]], None]  # answers SEND, LATER, BY_PHONE
Outcomes = list[tuple[Draft, "SessionOutcome"]]


class OutboxOffer(QObject):
    offered = Signal(object)  # the drafts the user is asked about
    sent = Signal(object)  # the outcomes after the user said yes

    def __init__(
        self,
        *,
        outbox_path: Path,
        workers: Workers,
        # Each a blocking call (run in the worker pool) or a coroutine (run on the loop).
        pending: Callable[[], list[Draft] | Awaitable[list[Draft]]] | None = None,
        send: Callable[[], Outcomes | Awaitable[Outcomes]],
        ask: Asker | None = None,
        report: Callable[[str], None] | None = None,
        hand_over: Callable[[str, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._path = outbox_path
        self._pending = pending or (lambda: pending_drafts(outbox_path))
        self._workers = workers
        self._send = send
        self._boxes: list[QMessageBox] = []  # non-modal boxes have no parent window to own them
        self._ask = ask or self._ask_with_message_box
        self._report = report or self._show_report
        self._hand_over = hand_over or _clipboard_and_browser
        self._clock = clock
        self._network_ok: bool | None = None
        self._last_look: float | None = None
        self._looking = False
        self._asking = False
        self._declined: frozenset[int] = frozenset()

    def on_snapshot(self, snapshot: MonitorSnapshot) -> None:
        if snapshot.last_check is None:
            return  # nothing checked yet: no idea whether the network works
        came_back = snapshot.network_ok and self._network_ok is False
        self._network_ok = snapshot.network_ok
        if not snapshot.network_ok:
            return
        if came_back:
            self._declined = frozenset()
        due = self._last_look is None or self._clock() - self._last_look >= RECHECK_SECONDS
        if came_back or due:
            self.look()

    def look(self) -> None:
        """Read the outbox (worker thread) and ask about what waits."""
        if self._looking or self._asking:
            return
        self._looking = True
        self._last_look = self._clock()
        self._workers.submit(self._pending, self._on_pending, self._on_error, owner=self)

    def _on_pending(self, drafts: list[Draft]) -> None:
        self._looking = False
        ids = frozenset(d.id for d in drafts)
        if not drafts or ids <= self._declined:
            return
        self._asking = True
        self.offered.emit(drafts)
        self._ask(drafts, lambda choice: self._answered(drafts, choice))

    def _answered(self, drafts: list[Draft], choice: str) -> None:
        self._asking = False
        if choice == SEND:
            self._looking = True
            self._workers.submit(self._send, self._on_sent, self._on_error, owner=self)
        elif choice == BY_PHONE:
            path, ids = self._path, [d.id for d in drafts]
            self._workers.submit(lambda: _mark_handled(path, ids), None, self._on_error, owner=self)
        else:
            self._declined = frozenset(d.id for d in drafts)

    def _on_sent(self, outcomes: Outcomes) -> None:
        self._looking = False
        self.sent.emit(outcomes)
        # A dashboard that is back takes the text the way the form hands it: on the
        # clipboard, the support page open (the first such draft; the report lists all).
        handed = next((o for _, o in outcomes if o.handed_now is not None), None)
        if handed is not None:
            self._hand_over(handed.text, handed.support_url)
        self._report(summary(outcomes))

    def _on_error(self, exc: BaseException) -> None:
        self._looking = False
        self._report(f"Saved tickets could not be read or sent: {exc}")

    # -- the default questions, non-modal: the GUI thread goes on while they are shown

    def _ask_with_message_box(self, drafts: list[Draft], answer: Callable[[str], None]) -> None:
        count = len(drafts)
        items = "".join(
            f"<li><b>{html.escape(d.site)}</b>: {html.escape(d.subject)}"
            f"<br><i>{html.escape(d.last_error)}</i></li>"
            for d in drafts
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Send saved emergency tickets?",
            f"{count} emergency ticket{'s' if count != 1 else ''} could not be sent earlier. "
            f"Send {'them' if count != 1 else 'it'} now?<ul>{items}</ul>",
        )
        box.setTextFormat(Qt.TextFormat.RichText)  # built here, every outside part escaped
        choices = {
            box.addButton("Send now", QMessageBox.ButtonRole.AcceptRole): SEND,
            box.addButton("I filed by phone", QMessageBox.ButtonRole.DestructiveRole): BY_PHONE,
            box.addButton("Not now", QMessageBox.ButtonRole.RejectRole): LATER,
        }
        box.buttonClicked.connect(lambda button: answer(choices.get(button, LATER)))
        self._show(box)

    def _show_report(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Saved emergency tickets", text)
        # The report quotes ticket services' answers: never rendered as rich text.
        box.setTextFormat(Qt.TextFormat.PlainText)
        self._show(box)

    def _show(self, box: QMessageBox) -> None:
        box.setModal(False)
        self._boxes.append(box)
        box.finished.connect(lambda _result: self._boxes.remove(box))
        box.show()


def _clipboard_and_browser(text: str, url: str) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices, QGuiApplication

    QGuiApplication.clipboard().setText(text)
    QDesktopServices.openUrl(QUrl(url))


def _mark_handled(path: Path, ids: list[int]) -> None:
    outbox = Outbox(path)
    for draft_id in ids:
        outbox.mark_handled(draft_id)


def summary(outcomes: Outcomes) -> str:
    from app.tickets.session import route_line

    lines = []
    for draft, outcome in outcomes:
        lines.append(f"{draft.site} (draft {draft.id}):")
        if outcome.skipped:
            lines.append(f"  {outcome.skipped}")
        lines += [f"  {route_line(r)}" for r in outcome.routes]
        if outcome.handed_now is not None:
            lines.append(
                "  The ticket text is on the clipboard: paste it on the dashboard's Support tab."
            )
        if outcome.needs_hotline:
            lines.append(f"  Or call {outcome.hotline} (the line only files a ticket).")
    return "\n".join(lines) or "No saved ticket was waiting."


def watch_outbox(
    bridge: Bridge, *, paths: Paths, store: CredentialStore, **kwargs: Any
) -> OutboxOffer:
    """For the tray app: offer saved tickets after checks that found the network working."""

    # The ticket machinery (every route, the session, New Relic) is imported only when a
    # saved ticket waits: the idle tray of someone with an empty outbox never loads it.
    async def pending() -> list[Draft]:
        if not await asyncio.to_thread(pending_drafts, paths.outbox_db):
            return []
        from app.tickets.jobs import pending_if_reachable

        config: Config = bridge.config
        return await pending_if_reachable(config, paths.outbox_db)

    async def send() -> Outcomes:
        from app.tickets.jobs import send_pending

        config: Config = bridge.config
        return await send_pending(config, paths.outbox_db, store)

    offer = OutboxOffer(
        outbox_path=paths.outbox_db,
        workers=bridge.workers,
        pending=pending,
        send=send,
        parent=bridge,
        **kwargs,
    )
    bridge.snapshotChanged.connect(offer.on_snapshot)
    return offer
