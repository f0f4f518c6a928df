"""The Secrets tab: tokens typed here go to the keyring on Save; saved ones are never shown.

It only displays: the keyring status arrives from the dialog's worker (`show_status`),
and `changes()` says what to store or forget when the dialog saves.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.credentials import NEWRELIC_KEY, PANTHEON_TOKEN, TICKET_TOKEN, env_override, label
from app.settings_save import SECRET_NAMES, SecretsStatus
from ui.accessible import StatusLabel
from ui.palette import Tone, apply_style, banner_style

MNEMONIC_LABELS = {
    TICKET_TOKEN: "Ticket API t&oken",
    PANTHEON_TOKEN: "Pant&heon machine token",
    NEWRELIC_KEY: "&New Relic user key",
}


class SecretsTab(QWidget):
    changed = Signal()

    def __init__(
        self,
        plaintext_file: str,
        parent: QWidget | None = None,
        *,
        names: tuple[str, ...] = SECRET_NAMES,  # the fixed secrets, then the routes' ones
    ) -> None:
        super().__init__(parent)
        self.names = names
        self.setAccessibleName("Secrets")
        self._plaintext_file = plaintext_file
        self.status: SecretsStatus | None = None
        self.forgotten: set[str] = set()
        self.consent = False  # agreed (in the confirmation) to an unencrypted file

        layout = QVBoxLayout(self)
        intro = StatusLabel(
            "Tokens are kept in your system keyring, never in the config file or the logs. "
            "A saved value is never shown: type a new one to replace it.", self
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.keyring_notice = StatusLabel(self)
        self.keyring_notice.setObjectName("keyring_notice")
        self.keyring_notice.setWordWrap(True)
        self.keyring_notice.setTextFormat(Qt.TextFormat.PlainText)
        self.keyring_notice.setFrameShape(QFrame.Shape.StyledPanel)
        apply_style(self.keyring_notice, lambda: banner_style(Tone.WARN, padding=6))
        self.keyring_notice.hide()
        layout.addWidget(self.keyring_notice)

        # Where a secret goes when the config points it at someone else's host (defect 7).
        self.destinations_notice = StatusLabel(self)
        self.destinations_notice.setObjectName("destinations_notice")
        self.destinations_notice.setWordWrap(True)
        self.destinations_notice.setTextFormat(Qt.TextFormat.PlainText)
        self.destinations_notice.setFrameShape(QFrame.Shape.StyledPanel)
        apply_style(self.destinations_notice, lambda: banner_style(Tone.WARN, padding=6))
        self.destinations_notice.hide()
        layout.addWidget(self.destinations_notice)

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.edits: dict[str, QLineEdit] = {}
        self.states: dict[str, QLabel] = {}
        self.forget: dict[str, QPushButton] = {}
        for row, name in enumerate(self.names):
            self._add_row(grid, row, name)
        layout.addLayout(grid)

        self.plaintext_check = QCheckBox(
            f"Keep secrets in an &unencrypted file ({plaintext_file})", self
        )
        self.plaintext_check.setObjectName("plaintext_check")
        self.plaintext_check.setAccessibleDescription(
            "Only if no keyring can be used; anyone who can read your files can read them."
        )
        self.plaintext_check.hide()
        self.plaintext_check.toggled.connect(self._plaintext_toggled)
        layout.addWidget(self.plaintext_check)
        layout.addStretch(1)

    def _add_row(self, grid: QGridLayout, row: int, name: str) -> None:
        title = label(name)
        caption = QLabel(MNEMONIC_LABELS.get(name, title.replace("&", "&&")), self)
        if name not in MNEMONIC_LABELS:  # a route's name is the user's text: never rich text
            caption.setTextFormat(Qt.TextFormat.PlainText)
        edit = QLineEdit(self)
        edit.setObjectName(f"secret.{name}")
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setAccessibleName(title)
        edit.setPlaceholderText("checking the keyring…")
        edit.textEdited.connect(lambda _t: self._typed(name))
        caption.setBuddy(edit)
        state = StatusLabel("Checking the keyring…", self)
        state.setObjectName(f"secret.{name}.state")
        state.setTextFormat(Qt.TextFormat.PlainText)
        state.setWordWrap(True)
        forget = QPushButton("Forget", self)
        forget.setAccessibleName(f"Forget the saved {title}")
        forget.setAutoDefault(False)
        forget.setEnabled(False)
        forget.clicked.connect(lambda _c=False: self._forget(name))
        grid.addWidget(caption, row * 2, 0)
        grid.addWidget(edit, row * 2, 1)
        grid.addWidget(forget, row * 2, 2)
        grid.addWidget(state, row * 2 + 1, 1, 1, 2)
        self.edits[name] = edit
        self.states[name] = state
        self.forget[name] = forget

    def show_destinations(self, warnings: list[str]) -> None:
        """The config's secrets that go to a host other than the provider's own."""
        self.destinations_notice.setText("\n".join(warnings))
        self.destinations_notice.setVisible(bool(warnings))

    # -- what the worker found ------------------------------------------------------------

    def status_failed(self, error: BaseException) -> None:
        for name in self.names:
            self._set_state(name, f"Could not check the keyring: {error}")
            self.edits[name].setPlaceholderText("type a value to save it")

    def show_status(self, status: SecretsStatus) -> None:
        self.status = status
        if status.available:
            self.keyring_notice.hide()
            self.plaintext_check.hide()
        else:
            self._show_no_keyring(status)
        for name in self.names:
            self._set_state(name, self._describe(name, status))
            saved = status.saved.get(name, False)
            self.forget[name].setEnabled(saved and name not in self.forgotten)
            self.edits[name].setPlaceholderText(
                "saved; type a new value to replace it" if saved else "not set"
            )

    def _set_state(self, name: str, text: str) -> None:
        # On the label (reachable as text) and as the field's description, so the
        # status ("Not set.") is read when the field gets the focus.
        self.states[name].setText(text)
        self.edits[name].setAccessibleDescription(text)

    def _show_no_keyring(self, status: SecretsStatus) -> None:
        reason = status.reason or "no system keyring is available"
        where = (
            "They are kept in the unencrypted file you agreed to."
            if status.plaintext
            else "Secrets you enter are kept for this session only: Lifeline forgets "
            "them when it quits. Install and unlock a keyring (GNOME Keyring, KWallet, "
            "KeePassXC) to keep them safely, or agree to an unencrypted file below."
        )
        self.keyring_notice.setText(f"{reason[:1].upper()}{reason[1:]}. {where}")
        self.keyring_notice.show()
        self.plaintext_check.show()
        self.plaintext_check.blockSignals(True)
        self.plaintext_check.setChecked(status.plaintext or self.consent)
        self.plaintext_check.setEnabled(not status.plaintext)
        self.plaintext_check.blockSignals(False)

    def _describe(self, name: str, status: SecretsStatus) -> str:
        if name in status.errors:
            return status.errors[name]
        env = env_override(name) or ""
        if env and os.environ.get(env):
            return f"Set by the environment variable {env}, which wins over a saved value."
        if name in self.forgotten:
            return "Will be forgotten when you save."
        if not status.saved.get(name):
            return "Not set."
        if status.available:
            return "Saved in keyring (not shown)."
        if status.plaintext:
            return "Saved in the unencrypted file (not shown)."
        return "Kept for this session only (not shown)."

    # -- what the user did ------------------------------------------------------------------

    def changes(self) -> dict[str, str | None]:
        """Secret name -> the new value, or None to forget it."""
        changes: dict[str, str | None] = {}
        for name in self.names:
            text = self.edits[name].text().strip()
            if text:
                changes[name] = text
            elif name in self.forgotten:
                changes[name] = None
        return changes

    def saved(self, stored: dict[str, str], status: SecretsStatus) -> None:
        """After a save: clear what was stored, show where things are now."""
        for name in stored:
            self.edits[name].clear()
            self.forgotten.discard(name)
        self.show_status(status)

    def show_errors(self, errors: dict[str, str]) -> None:
        for name, error in errors.items():
            if name in self.states:
                self._set_state(name, error)

    def _typed(self, name: str) -> None:
        self.changed.emit()
        self.forgotten.discard(name)
        if self.edits[name].text():
            self._set_state(name, "Will be saved when you press Save.")
        elif self.status is not None:
            self._set_state(name, self._describe(name, self.status))

    def _forget(self, name: str) -> None:
        self.changed.emit()
        self.forgotten.add(name)
        self.edits[name].clear()
        self.forget[name].setEnabled(False)
        self._set_state(name, "Will be forgotten when you save.")

    def _plaintext_toggled(self, checked: bool) -> None:
        if not checked:
            self.consent = False
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Store secrets unencrypted?",
            "Lifeline will write your tokens, unencrypted, to\n"
            f"{self._plaintext_file}\n(readable only by your user account). Anyone "
            "or anything that can read your files can read them.\n\nStore them there?",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("plaintext_confirm")
        yes = box.addButton("&Store unencrypted", QMessageBox.ButtonRole.AcceptRole)
        no = box.addButton("&Keep for this session only", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(no)
        box.setEscapeButton(no)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # Bound methods, not a closure over `box` (see SettingsDialog.reject).
        self._agree_button = yes
        box.buttonClicked.connect(self._plaintext_clicked)  # before `finished`
        box.finished.connect(self._plaintext_answered)  # also when closed otherwise
        box.open()

    def _plaintext_clicked(self, button: object) -> None:
        self.consent = button is self._agree_button
        if self.consent:
            self.changed.emit()

    def _plaintext_answered(self) -> None:
        if self.consent:
            return
        self.plaintext_check.blockSignals(True)
        self.plaintext_check.setChecked(False)
        self.plaintext_check.blockSignals(False)
