"""One site's details in full, from the tray menu's info lines (issue 20).

A menu cannot wrap and cuts long lines; a screen-reader or keyboard user needs the whole
reason, since when, last checked and uptime as text to read. This small window shows the
same lines as the site's submenu, unshortened, in a read-only text a screen reader reads
line by line, and closes with Escape or Close. Only renders what it is given.
"""

from __future__ import annotations

import textwrap
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from app.events import SiteStatus
from app.presentation import REASON_LIMIT, REASON_WIDTH, plain, site_detail_lines, site_title


def details_text(site: SiteStatus, now: datetime) -> str:
    """The site's title and its submenu's lines, the reason whole (not wrapped or cut)."""
    detail = site_detail_lines(site, now)
    lines = [site_title(site)]
    if site.reason:
        lines.append(f"Reason: {site.reason}")
        # The submenu starts with the reason, wrapped: shown whole above instead.
        wrapped = textwrap.wrap(plain(site.reason, REASON_LIMIT), REASON_WIDTH,
                                break_long_words=True)
        detail = detail[len(wrapped):]
    return "\n".join(lines + detail)


class SiteDetails(QDialog):
    """Non-modal; the tray keeps it (a parentless dialog held only by a local dies)."""

    def __init__(self, site: SiteStatus, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("site_details")
        self.setWindowTitle(f"{site.name}: details")
        self.site_name = site.name
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("site_details_text")
        self.text.setReadOnly(True)
        self.text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.text.setAccessibleName(f"Details of {site.name}")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(520, 240)
        self.show_site(site, now)

    def show_site(self, site: SiteStatus, now: datetime) -> None:
        self.text.setPlainText(details_text(site, now))
