"""What the ticket form turns into when the ticket cannot be filed: the phone, and the text.

Shown within `ticket_timeout` seconds of pressing Send whatever went wrong. The hotline is
the first thing the eye meets, large and clickable (tel:), with the provider's own words
on what that line does; the ticket text is one click from the clipboard, ready to read out.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.printable import plain_tooltip
from ui.palette import Tone, apply_style, banner_style

# Pantheon's runbook: the phone line files an on-call ticket; it is not a support desk.
HOTLINE_WORDS = (
    "{provider}'s emergency line only files an on-call ticket for you: no engineer answers "
    "it. Call it, then read out or paste the ticket text."
)


def tel_uri(number: str) -> str:
    """tel: URI for a number as people write it ("1-866-415-7624" -> "tel:+18664157624")."""
    digits = re.sub(r"[^\d+]", "", number)
    if digits.startswith("1") and len(digits) == 11:
        digits = "+" + digits  # a North American number written without the plus
    return f"tel:{digits}"


class FallbackPanel(QWidget):
    copyRequested = Signal()
    dashboardRequested = Signal()
    retryRequested = Signal()
    filedByPhoneRequested = Signal()
    linkActivated = Signal(str)  # the tel: link (the form opens it)

    def __init__(
        self, *, provider_name: str, hotline: str, dashboard: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("fallbackPanel")
        layout = QVBoxLayout(self)
        layout.setSpacing(10)

        self.reason_label = QLabel()
        self.reason_label.setObjectName("fallbackReason")
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        apply_style(self.reason_label, lambda: banner_style(Tone.BAD, bold=True))
        layout.addWidget(self.reason_label)

        call = QLabel(f"Call the {html.escape(provider_name)} emergency line now:")
        call.setObjectName("fallbackCall")
        layout.addWidget(call)

        self.hotline_label = QLabel(
            f'<a href="{html.escape(tel_uri(hotline))}" style="text-decoration:none">'
            f"{html.escape(hotline)}</a>"
        )
        self.hotline_label.setObjectName("hotline")
        font = QFont(self.hotline_label.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 2.6)
        font.setBold(True)
        self.hotline_label.setFont(font)
        self.hotline_label.setTextFormat(Qt.TextFormat.RichText)
        self.hotline_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction
        )
        self.hotline_label.setOpenExternalLinks(False)
        self.hotline_label.linkActivated.connect(self.linkActivated.emit)
        self.hotline_label.setToolTip(tel_uri(hotline))
        self.hotline = hotline
        layout.addWidget(self.hotline_label)

        self.words_label = QLabel(HOTLINE_WORDS.format(provider=html.escape(provider_name)))
        self.words_label.setObjectName("hotlineWords")
        self.words_label.setWordWrap(True)
        layout.addWidget(self.words_label)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)

        buttons = QGridLayout()
        self.copy_button = QPushButton("&Copy ticket text")
        self.copy_button.setToolTip("The whole ticket, description and diagnostics, as plain text")
        self.dashboard_button = QPushButton("Open &dashboard")
        self.dashboard_button.setToolTip(plain_tooltip(dashboard))
        self.dashboard_button.setEnabled(bool(dashboard))
        self.retry_button = QPushButton("&Try again")
        self.phone_button = QPushButton("I &filed it by phone")
        self.phone_button.setToolTip("Lifeline stops trying and will not send this ticket")
        buttons.addWidget(self.copy_button, 0, 0)
        buttons.addWidget(self.dashboard_button, 0, 1)
        buttons.addWidget(self.retry_button, 1, 0)
        buttons.addWidget(self.phone_button, 1, 1)
        layout.addLayout(buttons)
        self.copy_button.clicked.connect(lambda: self.copyRequested.emit())
        self.dashboard_button.clicked.connect(lambda: self.dashboardRequested.emit())
        self.retry_button.clicked.connect(lambda: self.retryRequested.emit())
        self.phone_button.clicked.connect(lambda: self.filedByPhoneRequested.emit())

        self.note_label = QLabel()
        self.note_label.setObjectName("fallbackNote")
        self.note_label.setWordWrap(True)
        layout.addWidget(self.note_label)

        # The text to read out, right here: no window to find while on the phone.
        self.text_view = QPlainTextEdit()
        self.text_view.setObjectName("ticketText")
        self.text_view.setReadOnly(True)
        self.text_view.setMinimumHeight(180)
        layout.addWidget(self.text_view, 1)

    def show_failure(self, reason: str, note: str, ticket_text: str) -> None:
        self.reason_label.setText(f"The ticket was not filed. {reason.rstrip('.')}.")
        self.note_label.setText(note)
        self.text_view.setPlainText(ticket_text)
        self.retry_button.setEnabled(True)
        self.phone_button.setEnabled(True)

    def set_retrying(self, retrying: bool) -> None:
        self.retry_button.setEnabled(not retrying)
        self.retry_button.setText("Trying again\u2026" if retrying else "&Try again")

    def show_handled(self, note: str) -> None:
        self.retry_button.setEnabled(False)
        self.phone_button.setEnabled(False)
        self.note_label.setText(note)
