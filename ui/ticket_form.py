"""The emergency ticket form: pre-filled from what Lifeline saw, one button to file it.

It opens at once from the monitor's latest snapshot (no network wait) while a fresh check
of the site runs in the background and updates the diagnostics. Every blocking step
(saving the draft, reading the token, sending, the fresh check) goes through
`run_in_worker`; results come back on the GUI thread. Whatever goes wrong with the ticket
service, the form turns into the fallback panel (the hotline, the ticket text) within
`ticket_timeout` seconds, guarded by a watchdog timer here as well as the sender's own
deadline. What the user types is saved to the outbox draft as they type.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QClipboard, QDesktopServices, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.config import Config, ContactConfig, ProviderConfig, SiteConfig
from app.credentials import CredentialStore
from app.events import MonitorSnapshot, SiteStatus
from app.models import Incident, PlatformStatus, PointOfFailure, SiteState
from app.paths import Paths
from app.presentation import impacted_sites
from app.text import error_line
from app.tickets.builder import (
    Ticket,
    build_description,
    build_subject,
    build_ticket,
    diagnostics_json,
    evidence_from_status,
    is_operational,
    live_only_reason,
    plain_text,
)
from app.tickets.collect import diagnostics_for
from app.tickets.jobs import Refreshed, TicketJobs
from app.tickets.outbox import OutboxError
from app.tickets.sender import SendResult
from ui.bridge import Bridge
from ui.palette import Tone, apply_style, banner_style

log = logging.getLogger(__name__)

OPERATIONAL_QUESTION = (
    "Emergency tickets are for downtime or significant functional failure on Live. "
    "File anyway?"
)
SAVE_DELAY_MS = 700  # save typing to the draft this long after the last keystroke
WATCHDOG_SLACK_MS = 500  # on top of ticket_timeout, for the worker hop itself

class RunInWorker(Protocol):
    """The bridge's run_in_worker: `fn` off the GUI thread, the outcome back on it."""

    def __call__(
        self,
        fn: Callable[[], Any],
        callback: Callable[[Any], None] | None = None,
        *,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class _SendOutcome:
    draft_id: int | None  # None: the outbox could not be written
    result: SendResult
    unsaved: str = ""  # why not


class TicketForm(QDialog):
    """One site's emergency ticket. Non-modal; the tray keeps it while it is open."""

    filed = Signal(object)  # SendResult, the ticket was filed
    failed = Signal(str)  # the fallback panel is shown, with this reason
    handled = Signal()  # the user filed it by phone; the draft is settled
    refreshed = Signal()  # a fresh check updated the diagnostics
    draftSaved = Signal(int)  # the draft id, after each save

    def __init__(
        self,
        *,
        site: SiteConfig,
        provider: ProviderConfig,
        contact: ContactConfig,
        status: SiteStatus | None,
        platform: PlatformStatus | None,
        jobs: TicketJobs,
        run_in_worker: RunInWorker,
        clipboard: QClipboard,
        open_url: Callable[[str], None] | None = None,
        now: datetime | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.site = site
        self.provider = provider
        self._jobs = jobs
        self._run = run_in_worker
        self._clipboard = clipboard
        self._open_url = open_url or _open_in_browser
        self._evidence = evidence_from_status(
            site, status, platform, detected_at=now or datetime.now(UTC)
        )
        self._ticket = build_ticket(
            self._evidence,
            contact=contact,
            provider=provider,
            diagnostics=diagnostics_for(
                self._evidence.result, self._evidence.platform
            ),
        )
        self.draft_id: int | None = None
        self._unsaved = ""  # why the outbox could not keep the ticket, if it could not
        self.sending = False
        self.settled = False  # filed, or filed by phone: nothing more to send
        self._description_edited = False
        self._programmatic = False
        self._queue: list[tuple[Callable[[], Any], Callable[[Any], None],
                                Callable[[BaseException], None]]] = []
        self._job_running = False
        self._send_token = 0  # which send the watchdog and the callback belong to

        self.setWindowTitle(f"Emergency ticket: {site.name} ({site.environment})")
        self.setMinimumWidth(660)
        self.pages = QStackedWidget()
        self.form_page = self._build_form()
        self.fallback = self._build_fallback()
        self.success_page = self._build_success()
        for page in (self.form_page, self.fallback, self.success_page):
            self.pages.addWidget(page)
        outer = QVBoxLayout(self)
        outer.addWidget(self.pages)

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._save_edits)
        self._watchdog = QTimer(self)
        self._watchdog.setSingleShot(True)
        self._watchdog.setInterval(int(provider.ticket_timeout * 1000) + WATCHDOG_SLACK_MS)
        self._watchdog.timeout.connect(self._on_watchdog)

        self._show_ticket()
        self._apply_rules()
        if jobs.refresh is not None:
            self.fresh_label.setText("Checking the site again now; diagnostics will update\u2026")
            # Not queued behind (or ahead of) the draft's saves: a send never waits on it.
            self._run(jobs.refresh, self._on_refreshed, on_error=self._on_refresh_failed)

    # ------------------------------------------------------------------ building

    def _build_form(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)

        self.banner = QLabel()
        self.banner.setObjectName("ticketBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setOpenExternalLinks(False)
        self.banner.linkActivated.connect(self._open_url)
        layout.addWidget(self.banner)

        self.notice = QLabel()
        self.notice.setObjectName("ticketNotice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.RichText)
        self.notice.setOpenExternalLinks(False)
        self.notice.linkActivated.connect(self._open_url)
        layout.addWidget(self.notice)

        self.confirm = QCheckBox("Yes, file it anyway (a failure the probes cannot see)")
        self.confirm.setObjectName("confirmAnyway")
        self.confirm.toggled.connect(lambda _checked: self._apply_rules())
        layout.addWidget(self.confirm)

        fields = QFormLayout()
        self.subject = QLineEdit()
        self.subject.setReadOnly(True)
        self.subject.setObjectName("subject")
        fields.addRow("Subject", self.subject)
        self.description = QPlainTextEdit()
        self.description.setObjectName("description")
        self.description.setTabChangesFocus(True)
        self.description.setMinimumHeight(220)
        self.description.textChanged.connect(self._on_description_changed)
        fields.addRow("&Description", self.description)

        contact_row = QHBoxLayout()
        self.contact_name = QLineEdit()
        self.contact_name.setPlaceholderText("Name")
        self.contact_email = QLineEdit()
        self.contact_email.setPlaceholderText("Email")
        self.contact_phone = QLineEdit()
        self.contact_phone.setPlaceholderText("Phone")
        for edit in (self.contact_name, self.contact_email, self.contact_phone):
            edit.textEdited.connect(lambda _text: self._on_contact_edited())
            contact_row.addWidget(edit)
        contact_label = QLabel("&Contact")
        contact_label.setBuddy(self.contact_name)
        fields.addRow(contact_label, contact_row)
        layout.addLayout(fields)

        self.diagnostics_toggle = QToolButton()
        self.diagnostics_toggle.setObjectName("diagnosticsToggle")
        self.diagnostics_toggle.setCheckable(True)
        self.diagnostics_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.diagnostics_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.diagnostics_toggle.setText("Diagnostics attached to the ticket (read-only)")
        self.diagnostics_toggle.setStyleSheet("QToolButton { border: none; }")
        self.diagnostics_toggle.toggled.connect(self._toggle_diagnostics)
        layout.addWidget(self.diagnostics_toggle)
        self.diagnostics_view = QPlainTextEdit()
        self.diagnostics_view.setObjectName("diagnostics")
        self.diagnostics_view.setReadOnly(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.diagnostics_view.setFont(mono)
        self.diagnostics_view.setMinimumHeight(160)
        self.diagnostics_view.setVisible(False)
        layout.addWidget(self.diagnostics_view)

        self.fresh_label = QLabel()
        self.fresh_label.setObjectName("freshCheck")
        self.fresh_label.setStyleSheet("font-style: italic;")
        layout.addWidget(self.fresh_label)

        self.status_label = QLabel()
        self.status_label.setObjectName("sendStatus")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)

        bottom = QHBoxLayout()
        hint = QLabel(
            f"If it cannot be filed, you get the {html.escape(self.provider.name)} hotline "
            f"({html.escape(self.provider.hotline)}) and the text to read out."
        )
        hint.setWordWrap(True)
        bottom.addWidget(hint, 1)
        self.cancel_button = QPushButton("Close")
        self.cancel_button.clicked.connect(self.close)
        self.send_button = QPushButton("Send emergency ticket")
        self.send_button.setObjectName("sendTicket")
        bold = QFont(self.send_button.font())
        bold.setBold(True)
        self.send_button.setFont(bold)
        # Not the default button: Enter in a contact field must not file an emergency.
        self.send_button.setAutoDefault(False)
        self.cancel_button.setAutoDefault(False)
        self.send_button.clicked.connect(self.send)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.send_button)
        layout.addLayout(bottom)
        return page

    def _build_fallback(self) -> QWidget:
        from ui.fallback_panel import FallbackPanel

        panel = FallbackPanel(
            provider_name=self.provider.name,
            hotline=self.provider.hotline,
            dashboard=self._dashboard_url(),
        )
        panel.copyRequested.connect(self.copy_ticket_text)
        panel.dashboardRequested.connect(lambda: self._open_url(self._dashboard_url()))
        panel.retryRequested.connect(self.send)
        panel.filedByPhoneRequested.connect(self.filed_by_phone)
        panel.linkActivated.connect(self._open_url)
        self.fallback_panel = panel
        return panel

    def _build_success(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.success_label = QLabel()
        self.success_label.setObjectName("ticketFiled")
        self.success_label.setWordWrap(True)
        self.success_label.setTextFormat(Qt.TextFormat.RichText)
        self.success_label.setOpenExternalLinks(False)
        self.success_label.linkActivated.connect(self._open_url)
        apply_style(self.success_label, lambda: banner_style(Tone.GOOD, padding=12))
        layout.addWidget(self.success_label)
        layout.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        layout.addWidget(close)
        return page

    # ------------------------------------------------------------------ showing

    def _show_ticket(self) -> None:
        self._programmatic = True
        try:
            self.subject.setText(self._ticket.subject)
            self.subject.setCursorPosition(0)
            if not self._description_edited:
                self.description.setPlainText(self._ticket.description)
            contact = self._ticket.contact
            self.contact_name.setText(contact.get("name", ""))
            self.contact_email.setText(contact.get("email", ""))
            self.contact_phone.setText(contact.get("phone", ""))
            self.diagnostics_view.setPlainText(diagnostics_json(self._ticket))
        finally:
            self._programmatic = False
        self._show_banner()

    def _show_banner(self) -> None:
        evidence = self._evidence
        site = self.site
        if live_only_reason(site):
            kind = Tone.OFF
        elif is_operational(evidence):
            kind = Tone.INFO
        elif evidence.state in (SiteState.DOWN, SiteState.EDITORS_BLOCKED):
            kind = Tone.BAD
        else:
            kind = Tone.WARN
        text = f"<b>{html.escape(site.name)}</b> ({html.escape(site.environment)})"
        if is_operational(evidence):
            text += " looks operational to Lifeline."
        else:
            label = evidence.state.label.lower()
            text += f": <b>{html.escape(label)}</b>"
            if evidence.reason:
                text += f" \u2014 {html.escape(evidence.reason)}"
        self.banner.setText(text)
        apply_style(self.banner, lambda: banner_style(kind))

    def _apply_rules(self) -> None:
        """Live only; confirmation when it looks fine; the incident named when there is one."""
        refusal = live_only_reason(self.site)
        notices: list[str] = []
        needs_confirmation = False
        if refusal:
            notices.append(html.escape(refusal))
        elif is_operational(self._evidence):
            notices.append(
                f"Lifeline sees {html.escape(self.site.name)} working right now. "
                f"{html.escape(OPERATIONAL_QUESTION)}"
            )
            needs_confirmation = True
        incident = self._incident()
        if incident is not None and not refusal:
            link = (
                f' <a href="{html.escape(incident.url)}">{html.escape(incident.url)}</a>'
                if incident.url.startswith("https://")
                else ""
            )
            who = html.escape(self.provider.name)
            lead = (
                f"{who} reports an incident"
                if self._evidence.point_of_failure is PointOfFailure.PLATFORM
                else f"{who} reports an incident that may be related"
            )
            notices.append(
                f"{lead}: <b>{html.escape(incident.name)}</b> ({html.escape(incident.status)})"
                f"{link}. {who} still asks affected customers to file a ticket so they know "
                "who is affected; this ticket names and links the incident."
            )
        self.notice.setText("<br><br>".join(notices))
        self.notice.setVisible(bool(notices))
        self.confirm.setVisible(needs_confirmation)
        allowed = not refusal and (not needs_confirmation or self.confirm.isChecked())
        self.send_button.setEnabled(allowed and not self.sending and not self.settled)
        if refusal:
            self.send_button.setToolTip(refusal)
        elif needs_confirmation and not self.confirm.isChecked():
            self.send_button.setToolTip("Confirm above that you want to file it anyway")
        else:
            self.send_button.setToolTip("")

    def _incident(self) -> Incident | None:
        platform = self._evidence.platform
        if platform is None:
            return None
        return next((i for i in platform.incidents if i.status != "resolved"), None)

    def _toggle_diagnostics(self, shown: bool) -> None:
        self.diagnostics_view.setVisible(shown)
        self.diagnostics_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    # ------------------------------------------------------------------ editing

    def current_ticket(self) -> Ticket:
        """The ticket as it would be sent now, with the user's edits."""
        return self._ticket.with_edits(
            description=self.description.toPlainText(),
            contact=ContactConfig(
                name=self.contact_name.text().strip(),
                email=self.contact_email.text().strip(),
                phone=self.contact_phone.text().strip(),
            ),
        )

    def _on_description_changed(self) -> None:
        if self._programmatic:
            return
        self._description_edited = True
        self._edited()

    def _on_contact_edited(self) -> None:
        self._edited()

    def _edited(self) -> None:
        if not self.settled:
            self._save_timer.start()

    def _save_edits(self) -> None:
        if self.settled:
            return
        body = self.current_ticket().to_body()
        self._submit(
            lambda: self._jobs.save(self.draft_id, body), self._on_saved, self._on_save_failed
        )

    def _on_saved(self, draft_id: int) -> None:
        self.draft_id = draft_id
        self.draftSaved.emit(draft_id)

    def _on_save_failed(self, exc: BaseException) -> None:
        log.warning("could not save the ticket draft: %s", exc)
        self.status_label.setText(
            f"Could not save the draft ({error_line(exc, 200)}). Copy the text before closing."
        )

    # ------------------------------------------------------------------ fresh check

    def _on_refreshed(self, refreshed: Refreshed) -> None:
        evidence = refreshed.evidence
        if evidence.started_at is None and self._evidence.started_at is not None:
            evidence = replace(evidence, started_at=self._evidence.started_at)
        self._evidence = evidence
        ticket = self._ticket.with_diagnostics(refreshed.diagnostics)
        self._ticket = replace(
            ticket,
            subject=build_subject(evidence, self.provider),
            impact=evidence.state.value,
            point_of_failure=evidence.point_of_failure.value,
            description=ticket.description
            if self._description_edited
            else build_description(evidence, self.provider),
        )
        self._show_ticket()
        self._apply_rules()
        checked = evidence.detected_at.astimezone(UTC).strftime("%H:%M:%S UTC")
        self.fresh_label.setText(f"Diagnostics updated by a fresh check at {checked}.")
        if self.draft_id is not None and not self.settled:
            self._save_timer.start()
        self.refreshed.emit()

    def _on_refresh_failed(self, exc: BaseException) -> None:
        log.warning("fresh check for the ticket failed: %s", exc)
        self.fresh_label.setText(
            f"The fresh check failed ({error_line(exc, 200)}); "
            "the diagnostics are from the last check."
        )

    # ------------------------------------------------------------------ sending

    def send(self) -> None:
        """Save the draft (first), then file it; the fallback follows any failure."""
        if self.sending or self.settled or live_only_reason(self.site):
            return
        if is_operational(self._evidence) and not self.confirm.isChecked():
            return
        self._save_timer.stop()
        self.sending = True
        self._send_token += 1
        token = self._send_token
        self._apply_rules()
        self.send_button.setText("Sending\u2026")
        self.status_label.setText(
            f"Sending to the ticket service (at most {self.provider.ticket_timeout:g} s)\u2026"
        )
        self.fallback_panel.set_retrying(True)
        body = self.current_ticket().to_body()
        jobs = self._jobs

        def save_and_send() -> _SendOutcome:
            try:
                draft_id = jobs.save(self.draft_id, body)  # on disk before the first attempt
            except OutboxError as exc:
                if jobs.send_unsaved is None:
                    raise
                # The ticket matters more than its draft: send it once, unsaved.
                return _SendOutcome(None, jobs.send_unsaved(body), unsaved=str(exc))
            return _SendOutcome(draft_id, jobs.send(draft_id))

        self._watchdog.start()
        self._submit(
            save_and_send,
            lambda outcome: self._on_sent(token, outcome),
            lambda exc: self._on_send_error(token, exc),
        )

    def _on_sent(self, token: int, outcome: _SendOutcome) -> None:
        if outcome.draft_id is not None:
            self.draft_id = outcome.draft_id
            self.draftSaved.emit(outcome.draft_id)
        self._unsaved = outcome.unsaved
        result = outcome.result
        if token == self._send_token:
            self._watchdog.stop()
            self.sending = False
            self.send_button.setText("Send emergency ticket")
            self.fallback_panel.set_retrying(False)
        if result.filed:
            self._show_filed(result)
        elif token == self._send_token and self.pages.currentWidget() is not self.success_page:
            self._show_fallback(result.reason)

    def _on_send_error(self, token: int, exc: BaseException) -> None:
        log.error("sending the ticket failed", exc_info=exc)
        if token != self._send_token:
            return
        self._watchdog.stop()
        self.sending = False
        self.send_button.setText("Send emergency ticket")
        self.fallback_panel.set_retrying(False)
        self._show_fallback(f"Lifeline could not send it ({error_line(exc, 200)})")

    def _on_watchdog(self) -> None:
        # The sender has its own deadline; this one also covers a keyring prompt or a
        # busy worker. The attempt goes on; a late success still shows as filed.
        if not self.sending:
            return
        self.sending = False
        self.fallback_panel.set_retrying(False)
        self._show_fallback(
            f"The ticket service did not answer within {self.provider.ticket_timeout:g} s"
        )

    def _show_fallback(self, reason: str) -> None:
        if self.settled:
            return
        if self._unsaved:
            note = (
                f"The ticket could not be saved ({self._unsaved}): copy its text before "
                "closing this window."
            )
        elif self.draft_id is not None:
            note = (
                f"The ticket is saved in Lifeline's outbox (draft {self.draft_id}); Lifeline "
                "offers to send it when the ticket service is reachable again, unless you "
                "filed it by phone."
            )
        else:
            note = "The ticket is kept in this window; copy its text before closing it."
        self.fallback_panel.show_failure(
            reason,
            note,
            plain_text(self.current_ticket(), hotline=self.provider.hotline),
        )
        self.pages.setCurrentWidget(self.fallback)
        self.failed.emit(reason)

    def _show_filed(self, result: SendResult) -> None:
        self.settled = True
        self._save_timer.stop()
        self._watchdog.stop()
        link = (
            f'<br><a href="{html.escape(result.url)}">{html.escape(result.url)}</a>'
            if result.url.startswith("https://")
            else ""
        )
        kept = (
            f"<br><br>Lifeline's outbox keeps it as draft {self.draft_id}, marked filed: it "
            "will not be sent again."
            if self.draft_id is not None
            else ""
        )
        self.success_label.setText(
            f"<b>Emergency ticket filed: {html.escape(result.ticket_id)}</b>{link}"
            f"<br><br>{html.escape(self._ticket.subject)}{kept}"
        )
        self.pages.setCurrentWidget(self.success_page)
        self.filed.emit(result)

    # ------------------------------------------------------------------ fallback actions

    def copy_ticket_text(self) -> None:
        self._clipboard.setText(plain_text(self.current_ticket(), hotline=self.provider.hotline))
        self.fallback_panel.copy_button.setText("Copied \u2713")

    def filed_by_phone(self) -> None:
        if self.settled:
            return
        self.settled = True  # no retry from here on, whatever the worker says next
        self._save_timer.stop()
        self._watchdog.stop()
        self.fallback_panel.show_handled("Marking the ticket as filed by phone\u2026")
        body = self.current_ticket().to_body()
        jobs = self._jobs

        def settle() -> int:
            draft_id = self.draft_id
            if draft_id is None:  # the very first save failed: record it now, settled
                draft_id = jobs.save(None, body)
            jobs.mark_handled(draft_id)
            return draft_id

        self._submit(settle, self._on_handled, self._on_handled_failed)

    def _on_handled(self, draft_id: int) -> None:
        self.draft_id = draft_id
        self.fallback_panel.show_handled(
            f"Marked as filed by phone. Lifeline will not send draft {draft_id}."
        )
        self.handled.emit()

    def _on_handled_failed(self, exc: BaseException) -> None:
        self.fallback_panel.show_handled(
            f"Noted: Lifeline will not send it from this window (the outbox could not be "
            f"updated: {error_line(exc, 200)})."
        )
        self.handled.emit()

    def _dashboard_url(self) -> str:
        return self.site.dashboard_url or self.provider.dashboard

    # ------------------------------------------------------------------ jobs, one at a time

    def _submit(
        self,
        fn: Callable[[], Any],
        callback: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        # One job at a time, in order: a save and a send must not both create the draft.
        self._queue.append((fn, callback, on_error))
        self._pump()

    def _pump(self) -> None:
        if self._job_running or not self._queue:
            return
        fn, callback, on_error = self._queue.pop(0)
        self._job_running = True

        def done(result: Any) -> None:
            self._job_running = False
            try:
                callback(result)
            finally:
                self._pump()

        def failed(exc: BaseException) -> None:
            self._job_running = False
            try:
                on_error(exc)
            finally:
                self._pump()

        self._run(fn, done, on_error=failed)

    @property
    def busy(self) -> bool:
        return self._job_running or bool(self._queue) or self._save_timer.isActive()

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
        layout.addWidget(QLabel("Which site is the emergency ticket for?"))
        self.list = QListWidget()
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
            layout.addWidget(QLabel("No live site is configured: add one in Settings."))
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

    The bridge gives the snapshot and run_in_worker. With no site (or an unknown
    one) it asks which site first. Reopening a site's unfinished form brings it back with
    everything typed so far.
    """
    desk: TicketDesk | None = bridge.findChild(TicketDesk)
    if desk is None:
        desk = TicketDesk(bridge)
    snapshot: MonitorSnapshot = bridge.snapshot
    if site_name is None or config.site(site_name) is None:
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
    site = config.site(site_name)
    assert site is not None
    existing = desk.forms.get(site.name)
    if existing is not None and not existing.settled:
        existing.show()
        existing.raise_()
        existing.activateWindow()
        return existing

    from PySide6.QtGui import QGuiApplication

    from app.tickets.jobs import ticket_jobs

    status = snapshot.site(site.name)
    form = TicketForm(
        site=site,
        provider=config.provider,
        contact=config.contact,
        status=status,
        platform=snapshot.platform,
        jobs=ticket_jobs(
            config,
            site,
            outbox_path=paths.outbox_db,
            history_path=paths.history_db,
            credentials=store,
        ),
        run_in_worker=bridge.run_in_worker,
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


