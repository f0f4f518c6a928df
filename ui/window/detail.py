"""The detail pane of the Lifeline window: one site's last check (both probes), the
platform line, its recent transitions, and what can be done about it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.config import Config
from app.events import SiteStatus
from app.history import Transition
from app.models import PlatformStatus
from app.presentation import https_url, plain, platform_line, site_title, web_url
from app.site_detail import probe_line, since_line, transition_line
from ui.icons import IconSet


class DetailPane(QWidget):
    def __init__(
        self,
        icons: IconSet,
        *,
        open_url: Callable[[str], None],
        check_now: Callable[[str], None],
        open_ticket_form: Callable[[str | None], None] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._icons = icons
        self._open_url = open_url
        self._check_now = check_now
        self._open_ticket_form = open_ticket_form
        self.site_name: str | None = None
        self._site_url: str | None = None
        self._dashboard_url: str | None = None
        self.setAccessibleName("Site details")

        self.icon = QLabel()
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        heading = QHBoxLayout()
        heading.addWidget(self.icon)
        heading.addWidget(self.title, 1)

        self.lines: dict[str, QLabel] = {}
        for key in ("reason", "since", "anonymous", "backend", "platform"):
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.lines[key] = label

        self.transitions = QListWidget()
        self.transitions.setAccessibleName("Recent state changes")
        self.transitions.setWordWrap(True)
        self.transitions.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.ticket = QPushButton("File emergency &ticket\u2026")
        self.ticket.setAccessibleName("File emergency ticket")
        self.ticket.clicked.connect(self._on_ticket)
        self.check = QPushButton("&Check now")
        self.check.setAccessibleName("Check now")
        self.check.clicked.connect(self._on_check)
        self.open_site = QPushButton("Open &site")
        self.open_site.setAccessibleName("Open site")
        self.open_site.clicked.connect(lambda: self._open(self._site_url))
        self.dashboard = QPushButton("Open in &dashboard")
        self.dashboard.setAccessibleName("Open in dashboard")
        self.dashboard.clicked.connect(lambda: self._open(self._dashboard_url))
        buttons = QHBoxLayout()
        for button in (self.ticket, self.check, self.open_site, self.dashboard):
            buttons.addWidget(button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addLayout(heading)
        for key in ("reason", "since", "anonymous", "backend", "platform"):
            layout.addWidget(self.lines[key])
        recent = QLabel("Recent state changes")
        recent.setBuddy(self.transitions)
        layout.addWidget(recent)
        layout.addWidget(self.transitions, 1)
        layout.addLayout(buttons)

    def show_site(self, site: SiteStatus, config: Config, platform: PlatformStatus | None) -> None:
        self.site_name = site.name
        self.icon.setPixmap(self._icons.site(site.state, site.pending).pixmap(24, 24))
        # The title short (name and state); the reason, often long, wraps below it.
        title = f"{site.name}: {site.state.label}" + (
            " (confirming a problem)" if site.pending else ""
        )
        self.title.setText(plain(title, 120))
        self.lines["reason"].setText(plain(site.reason, 400))
        self.setAccessibleDescription(plain(site_title(site), 400))
        self.lines["since"].setText(since_line(site.since))
        result = site.result
        for key in ("anonymous", "backend"):
            probe = getattr(result, key) if result is not None else None
            self.lines[key].setText(probe_line(probe) if probe is not None else "")
            self.lines[key].setVisible(probe is not None)
        self.lines["platform"].setText(plain(platform_line(platform, config.provider.name), 240))
        configured = config.site(site.name)
        self._site_url = web_url(site.url)
        page = configured.dashboard_link(config.provider.dashboard) if configured else ""
        self._dashboard_url = web_url(page) if page else https_url(config.provider.dashboard)
        self.open_site.setEnabled(self._site_url is not None)
        self.dashboard.setEnabled(self._dashboard_url is not None)
        self.ticket.setEnabled(self._open_ticket_form is not None)

    def show_transitions(self, name: str, rows: list[Transition]) -> None:
        if name != self.site_name:
            return  # an answer for a site no longer shown
        self.transitions.clear()
        if not rows:
            self.transitions.addItem("No state changes recorded yet")
        for t in reversed(rows):  # newest first
            self.transitions.addItem(transition_line(t))

    def _on_ticket(self) -> None:
        if self._open_ticket_form is not None and self.site_name is not None:
            self._open_ticket_form(self.site_name)

    def _on_check(self) -> None:
        if self.site_name is not None:
            self._check_now(self.site_name)

    def _open(self, url: str | None) -> None:
        if url:
            self._open_url(url)
