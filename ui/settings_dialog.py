"""The Settings dialog (also the first-run dialog): sites, provider, monitor, contact, secrets.

Every value is checked by app.config.validate_field, the loader's own rules, and a
problem is shown under the field it concerns; Save is refused until all are right.
Nothing here touches the disk or the keyring on the GUI thread: writing the config and
every CredentialStore call go through `run_in_worker` (the tray's bridge, or the small
ThreadWorker below), and their results come back as queued signals.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import (
    Config,
    ContactConfig,
    SiteConfig,
    with_site,
    without_site,
)
from app.credentials import (
    ENV_OVERRIDES,
    LABELS,
    NEWRELIC_KEY,
    PANTHEON_TOKEN,
    TICKET_TOKEN,
    CredentialStore,
)
from app.paths import Paths
from app.settings_save import (
    SECRET_NAMES,
    SaveOutcome,
    SecretsStatus,
    read_secrets_status,
    save_everything,
)
from ui.palette import Tone, banner_style, error_style
from ui.site_editor import SiteEditor, ValidatedField

T = TypeVar("T")

SECRET_MNEMONIC_LABELS = {
    TICKET_TOKEN: "Ticket API t&oken",
    PANTHEON_TOKEN: "Pant&heon machine token",
    NEWRELIC_KEY: "&New Relic user key",
}

EXAMPLE_SITE = SiteConfig(name="my-site", url="https://live-my-site.pantheonsite.io/")
WELCOME = (
    "Welcome to Lifeline. Add the sites you want watched (an example is filled in: "
    "edit it), check your host's details, then press Save. Nothing is written until you do."
)


class RunInWorker(Protocol):
    """Run `fn` off the GUI thread; deliver its result (or exception) on the GUI thread."""

    def __call__(
        self, fn: Callable[[], T], done: Callable[[T | Exception], None], /
    ) -> None: ...


class ThreadWorker(QObject):
    """The default RunInWorker: one background thread, results back through a signal.

    One thread, so keyring calls never race each other (a locked keyring prompts once).
    The signal is emitted from the worker thread and connected to a QObject living on
    the GUI thread, so Qt queues the delivery onto the GUI thread's event loop.
    """

    _finished = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool: ThreadPoolExecutor | None = None
        self._finished.connect(self._deliver)

    def __call__(self, fn: Callable[[], T], done: Callable[[T | Exception], None], /) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lifeline-settings")

        def job() -> None:
            result: object
            try:
                result = fn()
            except Exception as exc:  # delivered to `done`, never swallowed
                result = exc
            # RuntimeError: the owner (and this object) was deleted meanwhile; nobody to tell.
            with contextlib.suppress(RuntimeError):
                self._finished.emit(done, result)

        self._pool.submit(job)

    def _deliver(self, done: Callable[[object], None], result: object) -> None:
        done(result)

    def shutdown(self, *_args: object) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


# --------------------------------------------------------------------------- the dialog


class SettingsDialog(QDialog):
    """Edit the whole config. `on_saved(config)` runs on the GUI thread after a save."""

    def __init__(
        self,
        config: Config,
        *,
        paths: Paths,
        store: CredentialStore,
        on_saved: Callable[[Config], None],
        run_in_worker: RunInWorker | None = None,
        config_path: Path | None = None,
        welcome: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self.setWindowTitle("Lifeline Settings")
        self.setAccessibleName("Lifeline settings")
        self._config = config
        self._paths = paths
        self._store = store
        self._on_saved = on_saved
        if run_in_worker is None:
            worker = ThreadWorker(self)
            self.finished.connect(worker.shutdown)
            run_in_worker = worker
        self._run: RunInWorker = run_in_worker
        self.config_path = config_path or (
            Path(config.source) if config.source else paths.config_file
        )
        self._sites: tuple[SiteConfig, ...] = config.sites
        self._dirty = bool(welcome)  # a first-run draft is unsaved by definition
        self._saving = False
        self._status: SecretsStatus | None = None
        self._forget: set[str] = set()
        self._plaintext_consent = False
        self.site_editor: SiteEditor | None = None

        layout = QVBoxLayout(self)
        self.welcome = QLabel(welcome, self)
        self.welcome.setObjectName("welcome")
        self.welcome.setWordWrap(True)
        self.welcome.setAccessibleName("Welcome")
        self.welcome.setVisible(bool(welcome))
        self.welcome.setStyleSheet("font-weight: 600; padding: 4px 0;")
        layout.addWidget(self.welcome)

        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Settings sections")
        self.tabs.addTab(self._build_sites_tab(), "Si&tes")
        self.tabs.addTab(self._build_provider_tab(), "&Provider")
        self.tabs.addTab(self._build_monitor_tab(), "&Monitor")
        self.tabs.addTab(self._build_contact_tab(), "&Contact")
        self.tabs.addTab(self._build_secrets_tab(), "Secr&ets")
        layout.addWidget(self.tabs)

        self.message = QLabel(self)
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setAccessibleName("Save status")
        self.message.hide()
        layout.addWidget(self.message)

        self.buttons = QDialogButtonBox(self)
        self.save_button = self.buttons.addButton(
            "&Save", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setAccessibleName("Save settings")
        self.save_button.setDefault(True)
        self.save_button.setAutoDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Close without saving")
        self.cancel_button.setAutoDefault(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self._fill(config)
        self._refresh_sites()
        self.resize(720, 560)
        self._run(lambda: read_secrets_status(self._store), self._secrets_status_arrived)

    # ----------------------------------------------------------------------- sites

    def _build_sites_tab(self) -> QWidget:
        page = QWidget(self)
        page.setAccessibleName("Sites")
        self.sites_table = QTableWidget(0, 4, page)
        self.sites_table.setObjectName("sites_table")
        self.sites_table.setAccessibleName("Sites")
        self.sites_table.setHorizontalHeaderLabels(["Name", "URL", "Environment", "Backend URL"])
        self.sites_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sites_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.sites_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.sites_table.setTabKeyNavigation(False)  # Tab leaves the table, as in a form
        self.sites_table.verticalHeader().hide()
        header = self.sites_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.sites_table.doubleClicked.connect(lambda _index: self.edit_site())
        self.sites_table.itemSelectionChanged.connect(self._update_site_buttons)
        self.sites_table.installEventFilter(self)

        self.add_button = QPushButton("&Add…", page)
        self.add_button.setAccessibleName("Add a site")
        self.add_button.clicked.connect(self.add_site)
        self.edit_button = QPushButton("E&dit…", page)
        self.edit_button.setAccessibleName("Edit the selected site")
        self.edit_button.clicked.connect(self.edit_site)
        self.remove_button = QPushButton("&Remove", page)
        self.remove_button.setAccessibleName("Remove the selected site")
        self.remove_button.clicked.connect(self.remove_site)
        self.import_button = QPushButton("&Import my Pantheon sites…", page)
        self.import_button.setObjectName("import_pantheon")
        self.import_button.setAccessibleName("Import the live sites of your Pantheon account")
        self.import_button.clicked.connect(self.import_sites)
        for button in (self.add_button, self.edit_button, self.remove_button, self.import_button):
            button.setAutoDefault(False)

        self.sites_hint = QLabel(
            "No sites yet: add one to start watching it.", page
        )
        self.sites_hint.setAccessibleName("Sites hint")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.sites_table)
        layout.addWidget(self.sites_hint)
        layout.addLayout(buttons)
        return page

    def _refresh_sites(self, select: str | None = None) -> None:
        table = self.sites_table
        table.setRowCount(len(self._sites))
        for row, site in enumerate(self._sites):
            for col, text in enumerate(
                (site.name, site.url, site.environment, site.backend_url or "(same as URL)")
            ):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                table.setItem(row, col, item)
            if site.name == select:
                table.selectRow(row)
        self.sites_hint.setVisible(not self._sites)
        self._update_site_buttons()

    def _selected_site(self) -> SiteConfig | None:
        rows = {index.row() for index in self.sites_table.selectionModel().selectedRows()}
        if len(rows) != 1:
            return None
        row = rows.pop()
        return self._sites[row] if 0 <= row < len(self._sites) else None

    def _update_site_buttons(self) -> None:
        selected = self._selected_site() is not None
        self.edit_button.setEnabled(selected)
        self.remove_button.setEnabled(selected)

    def add_site(self) -> None:
        self._open_site_editor(None)

    def edit_site(self) -> None:
        site = self._selected_site()
        if site is not None:
            self._open_site_editor(site)

    def remove_site(self) -> None:
        site = self._selected_site()
        if site is None:
            return
        row = self._sites.index(site)
        self._sites = without_site(replace(self._config, sites=self._sites), site.name).sites
        self._dirty = True
        remaining = self._sites[min(row, len(self._sites) - 1)].name if self._sites else None
        self._refresh_sites(select=remaining)
        self._show_message(f"Removed {site.name!r}; it stays in the file until you save.")

    def _open_site_editor(self, site: SiteConfig | None) -> None:
        taken = [s.name for s in self._sites if site is None or s.name != site.name]
        editor = SiteEditor(site, taken_names=taken, parent=self)
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.accepted.connect(lambda: self._site_edited(editor))
        self.site_editor = editor
        editor.open()  # window-modal and non-blocking: no nested event loop

    def _site_edited(self, editor: SiteEditor) -> None:
        site = editor.result_site()
        if site is None:
            return
        try:
            draft = with_site(
                replace(self._config, sites=self._sites), site, replacing=editor.original_name
            )
        except ValueError as exc:  # the editor checks too; this is the loader's word
            self._show_message(str(exc), error=True)
            return
        self._sites = draft.sites
        self._dirty = True
        self._refresh_sites(select=site.name)
        self.sites_table.setFocus()

    def import_sites(self) -> None:
        """Open the Pantheon import (issue 8); chosen sites join the list, saved on Save."""
        from ui.import_dialog import ImportDialog  # ui.import_dialog imports this module

        config = self.collect()  # the provider's API as typed, not only as saved
        if config is None:
            return
        dialog = ImportDialog(
            config,
            store=self._store,
            on_import=self._sites_imported,
            typed_token=self.secret_edits[PANTHEON_TOKEN].text(),
            run_in_worker=self._run,
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.import_dialog = dialog
        dialog.open()  # window-modal, no nested event loop

    def _sites_imported(self, sites: tuple[SiteConfig, ...]) -> None:
        draft = replace(self._config, sites=self._sites)
        for site in sites:
            draft = with_site(draft, site)  # names are already unique (sites_import)
        self._sites = draft.sites
        self._dirty = True
        self._refresh_sites(select=sites[0].name if sites else None)
        count = len(sites)
        self._show_message(
            f"Imported {count} site{'s' if count != 1 else ''} from Pantheon; "
            "they are watched once you save."
        )

    # ----------------------------------------------------------------------- sections

    def _form_page(self, name: str, intro: str) -> tuple[QWidget, QFormLayout]:
        page = QWidget(self)
        page.setAccessibleName(name)
        layout = QVBoxLayout(page)
        if intro:
            label = QLabel(intro, page)
            label.setWordWrap(True)
            layout.addWidget(label)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(form)
        layout.addStretch(1)
        return page, form

    def _build_provider_tab(self) -> QWidget:
        page, form = self._form_page(
            "Provider", "Where your sites are hosted: its status page, and how to reach it."
        )
        self.provider_fields = [
            ValidatedField("provider", "status_page", "Status pa&ge",
                           accessible_name="Status page URL",
                           help_text="Atlassian Statuspage base URL; /api/v2/summary.json is "
                           "read under it", parent=page),
            ValidatedField("provider", "hotline", "&Hotline",
                           accessible_name="Emergency hotline phone number", parent=page),
            ValidatedField("provider", "ticket_api", "Ticket &API",
                           accessible_name="Ticket API base URL (optional)",
                           placeholder="optional", parent=page),
            ValidatedField("provider", "dashboard", "&Dashboard",
                           accessible_name="Dashboard URL", parent=page),
            ValidatedField("provider", "ticket_timeout", "Ticket time&out (seconds)",
                           accessible_name="Ticket timeout in seconds", kind="float",
                           parent=page),
        ]
        for f in self.provider_fields:
            f.add_to(form)
        return page

    def _build_monitor_tab(self) -> QWidget:
        page, form = self._form_page("Monitor", "")
        spec: list[tuple[str, str, str, Any, str]] = [
            ("interval", "&Interval (seconds)", "Seconds between checks", "float",
             "How often every site is checked"),
            ("timeout", "Time&out (seconds)", "Request timeout in seconds", "float",
             "Hard deadline for one whole request, body included"),
            ("slow", "Slo&w after (seconds)", "Slow threshold in seconds", "float",
             "A response slower than this makes the site degraded"),
            ("retries", "&Retries", "Immediate retries of a failing probe", "int",
             "Immediate re-checks of a failing probe before it counts as failed"),
            ("retry_interval", "Retr&y interval (seconds)", "Seconds between confirming checks",
             "float", "While a problem is being confirmed, check this often"),
            ("failures_to_alert", "&Failures to alert", "Failed checks before an alert", "int",
             "Consecutive failed checks before a problem is confirmed"),
            ("successes_to_recover", "Successes to reco&ver", "Good checks before recovery",
             "int", "Consecutive good checks before a recovery is confirmed"),
            ("remind_every", "Remi&nd every (seconds)", "Reminder interval in seconds", "float",
             "Remind of an ongoing problem this often; 0 turns reminders off"),
            ("canaries", "C&anaries", "Canary URLs, separated by spaces", "urls",
             "Extra URLs that prove your own network works, separated by spaces"),
        ]
        self.monitor_fields = []
        for key, label, name, kind, help_text in spec:
            field_ = ValidatedField("monitor", key, label, accessible_name=name, kind=kind,
                                    help_text=help_text, parent=page,
                                    placeholder="optional" if kind == "urls" else "")
            field_.add_to(form)
            self.monitor_fields.append(field_)
        return page

    def _build_contact_tab(self) -> QWidget:
        page, form = self._form_page(
            "Contact", "Put on every emergency ticket, so the support team can reach you."
        )
        self.contact_fields = [
            ValidatedField("contact", "name", "&Name", accessible_name="Your name", parent=page),
            ValidatedField("contact", "email", "Em&ail", accessible_name="Your email address",
                           parent=page),
            ValidatedField("contact", "phone", "P&hone", accessible_name="Your phone number",
                           parent=page),
        ]
        for f in self.contact_fields:
            f.add_to(form)
        return page

    def _fill(self, config: Config) -> None:
        for f in self.provider_fields:
            f.set_value(getattr(config.provider, f.key))
        for f in self.monitor_fields:
            f.set_value(getattr(config.monitor, f.key))
        for f in self.contact_fields:
            f.set_value(getattr(config.contact, f.key))
        for f in self.all_fields():
            f.edit.textEdited.connect(self._mark_dirty)

    def all_fields(self) -> list[ValidatedField]:
        return [*self.provider_fields, *self.monitor_fields, *self.contact_fields]

    def _mark_dirty(self, *_args: object) -> None:
        self._dirty = True

    # ----------------------------------------------------------------------- secrets

    def _build_secrets_tab(self) -> QWidget:
        page = QWidget(self)
        page.setAccessibleName("Secrets")
        layout = QVBoxLayout(page)
        intro = QLabel(
            "Tokens are kept in your system keyring, never in the config file or the logs. "
            "A saved value is never shown: type a new one to replace it.", page
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.keyring_notice = QLabel(page)
        self.keyring_notice.setObjectName("keyring_notice")
        self.keyring_notice.setWordWrap(True)
        self.keyring_notice.setTextFormat(Qt.TextFormat.PlainText)
        self.keyring_notice.setAccessibleName("Keyring notice")
        self.keyring_notice.setFrameShape(QFrame.Shape.StyledPanel)
        self.keyring_notice.setStyleSheet(banner_style(Tone.WARN, padding=6))
        self.keyring_notice.hide()
        layout.addWidget(self.keyring_notice)

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.secret_edits: dict[str, QLineEdit] = {}
        self.secret_states: dict[str, QLabel] = {}
        self.secret_forget: dict[str, QPushButton] = {}
        for row, name in enumerate(SECRET_NAMES):
            label = QLabel(SECRET_MNEMONIC_LABELS[name], page)
            edit = QLineEdit(page)
            edit.setObjectName(f"secret.{name}")
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setAccessibleName(LABELS[name])
            edit.setPlaceholderText("checking the keyring…")
            edit.textEdited.connect(lambda _t, n=name: self._secret_typed(n))
            label.setBuddy(edit)
            state = QLabel("Checking the keyring…", page)
            state.setObjectName(f"secret.{name}.state")
            state.setAccessibleName(f"{LABELS[name]}: status")
            state.setTextFormat(Qt.TextFormat.PlainText)
            state.setWordWrap(True)
            forget = QPushButton("Forget", page)
            forget.setAccessibleName(f"Forget the saved {LABELS[name]}")
            forget.setAutoDefault(False)
            forget.setEnabled(False)
            forget.clicked.connect(lambda _c=False, n=name: self._forget_secret(n))
            grid.addWidget(label, row * 2, 0)
            grid.addWidget(edit, row * 2, 1)
            grid.addWidget(forget, row * 2, 2)
            grid.addWidget(state, row * 2 + 1, 1, 1, 2)
            self.secret_edits[name] = edit
            self.secret_states[name] = state
            self.secret_forget[name] = forget
        layout.addLayout(grid)

        self.plaintext_check = QCheckBox(
            f"Keep secrets in an &unencrypted file ({self._paths.plaintext_secrets})", page
        )
        self.plaintext_check.setObjectName("plaintext_check")
        self.plaintext_check.setAccessibleName("Keep secrets in an unencrypted file")
        self.plaintext_check.setAccessibleDescription(
            "Only if no keyring can be used; anyone who can read your files can read them."
        )
        self.plaintext_check.hide()
        self.plaintext_check.toggled.connect(self._plaintext_toggled)
        layout.addWidget(self.plaintext_check)
        layout.addStretch(1)
        return page

    def _secrets_status_arrived(self, result: SecretsStatus | Exception) -> None:
        if not shiboken6.isValid(self):
            return  # the dialog was closed and deleted while the keyring answered
        if isinstance(result, Exception):
            for name in SECRET_NAMES:
                self.secret_states[name].setText(f"Could not check the keyring: {result}")
                self.secret_edits[name].setPlaceholderText("type a value to save it")
            return
        self._apply_status(result)

    def _apply_status(self, status: SecretsStatus) -> None:
        self._status = status
        if status.available:
            self.keyring_notice.hide()
            self.plaintext_check.hide()
        else:
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
            self.plaintext_check.setChecked(status.plaintext or self._plaintext_consent)
            self.plaintext_check.setEnabled(not status.plaintext)
            self.plaintext_check.blockSignals(False)
        for name in SECRET_NAMES:
            self.secret_states[name].setText(self._describe_secret(name, status))
            saved = status.saved.get(name, False)
            self.secret_forget[name].setEnabled(saved and name not in self._forget)
            self.secret_edits[name].setPlaceholderText(
                "saved; type a new value to replace it" if saved else "not set"
            )

    def _describe_secret(self, name: str, status: SecretsStatus) -> str:
        if name in status.errors:
            return status.errors[name]
        env = ENV_OVERRIDES.get(name, "")
        if env and os.environ.get(env):
            return f"Set by the environment variable {env}, which wins over a saved value."
        if name in self._forget:
            return "Will be forgotten when you save."
        if not status.saved.get(name):
            return "Not set."
        if status.available:
            return "Saved in keyring (not shown)."
        if status.plaintext:
            return "Saved in the unencrypted file (not shown)."
        return "Kept for this session only (not shown)."

    def _secret_typed(self, name: str) -> None:
        self._dirty = True
        self._forget.discard(name)
        if self.secret_edits[name].text():
            self.secret_states[name].setText("Will be saved when you press Save.")
        elif self._status is not None:
            self.secret_states[name].setText(self._describe_secret(name, self._status))

    def _forget_secret(self, name: str) -> None:
        self._dirty = True
        self._forget.add(name)
        self.secret_edits[name].clear()
        self.secret_forget[name].setEnabled(False)
        self.secret_states[name].setText("Will be forgotten when you save.")

    def _plaintext_toggled(self, checked: bool) -> None:
        if not checked:
            self._plaintext_consent = False
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Store secrets unencrypted?",
            "Lifeline will write your tokens, unencrypted, to\n"
            f"{self._paths.plaintext_secrets}\n(readable only by your user account). Anyone "
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

        def answered() -> None:
            agreed = box.clickedButton() is yes
            self._plaintext_consent = agreed
            self._dirty = self._dirty or agreed
            if not agreed:
                self.plaintext_check.blockSignals(True)
                self.plaintext_check.setChecked(False)
                self.plaintext_check.blockSignals(False)

        box.finished.connect(answered)
        box.open()

    # ----------------------------------------------------------------------- saving

    def collect(self) -> Config | None:
        """The config the fields describe, or None after marking every wrong field."""
        values: dict[tuple[str, str], Any] = {}
        first_bad: tuple[int, ValidatedField] | None = None
        for tab, fields_ in ((1, self.provider_fields), (2, self.monitor_fields),
                             (3, self.contact_fields)):
            for f in fields_:
                try:
                    values[(f.section, f.key)] = f.value()
                    f.clear_error()
                except ValueError as exc:
                    f.show_error(str(exc))
                    first_bad = first_bad or (tab, f)
        if first_bad is not None:
            tab, bad = first_bad
            self.tabs.setCurrentIndex(tab)
            bad.edit.setFocus()
            bad.edit.selectAll()
            return None

        def section(name: str) -> dict[str, Any]:
            return {key: value for (sec, key), value in values.items() if sec == name}

        return replace(
            self._config,
            provider=replace(self._config.provider, **section("provider")),
            monitor=replace(self._config.monitor, **section("monitor")),
            contact=ContactConfig(**section("contact")),
            sites=self._sites,
            source=str(self.config_path),
        )

    def secret_changes(self) -> dict[str, str | None]:
        changes: dict[str, str | None] = {}
        for name in SECRET_NAMES:
            text = self.secret_edits[name].text().strip()
            if text:
                changes[name] = text
            elif name in self._forget:
                changes[name] = None
        return changes

    def save(self) -> None:
        if self._saving:
            return
        config = self.collect()
        if config is None:
            self._show_message("Some settings need fixing; see the marked fields.", error=True)
            return
        changes = self.secret_changes()
        consent = self._plaintext_consent
        path = self.config_path
        store = self._store
        self._set_saving(True)
        self._show_message("Saving…")
        self._run(
            lambda: save_everything(config, path, store, changes, consent), self._save_finished
        )

    def _save_finished(self, result: SaveOutcome | Exception) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_saving(False)
        if isinstance(result, Exception):
            # Nothing typed is lost: the dialog stays open with every value in place.
            detail = getattr(result, "strerror", None) or str(result) or type(result).__name__
            self._show_message(f"Could not save {self.config_path}: {detail}", error=True)
            return
        self._config = result.config
        for name in result.stored:
            self.secret_edits[name].clear()
            self._forget.discard(name)
        self._apply_status(result.status)
        self._on_saved(result.config)
        if result.errors:
            # The config is saved; the secrets that failed keep their typed values.
            for name, error in result.errors.items():
                if name in self.secret_states:
                    self.secret_states[name].setText(error)
            lines = "; ".join(result.errors.values())
            self._show_message(f"Settings saved, but not every secret: {lines}", error=True)
            self.tabs.setCurrentIndex(4)
            self._dirty = bool(self.secret_changes())
            return
        self._dirty = False
        self.accept()

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        self.save_button.setEnabled(not saving)
        self.tabs.setEnabled(not saving)

    def _show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(error_style() if error else "")
        self.message.show()

    # ----------------------------------------------------------------------- closing

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

        def answered() -> None:
            if box.clickedButton() is discard:
                self._dirty = False
                QDialog.reject(self)

        box.finished.connect(answered)
        box.open()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # In the table, Enter edits the site (not Save) and Delete removes it.
        if watched is self.sites_table and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.edit_site()
                return True
            if event.key() == Qt.Key.Key_Delete:
                self.remove_site()
                return True
        return super().eventFilter(watched, event)


def open_first_run(
    *,
    paths: Paths,
    store: CredentialStore,
    on_saved: Callable[[Config], None],
    run_in_worker: RunInWorker | None = None,
    config_path: Path | None = None,
    parent: QWidget | None = None,
) -> SettingsDialog:
    """The Settings dialog for a user with no config yet: defaults plus an example site."""
    dialog = SettingsDialog(
        Config(sites=(EXAMPLE_SITE,)),
        paths=paths,
        store=store,
        on_saved=on_saved,
        run_in_worker=run_in_worker,
        config_path=config_path,
        welcome=WELCOME,
        parent=parent,
    )
    dialog.setWindowTitle("Welcome to Lifeline")
    dialog.show()
    dialog.sites_table.selectRow(0)
    return dialog
