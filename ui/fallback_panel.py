"""What the ticket form shows once Send has an outcome: route by route, then what to do.

One line per route (filed with its id and link, handed to the dashboard, or failed with
the reason). When the dashboard took it, the steps for the user's support tier. When the
dashboard is down, or no route reached anyone, the hotline is the first thing the eye
meets, large and clickable (tel:), with the provider's own words on what that line does;
the ticket text is always right here, ready to paste or read out.
Only renders: the form decides, from the session's outcome, what to show.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.presentation import https_url
from app.printable import plain_tooltip
from app.tickets.routes.base import RouteOutcome, RouteResult
from app.tickets.session import SessionOutcome, headline, route_line
from ui.accessible import StatusLabel, readable
from ui.palette import Tone, apply_style, banner_style

# Pantheon's runbook: the phone line files an on-call ticket; it is not a support desk.
HOTLINE_WORDS = (
    "{provider}'s emergency line only files an on-call ticket for you: no engineer answers "
    "it. Call it, then read out or paste the ticket text."
)

_MARKS = {
    RouteOutcome.FILED: "\u2713",
    RouteOutcome.DASHBOARD: "\u2192",
    RouteOutcome.HOTLINE: "\u2715",
    RouteOutcome.FAILED: "\u2715",
}


def tel_uri(number: str) -> str:
    """tel: URI for a number as people write it ("1-866-415-7624" -> "tel:+18664157624")."""
    digits = re.sub(r"[^\d+]", "", number)
    if digits.startswith("1") and len(digits) == 11:
        digits = "+" + digits  # a North American number written without the plus
    return f"tel:{digits}"


class FallbackPanel(QWidget):
    """The outcome panel (named for its first job: the fallback to the phone)."""

    copyRequested = Signal()
    dashboardRequested = Signal()
    retryRequested = Signal()
    filedRequested = Signal()  # "I filed it" (on the dashboard)
    filedByPhoneRequested = Signal()
    linkActivated = Signal(str)  # a tel: or https: link (the form opens it)
    closeRequested = Signal()

    def __init__(
        self, *, provider_name: str, hotline: str, dashboard: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("fallbackPanel")
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        # Built in reading (and Tab) order: headline, routes, steps, phone, buttons, text.
        self._build_outcome_labels(layout)
        self.hotline = hotline
        self.hotline_box = self._build_hotline_box(provider_name, hotline)
        layout.addWidget(self.hotline_box)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        self._build_buttons(layout, dashboard)
        self._build_note_and_text(layout)
        self._can_retry = False

    def _build_outcome_labels(self, layout: QVBoxLayout) -> None:
        # The headline is the first stop of the Tab order and is announced when it
        # changes: "not filed, call now" must reach a screen-reader user at once.
        self.reason_label = StatusLabel(urgent=True)
        self.reason_label.setObjectName("fallbackReason")
        self.reason_label.setWordWrap(True)
        readable(self.reason_label)
        layout.addWidget(self.reason_label)

        self.routes_label = QLabel()
        self.routes_label.setObjectName("routeOutcomes")
        self.routes_label.setWordWrap(True)
        self.routes_label.setTextFormat(Qt.TextFormat.RichText)
        self.routes_label.setOpenExternalLinks(False)
        self.routes_label.linkActivated.connect(self.linkActivated.emit)
        layout.addWidget(self.routes_label)

        self.steps_label = QLabel()
        self.steps_label.setObjectName("tierSteps")
        self.steps_label.setWordWrap(True)
        self.steps_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.steps_label)

    def _build_hotline_box(self, provider_name: str, hotline: str) -> QWidget:
        box = QWidget()
        hotline_layout = QVBoxLayout(box)
        hotline_layout.setContentsMargins(0, 0, 0, 0)
        self.call_label = QLabel(f"Call the {html.escape(provider_name)} emergency line now:")
        self.call_label.setObjectName("fallbackCall")
        hotline_layout.addWidget(self.call_label)
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
        # Tab stops at the number itself (read out as the number), not at a link inside
        # the label, which was silent; the mouse still follows the tel: link.
        readable(self.hotline_label)
        self.hotline_label.setAccessibleName(
            f"Call the {provider_name} emergency line now: {hotline}"
        )
        self.hotline_label.setOpenExternalLinks(False)
        self.hotline_label.linkActivated.connect(self.linkActivated.emit)
        self.hotline_label.setToolTip(tel_uri(hotline))
        hotline_layout.addWidget(self.hotline_label)
        self.words_label = QLabel(HOTLINE_WORDS.format(provider=html.escape(provider_name)))
        self.words_label.setObjectName("hotlineWords")
        self.words_label.setWordWrap(True)
        hotline_layout.addWidget(self.words_label)
        return box

    def _build_buttons(self, layout: QVBoxLayout, dashboard: str) -> None:
        first_row, second_row = QHBoxLayout(), QHBoxLayout()
        self.copy_button = QPushButton("&Copy ticket text")
        self.copy_button.setToolTip("The whole ticket, description and diagnostics, as plain text")
        self.dashboard_button = QPushButton("Open the &support page")
        self.dashboard_button.setToolTip(plain_tooltip(dashboard))
        self.dashboard_button.setEnabled(bool(dashboard))
        self.retry_button = QPushButton("&Try again")
        self.retry_button.setToolTip("Resends only the routes that failed, with the same key")
        self.filed_button = QPushButton("I filed &it")
        self.filed_button.setToolTip("You filed it on the dashboard: Lifeline stops offering it")
        self.phone_button = QPushButton("I &filed it by phone")
        self.phone_button.setToolTip("Lifeline stops trying and will not send this ticket")
        # Escape closed the window, but a visible way out belongs on the panel too.
        self.close_button = QPushButton("C&lose")
        self.close_button.setObjectName("fallbackClose")
        self.close_button.setToolTip("Close this window (the outbox keeps the ticket)")
        # Rows of boxes, not a grid: a hidden button leaves no hole.
        for row, row_buttons in (
            (first_row, (self.copy_button, self.dashboard_button)),
            (second_row, (self.filed_button, self.phone_button, self.retry_button)),
        ):
            for button in row_buttons:
                row.addWidget(button)
            row.addStretch(1)
            layout.addLayout(row)
        second_row.addWidget(self.close_button)
        self.copy_button.clicked.connect(lambda: self.copyRequested.emit())
        self.dashboard_button.clicked.connect(lambda: self.dashboardRequested.emit())
        self.retry_button.clicked.connect(lambda: self.retryRequested.emit())
        self.filed_button.clicked.connect(lambda: self.filedRequested.emit())
        self.phone_button.clicked.connect(lambda: self.filedByPhoneRequested.emit())
        self.close_button.clicked.connect(lambda: self.closeRequested.emit())

    def _build_note_and_text(self, layout: QVBoxLayout) -> None:
        self.note_label = StatusLabel()
        self.note_label.setObjectName("fallbackNote")
        self.note_label.setWordWrap(True)
        layout.addWidget(self.note_label)

        # The text to paste or read out, right here: no window to find while on the phone.
        self.text_view = QPlainTextEdit()
        self.text_view.setObjectName("ticketText")
        self.text_view.setReadOnly(True)
        self.text_view.setAccessibleName("Ticket text")
        self.text_view.setMinimumHeight(160)
        layout.addWidget(self.text_view, 1)

    def show_outcome(self, outcome: SessionOutcome, note: str) -> None:
        """Render one outcome: headline, a line per route, the tier's steps, the phone."""
        if outcome.needs_hotline:
            kind = Tone.BAD
        elif outcome.dashboard is not None:
            kind = Tone.INFO  # handed over: the user has one more step
        else:
            kind = Tone.GOOD
        self._headline(headline(outcome), kind)
        self.routes_label.setText("<br>".join(_route_html(r) for r in outcome.routes))
        self.routes_label.setVisible(bool(outcome.routes))
        handed = outcome.dashboard is not None
        self.steps_label.setText(
            "<b>On the Support tab:</b><br>"
            + "<br>".join(html.escape(step) for step in outcome.steps)
            if handed
            else ""
        )
        self.steps_label.setVisible(handed)
        self.hotline_box.setVisible(outcome.needs_hotline)
        self.filed_button.setVisible(handed)
        self.filed_button.setEnabled(handed)
        self._can_retry = not outcome.all_reached
        self.retry_button.setVisible(self._can_retry)
        self.retry_button.setEnabled(self._can_retry)
        self.phone_button.setEnabled(True)
        self.note_label.setText(note)
        self.text_view.setPlainText(outcome.text)

    def show_failure(self, reason: str, note: str, ticket_text: str) -> None:
        """No outcome yet, or none at all (the deadline passed, the worker failed): the
        hotline, the reason, the text."""
        self._headline(f"The ticket was not filed. {reason.rstrip('.')}.", Tone.BAD)
        self.routes_label.setVisible(False)
        self.steps_label.setVisible(False)
        self.hotline_box.setVisible(True)
        self.filed_button.setVisible(False)
        self._can_retry = True
        self.retry_button.setVisible(True)
        self.retry_button.setEnabled(True)
        self.phone_button.setEnabled(True)
        self.note_label.setText(note)
        self.text_view.setPlainText(ticket_text)

    def set_retrying(self, retrying: bool) -> None:
        self.retry_button.setEnabled(self._can_retry and not retrying)
        self.retry_button.setText("Trying again\u2026" if retrying else "&Try again")

    def show_handled(self, note: str) -> None:
        self.retry_button.setEnabled(False)
        self.filed_button.setEnabled(False)
        self.phone_button.setEnabled(False)
        self.note_label.setText(note)

    def _headline(self, text: str, kind: Tone) -> None:
        self.reason_label.setText(text)
        apply_style(self.reason_label, lambda: banner_style(kind, bold=True))


def _route_html(result: RouteResult) -> str:
    text = html.escape(route_line(result))
    url = https_url(result.url or "")
    if url and result.outcome is RouteOutcome.FILED:
        link = html.escape(url)
        text = text.replace(link, f'<a href="{link}">{link}</a>')
    return f"{_MARKS[result.outcome]} {text}"
