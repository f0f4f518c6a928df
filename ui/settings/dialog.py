"""The Settings dialog (also the first-run dialog): a Sites tab, one tab per [table] the
schema gives a title, and a Secrets tab.

Every value is checked by the loader's own rules, and a problem is shown under the field
it concerns; Save is refused until all are right. Nothing here touches the disk or the
keyring on the GUI thread: reading the file, the keyring status and saving go through
ui.workers, and their results come back on the GUI thread.

The form is filled from the config the tray holds, which may be older than the file
(`lifeline import`, an editor); the file is re-read when the dialog opens, and on Save
what changed in it meanwhile is merged in (app.settings_save), never overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import SECTIONS, SUPPORT_TIERS, Config, SiteConfig
from app.credentials import PANTHEON_TOKEN, CredentialStore
from app.paths import Paths
from app.secret_hosts import foreign_secret_hosts
from app.settings_save import (
    OnDisk,
    SaveOutcome,
    SaveRefused,
    SecretsStatus,
    read_secrets_status,
    reload_config,
    save_everything,
    secret_names,
)
from ui.accessible import StatusLabel, name_button, readable
from ui.palette import apply_style, error_style
from ui.settings.fields import SchemaField
from ui.settings.form_tab import FormTab
from ui.settings.secrets_tab import SecretsTab
from ui.settings.sites_tab import SitesTab
from ui.workers import Workers

log = logging.getLogger(__name__)

KEYRING_LANE = "keyring"  # keyring calls never race (a locked keyring prompts once)

EXAMPLE_SITE = SiteConfig(name="my-site", url="https://live-my-site.pantheonsite.io/")
WELCOME = (
    "Welcome to Lifeline. Add the sites you want watched (an example is filled in: "
    "edit it), check your host's details, then press Save. Nothing is checked or saved "
    "until you do (only the log file named in About is written). "
    "On the Provider tab, choose your support tier: it says what to do on the dashboard "
    f"in an emergency ({'; '.join(SUPPORT_TIERS.summary())}). Leave "
    f"\u201c{SUPPORT_TIERS.label_of('unknown')}\u201d if you are not sure, and all three "
    "are shown. "
    "To hear of platform incidents and planned maintenance from your host itself, use "
    "\u201cSubscribe to status updates\u2026\u201d in the tray menu's platform entry."
)


class SettingsDialog(QDialog):
    """Edit the whole config. `on_saved(config)` runs on the GUI thread after a save."""

    def __init__(
        self,
        config: Config,
        *,
        paths: Paths,
        store: CredentialStore,
        on_saved: Callable[[Config], None],
        workers: Workers | None = None,
        config_path: Path | None = None,
        welcome: str = "",
        base: Config | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`base`: what the file held when `config` was read (default: `config`)."""
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        # Qt adds " — Lifeline" (the application's display name) on its own.
        self.setWindowTitle("Settings")
        self.setAccessibleName("Lifeline settings")
        self._config = config
        self._base = base if base is not None else config
        self._store = store
        self._on_saved = on_saved
        if workers is None:
            own = Workers(self)
            self.finished.connect(lambda _code: own.shutdown())
            workers = own
        self._workers = workers
        self.config_path = config_path or (
            Path(config.source) if config.source else paths.config_file
        )
        self._dirty = bool(welcome)  # a first-run draft is unsaved by definition
        self._saving = False
        self._overwrite: str | None = None  # the file's stamp the user agreed to replace

        layout = QVBoxLayout(self)
        self.welcome = StatusLabel(welcome, self)
        self.welcome.setObjectName("welcome")
        self.welcome.setWordWrap(True)
        readable(self.welcome)
        self.welcome.setVisible(bool(welcome))
        self.welcome.setStyleSheet("font-weight: 600; padding: 4px 0;")
        layout.addWidget(self.welcome)

        layout.addWidget(self._build_tabs(config, paths))

        self.message = StatusLabel(self)
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()
        layout.addWidget(self.message)
        layout.addWidget(self._build_buttons())

        self._fill(config)
        self.resize(720, 560)
        self._workers.submit(lambda: reload_config(self.config_path), self._file_read,
                             self._file_unreadable, owner=self)
        names = secret_names(config)
        self._workers.submit(lambda: read_secrets_status(store, names), self._status_arrived,
                             self.secrets.status_failed, lane=KEYRING_LANE, owner=self)

    def _build_tabs(self, config: Config, paths: Paths) -> QTabWidget:
        """Sites, then one tab per [table] the schema titles, then Secrets."""
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Settings sections")
        self.sites = SitesTab(config.sites, self)
        self.sites.changed.connect(self._mark_dirty)
        self.sites.message.connect(self._show_message)
        self.sites.import_requested.connect(self.import_sites)
        self.tabs.addTab(self.sites, "Si&tes")
        self.forms = [FormTab(s, self) for s in SECTIONS if s.tab and not s.many]
        for form in self.forms:
            form.changed.connect(self._mark_dirty)
            self.tabs.addTab(form, form.section.tab)
        self.secrets = SecretsTab(
            str(paths.plaintext_secrets), self, names=secret_names(config)
        )
        self.secrets.changed.connect(self._mark_dirty)
        self.tabs.addTab(self.secrets, "Secr&ets")
        return self.tabs

    def _build_buttons(self) -> QDialogButtonBox:
        self.buttons = QDialogButtonBox(self)
        self.save_button = self.buttons.addButton(
            "&Save", QDialogButtonBox.ButtonRole.AcceptRole
        )
        name_button(self.save_button, "settings")
        self.save_button.setDefault(True)
        self.save_button.setAutoDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleDescription("Close without saving")
        self.cancel_button.setAutoDefault(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        return self.buttons

    def _fill(self, config: Config) -> None:
        for form in self.forms:
            form.fill(getattr(config, form.section.attr))
        self.sites.show_sites(config.sites)
        self.secrets.show_destinations(foreign_secret_hosts(config))

    def all_fields(self) -> list[SchemaField]:
        return [f for form in self.forms for f in form.fields]

    def form(self, section: str) -> FormTab:
        return next(form for form in self.forms if form.section.key == section)

    def _mark_dirty(self) -> None:
        self._dirty = True

    # -- what the workers found ---------------------------------------------------------

    def _file_read(self, on_disk: OnDisk) -> None:
        if on_disk.problem:
            self._show_message(
                f"The file has a problem: {on_disk.problem}. These are the settings "
                "Lifeline started with; Save replaces the file with them.", error=True)
            self._overwrite = on_disk.stamp
            return
        fresh = on_disk.config
        if fresh is None:  # no file (yet): nothing to merge with; keep what is shown
            self._base = Config()
            return
        if replace(fresh, source="") == replace(self._base, source=""):
            return
        self._base = fresh
        if self._dirty:
            return  # the user is typing: keep it; Save merges the file's changes in
        self._config = fresh
        self._fill(fresh)
        self._show_message("Shown as the file is now: it changed since Lifeline read it.")

    def _file_unreadable(self, error: BaseException) -> None:
        self._show_message(f"Could not read {self.config_path}: {error}", error=True)

    def _status_arrived(self, status: SecretsStatus) -> None:
        self.secrets.show_status(status)

    # -- importing ------------------------------------------------------------------------

    def import_sites(self) -> None:
        """Open the Pantheon import (issue 8); chosen sites join the list, saved on Save."""
        from ui.import_dialog import ImportDialog

        config = self.collect()  # the provider's API as typed, not only as saved
        if config is None:
            return
        dialog = ImportDialog(
            config,
            store=self._store,
            on_import=self.sites.add_imported,
            typed_token=self.secrets.edits[PANTHEON_TOKEN].text(),
            workers=self._workers,
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.import_dialog = dialog
        dialog.open()  # window-modal, no nested event loop

    # -- saving -----------------------------------------------------------------------------

    def collect(self) -> Config | None:
        """The config the fields describe, or None after marking every wrong field."""
        values: dict[str, Any] = {"sites": self.sites.sites, "source": str(self.config_path)}
        first_bad: tuple[int, SchemaField] | None = None
        for form in self.forms:
            value, bad = form.merged_into(getattr(self._config, form.section.attr))
            values[form.section.attr] = value
            if bad is not None and first_bad is None:
                first_bad = (self.tabs.indexOf(form), bad)
        if first_bad is not None:
            tab, field = first_bad
            self.tabs.setCurrentIndex(tab)
            field.focus()
            return None
        return replace(self._config, **values)

    def save(self) -> None:
        if self._saving:
            return
        config = self.collect()
        if config is None:
            self._show_message("Some settings need fixing; see the marked fields.", error=True)
            return
        changes = self.secrets.changes()
        consent = self.secrets.consent
        path, store, base, overwrite = self.config_path, self._store, self._base, self._overwrite
        self._set_saving(True)
        self._show_message("Saving…")
        self._workers.submit(
            lambda: save_everything(config, path, store, changes, consent,
                                    base=base, overwrite=overwrite),
            self._save_finished, self._save_failed, lane=KEYRING_LANE, owner=self,
        )

    def _save_failed(self, error: BaseException) -> None:
        # Nothing typed is lost: the dialog stays open with every value in place.
        self._set_saving(False)
        if isinstance(error, SaveRefused):
            self._overwrite = error.stamp  # Save again replaces what is there now
            self._show_message(str(error), error=True)
            return
        detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
        self._show_message(f"Could not save {self.config_path}: {detail}", error=True)

    def _save_finished(self, result: SaveOutcome) -> None:
        self._set_saving(False)
        if result.merged:
            log.info("settings: kept what changed in the file meanwhile: %s",
                     ", ".join(result.merged))
        self._config = self._base = result.config
        self._overwrite = None
        self.secrets.saved(result.stored, result.status)
        self._on_saved(result.config)
        if result.errors:
            # The config is saved; the secrets that failed keep their typed values.
            self.secrets.show_errors(result.errors)
            lines = "; ".join(result.errors.values())
            self._show_message(f"Settings saved, but not every secret: {lines}", error=True)
            self.tabs.setCurrentWidget(self.secrets)
            self._dirty = bool(self.secrets.changes())
            return
        self._dirty = False
        self.accept()

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        self.save_button.setEnabled(not saving)
        self.tabs.setEnabled(not saving)

    def _show_message(self, text: str, error: bool = False) -> None:
        self.message.urgent = error
        self.message.setText(text)
        apply_style(self.message, error_style if error else lambda: "")
        self.message.show()

    # -- closing ----------------------------------------------------------------------------

    def reject(self) -> None:
        if self._saving:
            return  # the worker is writing; closing now would hide its outcome
        if not self._dirty:
            super().reject()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Discard changes?",
            "You have changes that are not saved. Discard them?",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("discard_confirm")
        discard = box.addButton("&Discard", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("&Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # A bound method, not a closure over `box`: releasing such a closure while the
        # box is being deleted crashed PySide 6.11 (test_escape_closes_...).
        discard.clicked.connect(self._discard_confirmed)
        box.open()

    def _discard_confirmed(self) -> None:
        self._dirty = False
        QDialog.reject(self)


def open_first_run(
    *,
    paths: Paths,
    store: CredentialStore,
    on_saved: Callable[[Config], None],
    workers: Workers | None = None,
    config_path: Path | None = None,
    parent: QWidget | None = None,
) -> SettingsDialog:
    """The Settings dialog for a user with no config yet: defaults plus an example site."""
    dialog = SettingsDialog(
        Config(sites=(EXAMPLE_SITE,)),
        paths=paths,
        store=store,
        on_saved=on_saved,
        workers=workers,
        config_path=config_path,
        welcome=WELCOME,
        base=Config(),  # nothing on disk: anything found there at Save is merged in
        parent=parent,
    )
    dialog.setWindowTitle("Welcome to Lifeline")
    dialog.show()
    dialog.sites.table.selectRow(0)
    return dialog
