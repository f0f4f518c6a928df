""""Import my Pantheon sites…": list the account's live sites, let the user pick, add them.

The Pantheon API call runs on the Workers' loop and the keyring read for the token in
its thread pool, never on the GUI thread; the dialog shows "Asking Pantheon…" meanwhile
and can be closed at any time (the request is cancelled). What will be added is shown
before anything changes; sites already configured (same URL) and sites that cannot be
imported are listed with the reason. Nothing existing is removed or edited.

Two ways to finish: inside Settings, `on_import(sites)` hands the chosen sites to the
Settings dialog (which writes them atomically on Save, with the user's other edits);
on its own, the dialog writes the config itself (save_config: atomic) off the GUI thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.config import Config, SiteConfig, save_config, with_site
from app.credentials import ENV_OVERRIDES, PANTHEON_TOKEN, CredentialStore
from app.integrations.pantheon import AccountListing, PantheonApiError, SiteSource, TerminusClient
from app.printable import plain_tooltip
from app.redact import redact
from app.sites_import import ImportPlan, plan_import
from ui.accessible import StatusLabel, readable
from ui.palette import apply_style, error_style
from ui.workers import Workers

SourceFactory = Callable[[Config, str], SiteSource]


class NoToken(Exception):
    """No Pantheon machine token anywhere (typed, keyring, environment)."""


class _Cancelled(Exception):
    """The dialog was closed while Pantheon was still answering."""


def terminus_source(config: Config, token: str) -> SiteSource:
    return TerminusClient(config.provider.api, token, dashboard=config.provider.dashboard)


class FetchJob:
    """Lists the account's sites on the Workers' loop; cancellable from the GUI thread
    (closing the dialog must not leave a request running for minutes)."""

    def __init__(
        self,
        config: Config,
        store: CredentialStore,
        typed_token: str,
        source_factory: SourceFactory,
    ) -> None:
        self._config = config
        self._store = store
        self._typed = typed_token.strip()
        self._factory = source_factory
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[object] | None = None
        self._cancelled = False
        self.running = False

    async def run(self) -> AccountListing:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._cancelled:
                raise _Cancelled()
            self._loop, self._task = loop, asyncio.current_task()
            self.running = True
        try:
            # The keyring may block (an unlock prompt): its thread pool, not the loop.
            token: str | None = self._typed
            if not token:
                token = await loop.run_in_executor(None, self._stored_token)
            if not token:
                raise NoToken(
                    "No Pantheon machine token yet: type it on the Secrets tab (or set "
                    f"{ENV_OVERRIDES[PANTHEON_TOKEN]}), then try again."
                )
            return await self._factory(self._config, token).list_sites()
        except asyncio.CancelledError:
            if self._cancelled:
                raise _Cancelled() from None
            raise  # the loop itself is ending
        finally:
            with self._lock:
                self._loop = self._task = None
                self.running = False

    def _stored_token(self) -> str | None:
        return self._store.get(PANTHEON_TOKEN)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            loop, task = self._loop, self._task
            if loop is not None and task is not None and not loop.is_closed():
                loop.call_soon_threadsafe(task.cancel)


class ImportDialog(QDialog):
    """Shows what an import would add; adds the checked sites when the user says so."""

    def __init__(
        self,
        config: Config,
        *,
        store: CredentialStore,
        on_import: Callable[[tuple[SiteConfig, ...]], None] | None = None,
        config_path: Path | None = None,
        typed_token: str = "",
        workers: Workers | None = None,
        source_factory: SourceFactory = terminus_source,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("import_dialog")
        self.setWindowTitle("Import my Pantheon sites")
        self.setAccessibleName("Import Pantheon sites")
        self._config = config
        self._on_import = on_import
        self._config_path = config_path or (Path(config.source) if config.source else None)
        if on_import is None and self._config_path is None:
            raise ValueError("ImportDialog needs on_import or a config path to write to")
        if workers is None:
            workers = Workers(self)
            self.finished.connect(lambda _code: workers.shutdown())
        self._workers = workers
        self.plan: ImportPlan | None = None
        self.listing: AccountListing | None = None
        self.done_message = ""

        layout = QVBoxLayout(self)
        # Named by its text and announced: the token error used to hide behind a fixed
        # name ("Import status").
        self.status = StatusLabel("Asking Pantheon for your sites…", self)
        self.status.setObjectName("import_status")
        readable(self.status)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status)

        layout.addWidget(self._build_table())

        self.notes = QPlainTextEdit(self)
        self.notes.setObjectName("import_notes")
        self.notes.setAccessibleName("Sites not added, and why")
        self.notes.setReadOnly(True)
        self.notes.setMaximumHeight(110)
        self.notes.hide()
        layout.addWidget(self.notes)

        layout.addWidget(self._build_buttons())
        self.resize(680, 420)

        self._job = FetchJob(config, store, typed_token, source_factory)
        self.finished.connect(lambda _code: self._job.cancel())
        self._workers.submit(self._job.run, self._listing_arrived, self._listing_failed,
                             owner=self)

    # ----------------------------------------------------------------------- layout

    def _build_table(self) -> QTableWidget:
        self.table = table = QTableWidget(0, 4, self)
        table.setObjectName("import_table")
        table.setAccessibleName("Sites that will be added")
        table.setHorizontalHeaderLabels(["Site", "Group", "URL", "Editors log in at"])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        table.itemChanged.connect(lambda _item: self._update_button())
        table.hide()
        return table

    def _build_buttons(self) -> QDialogButtonBox:
        self.buttons = QDialogButtonBox(self)
        self.add_button = self.buttons.addButton(
            "&Add sites", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.add_button.setAccessibleDescription("Add the checked sites")
        self.add_button.setEnabled(False)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.close_button.setAccessibleDescription("Close without importing")
        self.buttons.accepted.connect(self.add_checked)
        self.buttons.rejected.connect(self.reject)
        return self.buttons

    # ----------------------------------------------------------------------- results

    def _listing_failed(self, exc: BaseException) -> None:
        if isinstance(exc, _Cancelled):
            return
        if isinstance(exc, NoToken | PantheonApiError):
            text = str(exc)
        else:
            text = f"Could not list your Pantheon sites ({type(exc).__name__}: {exc})"
        self._show_error(redact(text[:1].upper() + text[1:]))

    def _listing_arrived(self, result: AccountListing) -> None:
        self.listing = result
        self.plan = plan_import(self._config, result.sites)
        self._show_plan(self.plan, result)

    def _show_error(self, text: str) -> None:
        self.status.urgent = True
        self.status.setText(text)
        apply_style(self.status, error_style)
        self.close_button.setText("Close")

    def _show_plan(self, plan: ImportPlan, listing: AccountListing) -> None:
        count = len(plan.added)
        if count:
            noun = "site" if count == 1 else "sites"
            self.status.setText(
                f"{count} live {noun} of your Pantheon account can be added. Uncheck any you "
                "do not want watched. Sites you already have are left as they are."
            )
        elif plan.present:
            self.status.setText("Every live site of your Pantheon account is already watched.")
        else:
            self.status.setText("Your Pantheon account has no live site that can be imported.")
        self.table.blockSignals(True)
        self.table.setRowCount(count)
        for row, site in enumerate(plan.added):
            name = QTableWidgetItem(site.name)
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            name.setCheckState(Qt.CheckState.Checked)
            name.setToolTip(plain_tooltip(site.dashboard_url))
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(site.group or "-"))
            self.table.setItem(row, 2, QTableWidgetItem(site.url))
            self.table.setItem(row, 3, QTableWidgetItem(site.backend_url or "-"))
        self.table.blockSignals(False)
        self.table.setVisible(bool(count))
        notes = [f"Already watched: {c.url} (as {existing})" for c, existing in plan.present]
        notes += [f"Not added: {s.name}: {s.why}" for s in (*listing.skipped, *plan.invalid)]
        self.notes.setPlainText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        self.close_button.setText("Cancel" if count else "Close")
        self._update_button()

    def checked_sites(self) -> tuple[SiteConfig, ...]:
        if self.plan is None:
            return ()
        return tuple(
            site
            for row, site in enumerate(self.plan.added)
            if (item := self.table.item(row, 0)) is not None
            and item.checkState() == Qt.CheckState.Checked
        )

    def _update_button(self) -> None:
        count = len(self.checked_sites())
        self.add_button.setEnabled(count > 0)
        self.add_button.setText(f"&Add {count} site{'s' if count != 1 else ''}")

    # ----------------------------------------------------------------------- adding

    def add_checked(self) -> None:
        chosen = self.checked_sites()
        if not chosen:
            return
        if self._on_import is not None:
            self._on_import(chosen)
            self.done_message = f"{len(chosen)} site(s) added"
            self.accept()
            return
        path = self._config_path
        assert path is not None  # checked in __init__
        config = self._config
        for site in chosen:
            config = with_site(config, site)
        self.add_button.setEnabled(False)
        self.status.setText("Saving…")
        self._workers.submit(lambda: save_config(config, path), self._saved,
                             self._not_saved, owner=self)

    def _not_saved(self, exc: BaseException) -> None:
        reason = getattr(exc, "strerror", None) or exc
        self._show_error(redact(f"Could not write {self._config_path}: {reason}"))
        self._update_button()

    def _saved(self, _result: object) -> None:
        self.done_message = f"Added to {self._config_path}"
        self.accept()
