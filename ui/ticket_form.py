"""The emergency ticket form: pre-filled from what Lifeline saw, one button to file it.

It renders a ticket session (app/tickets/session.py), which owns the flow: the form opens
at once from the monitor's latest snapshot while the session's fresh check runs in the
background and updates the diagnostics; Send hands the session the edited ticket, and
the outcome panel shows each route's outcome. Every blocking or network step goes
through Workers, in one lane per form (a save and a send never race for the draft).
When the dashboard is down, or no route answers, the hotline is on screen within
`ticket_timeout` plus a second, guarded by a watchdog here as well as each route's own
deadline. What the user types is saved to the outbox draft as they type.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QClipboard, QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import Config
from app.credentials import CredentialStore
from app.events import MonitorSnapshot, SiteStatus
from app.models import PlatformStatus, SiteState
from app.paths import Paths
from app.presentation import impacted_sites
from app.text import error_line
from app.tickets.builder import Ticket
from app.tickets.outbox import Outbox
from app.tickets.session import (
    OUTBOX_BUSY_TIMEOUT,
    Collected,
    SessionOutcome,
    TicketSession,
    find_site,
    headline,
    support_url,
)
from ui.accessible import StatusLabel
from ui.bridge import Bridge
from ui.fallback_panel import FallbackPanel
from ui.ticket_page import TicketPage
from ui.workers import Workers

log = logging.getLogger(__name__)

SAVE_DELAY_MS = 700  # save typing to the draft this long after the last keystroke
WATCHDOG_SLACK_MS = 800  # on top of ticket_timeout: the hotline is up within 1 s of it


class TicketForm(QDialog):
    """One site's emergency ticket. Non-modal; the tray keeps it while it is open."""

    outcome = Signal(object)  # SessionOutcome, whatever it is
    filed = Signal(object)  # SessionOutcome: it reached people, the dashboard was up
    failed = Signal(str)  # the hotline is shown, with this reason
    handled = Signal()  # the user filed it (dashboard or phone); the draft is settled
    refreshed = Signal()  # a fresh check updated the diagnostics
    draftSaved = Signal(int)  # the draft id, after each save

    def __init__(
        self,
        *,
        session: TicketSession,
        status: SiteStatus | None,
        platform: PlatformStatus | None,
        workers: Workers,
        clipboard: QClipboard,
        open_url: Callable[[str], None] | None = None,
        refresh: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.site = session.site
        self.provider = session.config.provider
        self._workers = workers
        self._lane = f"ticket:{self.site.name}:{id(self)}"
        self._clipboard = clipboard
        self._open_url = open_url or _open_in_browser
        self._ticket = session.start(status, platform)
        self.sending = False
        self.settled = False  # every route reached, or the user filed it: nothing to send
        self._pending_jobs = 0
        self._send_token = 0  # which send the watchdog and the outcome belong to
        self._handed_over = False  # the text went to the clipboard and the page opened

        self.setWindowTitle(f"Emergency ticket: {self.site.name} ({self.site.environment})")
        self.setMinimumWidth(660)
        self.pages = QStackedWidget()
        self.page = TicketPage(provider=self.provider)
        self.page.linkActivated.connect(self._open_url)
        self.page.edited.connect(self._edited)
        self.page.confirmToggled.connect(self._apply_rules)
        self.page.sendRequested.connect(self.send)
        self.page.closeRequested.connect(self.close)
        self.fallback_panel = FallbackPanel(
            provider_name=self.provider.name,
            hotline=self.provider.hotline,
            dashboard=support_url(session.config),
        )
        self._wire_panel(self.fallback_panel)
        self.form_page = self.page
        for page in (self.page, self.fallback_panel):
            self.pages.addWidget(page)
        QVBoxLayout(self).addWidget(self.pages)
        # The page's widgets, by their names, for the tray's tests and scripts.
        for name in ("banner", "notice", "confirm", "subject", "description", "contact_name",
                     "contact_email", "contact_phone", "diagnostics_toggle",
                     "diagnostics_view", "fresh_label", "status_label", "send_button"):
            setattr(self, name, getattr(self.page, name))

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._save_edits)
        self._watchdog = QTimer(self)
        self._watchdog.setSingleShot(True)
        self._watchdog.setInterval(int(self.provider.ticket_timeout * 1000) + WATCHDOG_SLACK_MS)
        self._watchdog.timeout.connect(self._on_watchdog)

        self._show_ticket()
        if refresh:
            self.page.fresh_label.setText(
                "Checking the site again now; diagnostics will update\u2026"
            )
            # Not in the form's lane: a send never waits on the check.
            workers.submit(
                session.collect, self._on_refreshed, self._on_refresh_failed, owner=self
            )

    def _wire_panel(self, panel: FallbackPanel) -> None:
        panel.copyRequested.connect(self.copy_ticket_text)
        panel.dashboardRequested.connect(lambda: self._open_url(support_url(self.session.config)))
        panel.retryRequested.connect(self.send)
        panel.filedRequested.connect(self.filed_on_dashboard)
        panel.filedByPhoneRequested.connect(self.filed_by_phone)
        panel.linkActivated.connect(self._open_url)
        panel.closeRequested.connect(self.close)

    @property
    def draft_id(self) -> int | None:
        return self.session.draft_id

    # ------------------------------------------------------------------ showing

    def _show_ticket(self) -> None:
        self.page.show_ticket(self._ticket)
        assert self.session.evidence is not None
        self.page.show_banner(
            self.site, self.session.evidence, refused=bool(self.session.refusal)
        )
        self._apply_rules()

    def _apply_rules(self) -> None:
        assert self.session.evidence is not None
        self.page.show_rules(
            site=self.site,
            evidence=self.session.evidence,
            refusal=self.session.refusal,
            provider_name=self.provider.name,
            can_send=not self.sending and not self.settled,
        )

    def current_ticket(self) -> Ticket:
        """The ticket as it would be sent now, with the user's edits."""
        self._ticket = self.session.edit(
            description=self.page.description.toPlainText(), contact=self.page.contact()
        )
        return self._ticket

    # ------------------------------------------------------------------ editing, saving

    def _edited(self) -> None:
        if not self.settled:
            self._save_timer.start()

    def _save_edits(self) -> None:
        if self.settled:
            return
        ticket = self.current_ticket()
        self._submit(lambda: self.session.save(ticket), self._on_saved, self._on_save_failed)

    def _on_saved(self, draft_id: int) -> None:
        self.draftSaved.emit(draft_id)

    def _on_save_failed(self, exc: BaseException) -> None:
        log.warning("could not save the ticket draft: %s", exc)
        self.page.status_label.setText(
            f"Could not save the draft ({error_line(exc, 200)}). Copy the text before closing."
        )

    # ------------------------------------------------------------------ fresh check

    def _on_refreshed(self, collected: Collected) -> None:
        self.current_ticket()  # the user's edits first, so the refresh keeps them
        edited = self.page.description.toPlainText() if self.page.description_edited else None
        self._ticket = self.session.refresh(collected, description=edited)
        self._show_ticket()
        checked = collected.evidence.detected_at.strftime("%H:%M:%S UTC")
        self.page.fresh_label.setText(f"Diagnostics updated by a fresh check at {checked}.")
        if self.draft_id is not None and not self.settled:
            self._save_timer.start()
        self.refreshed.emit()

    def _on_refresh_failed(self, exc: BaseException) -> None:
        log.warning("fresh check for the ticket failed: %s", exc)
        self.page.fresh_label.setText(
            f"The fresh check failed ({error_line(exc, 200)}); "
            "the diagnostics are from the last check."
        )

    # ------------------------------------------------------------------ sending

    def send(self) -> None:
        """Save the draft (first), then file it through every route still to reach."""
        if self.sending or self.settled or self.session.refusal:
            return
        confirmed = self.page.confirm.isChecked()
        if self.session.needs_confirmation and not confirmed:
            return
        self._save_timer.stop()
        self.sending = True
        self._send_token += 1
        token = self._send_token
        if self.page.send_button.hasFocus():
            # Send is disabled next: the focus goes to the status it announces.
            self.page.status_label.setFocus(Qt.FocusReason.OtherFocusReason)
        self._apply_rules()
        self.page.send_button.setText("Sending\u2026")
        self.page.status_label.setText(
            f"Sending (at most {self.provider.ticket_timeout:g} s)\u2026"
        )
        self.fallback_panel.set_retrying(True)
        ticket = self.current_ticket()
        self._watchdog.start()
        self._submit(
            lambda: self.session.file(ticket, confirmed=confirmed),
            lambda outcome: self._on_outcome(token, outcome),
            lambda exc: self._on_send_error(token, exc),
        )

    def _sent(self, token: int) -> bool:
        """Done waiting for this send; False when a newer one is under way."""
        if token != self._send_token:
            return False
        self._watchdog.stop()
        self.sending = False
        self.page.send_button.setText("Send emergency ticket")
        self.page.status_label.setText("")
        self.fallback_panel.set_retrying(False)
        self._apply_rules()
        return True

    def _on_outcome(self, token: int, outcome: SessionOutcome) -> None:
        current = self._sent(token)
        if outcome.draft_id is not None:
            self.draftSaved.emit(outcome.draft_id)
        if not current and not outcome.reached:
            return  # a newer attempt is under way; this one's failure is old news
        if self.settled and not outcome.reached:
            return
        user_settled = self.settled  # "I filed it" was pressed while this attempt ran
        handed = outcome.handed_now
        if handed is not None and not self._handed_over and not user_settled:
            self._handed_over = True
            self._clipboard.setText(outcome.text)
            self._open_url(handed.url or outcome.support_url)
        self.settled = user_settled or (outcome.all_reached and outcome.dashboard is None)
        if outcome.needs_hotline:
            log.warning("ticket for %s not filed: %s", self.site.name, headline(outcome))
        else:
            log.info("ticket for %s: %s", self.site.name, headline(outcome))
        self.fallback_panel.show_outcome(outcome, self._note(outcome))
        if user_settled:  # the user's word stands: no retry, no second "filed" button
            self.fallback_panel.show_handled(
                "You marked it as filed; above is what the attempt under way achieved."
            )
        self._show_panel()
        self.outcome.emit(outcome)
        if outcome.needs_hotline:
            failed = [r for r in outcome.routes if not r.outcome.reached]
            self.failed.emit(failed[0].reason if failed else outcome.skipped)
        else:
            self.filed.emit(outcome)

    def _on_send_error(self, token: int, exc: BaseException) -> None:
        log.error("sending the ticket failed", exc_info=exc)
        if self._sent(token):
            self._show_fallback(f"Lifeline could not send it ({error_line(exc, 200)})")

    def _on_watchdog(self) -> None:
        # Each route has its own deadline; this one also covers a keyring prompt or a
        # busy worker. The attempt goes on; a late outcome still replaces this panel.
        if not self.sending:
            return
        self.sending = False
        self.fallback_panel.set_retrying(False)
        self._show_fallback(f"No answer within {self.provider.ticket_timeout:g} s")

    def _show_fallback(self, reason: str) -> None:
        if self.settled:
            return
        log.warning("ticket for %s not filed: %s", self.site.name, reason)
        self.fallback_panel.show_failure(
            reason, self._note(None), self.session.text(self.current_ticket())
        )
        self._show_panel()
        self.failed.emit(reason)

    def _show_panel(self) -> None:
        self.pages.setCurrentWidget(self.fallback_panel)
        # The disabled Send button had the focus: give it to the headline, which a
        # screen reader then reads, instead of letting it drop to the first field.
        self.fallback_panel.reason_label.setFocus(Qt.FocusReason.OtherFocusReason)

    def _note(self, outcome: SessionOutcome | None) -> str:
        if outcome is not None and outcome.unsaved:
            return (
                f"The ticket could not be saved ({outcome.unsaved}): copy its text before "
                "closing this window."
            )
        draft_id = self.draft_id
        if draft_id is None:
            return "The ticket is kept in this window; copy its text before closing it."
        if outcome is not None and outcome.all_reached and outcome.dashboard is None:
            return f"Lifeline's outbox keeps it as draft {draft_id}, filed: it is not sent again."
        if outcome is not None and outcome.dashboard is not None and outcome.all_reached:
            return (
                f"Lifeline's outbox keeps it as draft {draft_id}, handed to the dashboard, "
                "until you press \u201cI filed it\u201d."
            )
        return (
            f"The ticket is saved in Lifeline's outbox (draft {draft_id}); Try again resends "
            "only the routes that failed, and Lifeline offers to when they are reachable "
            "again, unless you filed it yourself."
        )

    # ------------------------------------------------------------------ panel actions

    def copy_ticket_text(self) -> None:
        self._clipboard.setText(self.session.text(self.current_ticket()))
        self.fallback_panel.copy_button.setText("Copied \u2713")

    def filed_on_dashboard(self) -> None:
        self._settle(self.session.mark_filed_by_user, "on the dashboard")

    def filed_by_phone(self) -> None:
        self._settle(self.session.mark_handled, "by phone")

    def _settle(self, mark: Callable[[], int], how: str) -> None:
        if self.settled:
            return
        self.settled = True  # no retry from here on, whatever the worker says next
        self._save_timer.stop()
        self._watchdog.stop()
        self.current_ticket()
        self.fallback_panel.show_handled(f"Marking the ticket as filed {how}\u2026")

        def done(draft_id: int) -> None:
            self.fallback_panel.show_handled(
                f"Marked as filed {how}. Lifeline will not send draft {draft_id}."
            )
            self.handled.emit()

        def failed(exc: BaseException) -> None:
            self.fallback_panel.show_handled(
                f"Noted: Lifeline will not send it from this window (the outbox could not "
                f"be updated: {error_line(exc, 200)})."
            )
            self.handled.emit()

        self._submit(mark, done, failed)

    # ------------------------------------------------------------------ jobs, in order

    def _submit(
        self,
        work: Callable[[], object],
        on_done: Callable[..., None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self._pending_jobs += 1

        def finished(result: object) -> None:
            self._pending_jobs -= 1
            on_done(result)

        def errored(exc: BaseException) -> None:
            self._pending_jobs -= 1
            on_error(exc)

        self._workers.submit(work, finished, errored, lane=self._lane, owner=self)

    @property
    def busy(self) -> bool:
        return self._pending_jobs > 0 or self._save_timer.isActive()

    def done(self, result: int) -> None:
        # Close button, Escape and the window's X all end here: the last keystrokes
        # still go to the draft.
        if self._save_timer.isActive():
            self._save_timer.stop()
            self._save_edits()
        super().done(result)


# --------------------------------------------------------------------------- choosing a site


class SitePicker(QDialog):
    """Which site is the ticket for? Impacted live sites first, then the other live sites."""

    chosen = Signal(str)

    def __init__(
        self, snapshot: MonitorSnapshot, config: Config, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("File an emergency ticket")
        layout = QVBoxLayout(self)
        question = QLabel("&Which site is the emergency ticket for?")
        layout.addWidget(question)
        self.list = QListWidget()
        question.setBuddy(self.list)
        self.list.setAccessibleName("Which site is the emergency ticket for?")
        impacted = impacted_sites(snapshot, config)
        names = [s.name for s in impacted]
        names += [s.name for s in config.sites if s.is_live and s.name not in names]
        for name in names:
            status = snapshot.site(name)
            label = name
            if status is not None and status.state is not SiteState.OPERATIONAL:
                label += f" \u2014 {status.state.label.lower()}"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self.accept())
        layout.addWidget(self.list)
        if not names:
            layout.addWidget(StatusLabel("No live site is configured: add one in Settings."))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Continue")
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(names))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.accepted.connect(self._emit_choice)

    def _emit_choice(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.chosen.emit(str(item.data(Qt.ItemDataRole.UserRole)))


# --------------------------------------------------------------------------- the tray's entry


class TicketDesk(QObject):
    """Keeps the open ticket forms (one per site) for the tray; owned by the bridge."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.forms: dict[str, TicketForm] = {}
        self.picker: SitePicker | None = None


def open_ticket_form(
    site_name: str | None,
    *,
    bridge: Bridge,
    paths: Paths,
    store: CredentialStore,
    config: Config,
    clipboard: QClipboard | None = None,
    open_url: Callable[[str], None] | None = None,
) -> TicketForm | SitePicker | None:
    """What the tray calls ("File emergency ticket…", a site-down notification).

    The bridge gives the snapshot and the workers. With no site (or an unknown
    one) it asks which site first. Reopening a site's unfinished form brings it back with
    everything typed so far.
    """
    desk: TicketDesk | None = bridge.findChild(TicketDesk)
    if desk is None:
        desk = TicketDesk(bridge)
    snapshot: MonitorSnapshot = bridge.snapshot
    if site_name is None or find_site(config, site_name) is None:
        impacted = impacted_sites(snapshot, config)
        if site_name is None and len(impacted) == 1:
            site_name = impacted[0].name
        else:
            picker = SitePicker(snapshot, config)
            picker.chosen.connect(
                lambda name: open_ticket_form(
                    name, bridge=bridge, paths=paths, store=store, config=config,
                    clipboard=clipboard, open_url=open_url,
                )
            )
            desk.picker = picker
            picker.show()
            picker.raise_()
            picker.activateWindow()
            return picker
    site = find_site(config, site_name)
    assert site is not None
    existing = desk.forms.get(site.name)
    if existing is not None and not existing.settled:
        existing.show()
        existing.raise_()
        existing.activateWindow()
        return existing

    from PySide6.QtGui import QGuiApplication

    session = TicketSession(
        config,
        site,
        outbox=Outbox(paths.outbox_db, busy_timeout=OUTBOX_BUSY_TIMEOUT),
        history_path=paths.history_db,
        credentials=store,
    )
    form = TicketForm(
        session=session,
        status=snapshot.site(site.name),
        platform=snapshot.platform,
        workers=bridge.workers,
        clipboard=clipboard or QGuiApplication.clipboard(),
        open_url=open_url,
    )
    desk.forms[site.name] = form
    form.show()
    form.raise_()
    form.activateWindow()
    return form


def _open_in_browser(url: str) -> None:
    QDesktopServices.openUrl(QUrl(url))


