"""A site's New Relic findings (slowest transactions, error rate), opened from the tray.

The query runs on the Workers' loop (the monitor's), never on the GUI thread; the
window shows "Asking New Relic…" meanwhile and the findings, or why there are none,
when they arrive. Each query has New Relic's short deadline (3 s).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.config import Config, SiteConfig
from app.credentials import CredentialStore
from app.integrations.newrelic import findings_lines, ticket_findings
from ui.workers import Workers


class NewRelicWindow(QDialog):
    def __init__(
        self,
        config: Config,
        site: SiteConfig,
        *,
        store: CredentialStore,
        workers: Workers | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newrelic_window")
        self.setWindowTitle(f"New Relic: {site.name}")
        self.setAccessibleName(f"New Relic findings for {site.name}")
        self._config = config
        self._site = site
        self._store = store
        if workers is None:
            workers = Workers(self)
            self.finished.connect(lambda _code: workers.shutdown())
        self._workers = workers
        self.findings: dict[str, Any] | None = None
        self._busy = False

        layout = QVBoxLayout(self)
        self.status = QLabel(self)
        self.status.setObjectName("newrelic_status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("newrelic_text")
        self.text.setAccessibleName("Slowest transactions and error rate")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.refresh_button = buttons.addButton("&Refresh", QDialogButtonBox.ButtonRole.ActionRole)
        self.refresh_button.clicked.connect(self.refresh)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 300)
        self.refresh()

    def refresh(self) -> None:
        if self._busy:
            return
        self._busy = True
        self.refresh_button.setEnabled(False)
        self.status.setText(f"Asking New Relic about {self._site.newrelic_app}…")
        config, site, store = self._config, self._site, self._store
        # ticket_findings never raises and keeps the keyring read off the loop.
        self._workers.submit(lambda: ticket_findings(config, site, store), self._arrived,
                             self._failed, owner=self)

    def _failed(self, exc: BaseException) -> None:
        # Only a bug (or the app quitting) gets here; said in the window, not swallowed.
        self._arrived({"error": f"{type(exc).__name__}: {exc}"})

    def _arrived(self, result: dict[str, Any]) -> None:
        self._busy = False
        self.refresh_button.setEnabled(True)
        self.findings = result
        if "error" in result:
            self.status.setText(f"No New Relic findings: {result['error']}")
        else:
            self.status.setText("Slowest transactions and error rate, last 30 minutes:")
        self.text.setPlainText("\n".join(findings_lines(result)))
