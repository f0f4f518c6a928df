"""The ticket form's first page: what Lifeline saw, the text to edit, one button to send.

Widgets and rendering only; the form (ui/ticket_form.py) owns the flow and the session.
Rich text here is built from escaped parts: outside text (site names, reasons, incident
names) is never interpreted.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.config import ContactConfig, ProviderConfig, SiteConfig
from app.models import Incident, PointOfFailure, SiteState
from app.presentation import https_url
from app.tickets.builder import Evidence, Ticket, diagnostics_json, is_operational
from app.tickets.session import operational_words
from ui.accessible import StatusLabel, readable
from ui.palette import Tone, apply_style, banner_style


class TicketPage(QWidget):
    linkActivated = Signal(str)
    edited = Signal()  # the description or a contact field changed by the user
    confirmToggled = Signal()
    sendRequested = Signal()
    closeRequested = Signal()

    def __init__(self, *, provider: ProviderConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.description_edited = False
        self._programmatic = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.banner = self._rich_label("ticketBanner")
        layout.addWidget(self.banner)
        self.notice = self._rich_label("ticketNotice")
        layout.addWidget(self.notice)

        self.confirm = QCheckBox("Yes, file it anyway (a failure the probes cannot see)")
        self.confirm.setObjectName("confirmAnyway")
        self.confirm.toggled.connect(lambda _checked: self.confirmToggled.emit())
        layout.addWidget(self.confirm)

        layout.addLayout(self._build_fields())
        self._build_diagnostics(layout)
        self._build_status(layout)
        layout.addLayout(self._build_bottom_row(provider))

    def _build_fields(self) -> QFormLayout:
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

        # Each contact field has a visible label (its accessible name, and the mnemonic):
        # a placeholder alone is faint (about 3:1) and gone once something is typed.
        contact_row = QHBoxLayout()
        self.contact_name = QLineEdit()
        self.contact_email = QLineEdit()
        self.contact_phone = QLineEdit()
        for text, name, edit in (
            ("&Name", "Name", self.contact_name),
            ("E&mail", "Email", self.contact_email),
            ("P&hone", "Phone", self.contact_phone),
        ):
            label = QLabel(text)
            label.setBuddy(edit)
            edit.setAccessibleName(name)
            edit.setObjectName(f"contact_{name.lower()}")
            edit.textEdited.connect(lambda _text: self.edited.emit())
            contact_row.addWidget(label)
            contact_row.addWidget(edit, 1)
        fields.addRow("Contact", contact_row)
        return fields

    def _build_diagnostics(self, layout: QVBoxLayout) -> None:
        self.diagnostics_toggle = QToolButton()
        self.diagnostics_toggle.setObjectName("diagnosticsToggle")
        self.diagnostics_toggle.setCheckable(True)
        self.diagnostics_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.diagnostics_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.diagnostics_toggle.setText("Diagnostics attached to the ticket (read-only)")
        self.diagnostics_toggle.setAccessibleDescription("collapsed")
        self.diagnostics_toggle.setStyleSheet("QToolButton { border: none; }")
        self.diagnostics_toggle.toggled.connect(self._toggle_diagnostics)
        layout.addWidget(self.diagnostics_toggle)
        self.diagnostics_view = QPlainTextEdit()
        self.diagnostics_view.setObjectName("diagnostics")
        self.diagnostics_view.setReadOnly(True)
        self.diagnostics_view.setAccessibleName("Diagnostics attached to the ticket")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.diagnostics_view.setFont(mono)
        self.diagnostics_view.setMinimumHeight(160)
        self.diagnostics_view.setVisible(False)
        layout.addWidget(self.diagnostics_view)

    def _build_status(self, layout: QVBoxLayout) -> None:
        self.fresh_label = StatusLabel()
        self.fresh_label.setObjectName("freshCheck")
        self.fresh_label.setStyleSheet("font-style: italic;")
        layout.addWidget(self.fresh_label)
        # "Sending…" and its outcome are announced; the form moves the focus here while
        # Send is disabled, so it does not drop to the first field.
        self.status_label = StatusLabel()
        self.status_label.setObjectName("sendStatus")
        self.status_label.setWordWrap(True)
        readable(self.status_label)
        layout.addWidget(self.status_label)

    def _build_bottom_row(self, provider: ProviderConfig) -> QHBoxLayout:
        bottom = QHBoxLayout()
        hint = StatusLabel(
            f"The text goes to every route ({html.escape(provider.name)}'s dashboard with "
            "your clipboard, and any service you set up). If none can take it, you get the "
            f"hotline ({html.escape(provider.hotline)}) and the text to read out."
        )
        hint.setWordWrap(True)
        bottom.addWidget(hint, 1)
        self.cancel_button = QPushButton("Close")
        self.cancel_button.clicked.connect(lambda: self.closeRequested.emit())
        self.send_button = QPushButton("Send emergency ticket")
        self.send_button.setObjectName("sendTicket")
        bold = QFont(self.send_button.font())
        bold.setBold(True)
        self.send_button.setFont(bold)
        # Not the default button: Enter in a contact field must not file an emergency.
        self.send_button.setAutoDefault(False)
        self.cancel_button.setAutoDefault(False)
        self.send_button.clicked.connect(lambda: self.sendRequested.emit())
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.send_button)
        return bottom

    def _rich_label(self, name: str) -> QLabel:
        label = StatusLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setOpenExternalLinks(False)
        label.linkActivated.connect(self.linkActivated.emit)
        return label

    # -- rendering --------------------------------------------------------------------

    def show_ticket(self, ticket: Ticket) -> None:
        self._programmatic = True
        try:
            self.subject.setText(ticket.subject)
            self.subject.setCursorPosition(0)
            if not self.description_edited:
                self.description.setPlainText(ticket.description)
            self.contact_name.setText(ticket.contact.get("name", ""))
            self.contact_email.setText(ticket.contact.get("email", ""))
            self.contact_phone.setText(ticket.contact.get("phone", ""))
            self.diagnostics_view.setPlainText(diagnostics_json(ticket))
        finally:
            self._programmatic = False

    def show_banner(self, site: SiteConfig, evidence: Evidence, *, refused: bool) -> None:
        if refused:
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
            text += f": <b>{html.escape(evidence.state.label.lower())}</b>"
            if evidence.reason:
                text += f" \u2014 {html.escape(evidence.reason)}"
        self.banner.setText(text)
        apply_style(self.banner, lambda: banner_style(kind))

    def show_rules(
        self,
        *,
        site: SiteConfig,
        evidence: Evidence,
        refusal: str | None,
        provider_name: str,
        can_send: bool,
    ) -> None:
        """Live only; confirmation when it looks fine; the incident named when there is one."""
        notices: list[str] = []
        needs_confirmation = False
        if refusal:
            notices.append(html.escape(refusal))
        elif is_operational(evidence):
            # The CLI's words (it asks for --force), then the form's question.
            notices.append(f"{html.escape(operational_words(evidence))} File anyway?")
            needs_confirmation = True
        incident = _open_incident(evidence)
        if incident is not None and not refusal:
            notices.append(_incident_words(incident, evidence, provider_name))
        self.notice.setText("<br><br>".join(notices))
        self.notice.setVisible(bool(notices))
        self.confirm.setVisible(needs_confirmation)
        allowed = not refusal and (not needs_confirmation or self.confirm.isChecked())
        self.send_button.setEnabled(allowed and can_send)
        if refusal:
            self.send_button.setToolTip(refusal)
        elif needs_confirmation and not self.confirm.isChecked():
            self.send_button.setToolTip("Confirm above that you want to file it anyway")
        else:
            self.send_button.setToolTip("")

    def contact(self) -> ContactConfig:
        return ContactConfig(
            name=self.contact_name.text().strip(),
            email=self.contact_email.text().strip(),
            phone=self.contact_phone.text().strip(),
        )

    def _on_description_changed(self) -> None:
        if self._programmatic:
            return
        self.description_edited = True
        self.edited.emit()

    def _toggle_diagnostics(self, shown: bool) -> None:
        self.diagnostics_view.setVisible(shown)
        self.diagnostics_toggle.setAccessibleDescription("expanded" if shown else "collapsed")
        self.diagnostics_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )


def _open_incident(evidence: Evidence) -> Incident | None:
    platform = evidence.platform
    if platform is None:
        return None
    return next((i for i in platform.incidents if i.status != "resolved"), None)


def _incident_words(incident: Incident, evidence: Evidence, provider_name: str) -> str:
    url = https_url(incident.url)
    link = f' <a href="{html.escape(url)}">{html.escape(url)}</a>' if url else ""
    who = html.escape(provider_name)
    lead = (
        f"{who} reports an incident"
        if evidence.point_of_failure is PointOfFailure.PLATFORM
        else f"{who} reports an incident that may be related"
    )
    return (
        f"{lead}: <b>{html.escape(incident.name)}</b> ({html.escape(incident.status)})"
        f"{link}. {who} still asks affected customers to file a ticket so they know "
        "who is affected; this ticket names and links the incident."
    )
