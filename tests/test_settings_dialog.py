"""The Settings dialog: validation by the field, sites, atomic save, secrets off the GUI thread."""

from __future__ import annotations

import json
import re
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from keyring.errors import KeyringLocked
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTabWidget,
    QWidget,
)

from app.config import Config, ContactConfig, SiteConfig, load_config, save_config
from app.credentials import NEWRELIC_KEY, PANTHEON_TOKEN, TICKET_TOKEN, CredentialStore
from app.paths import Paths
from tests.memory_keyring import MemoryKeyring
from ui.settings import SettingsDialog, open_first_run
from ui.settings.site_editor import SiteEditor

SHOP = SiteConfig(name="shop", url="https://live-shop.pantheonsite.io/")
BLOG = SiteConfig(name="blog", url="https://blog.example.org/", environment="test")
TOKEN = "tok-3f9a81c2d7e64b05"


class RecordingStore(CredentialStore):
    """The real store, noting which thread made each call."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threads: list[int] = []

    def _note(self) -> None:
        self.threads.append(threading.get_ident())

    def available(self) -> bool:
        self._note()
        return super().available()

    def get(self, name: str) -> str | None:
        self._note()
        return super().get(name)

    def set(self, name: str, value: str) -> str:
        self._note()
        return super().set(name, value)

    def delete(self, name: str) -> None:
        self._note()
        super().delete(name)

    def enable_plaintext(self) -> None:
        self._note()
        super().enable_plaintext()

    @property
    def backend_name(self) -> str:
        self._note()
        return CredentialStore.backend_name.fget(self)  # type: ignore[attr-defined,no-any-return]

    @property
    def unavailable_reason(self) -> str | None:
        self._note()
        return CredentialStore.unavailable_reason.fget(self)  # type: ignore[attr-defined,no-any-return]

    @property
    def plaintext_enabled(self) -> bool:
        self._note()
        return CredentialStore.plaintext_enabled.fget(self)  # type: ignore[attr-defined,no-any-return]

    def gui_thread_calls(self) -> int:
        return self.threads.count(threading.main_thread().ident or -1)


@pytest.fixture
def store(paths: Paths) -> RecordingStore:
    return RecordingStore(plaintext_path=paths.plaintext_secrets)


@pytest.fixture
def saved() -> list[Config]:
    return []


@pytest.fixture
def make_dialog(
    qtbot: Any, paths: Paths, store: RecordingStore, saved: list[Config]
) -> Iterator[Callable[..., SettingsDialog]]:
    def make(config: Config | None = None, **kwargs: Any) -> SettingsDialog:
        options: dict[str, Any] = {"paths": paths, "store": store, "on_saved": saved.append}
        options.update(kwargs)
        dialog = SettingsDialog(config or Config(sites=(SHOP, BLOG)), **options)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.secrets.status is not None)  # the keyring status arrived
        return dialog

    yield make
    assert store.gui_thread_calls() == 0, "the GUI thread called the credential store"


def field(dialog: SettingsDialog, section: str, key: str) -> Any:
    return next(f for f in dialog.all_fields() if (f.section, f.key) == (section, key))


def type_into(qtbot: Any, edit: QLineEdit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClicks(edit, text) if text else edit.clear()
    if not text:
        edit.textEdited.emit("")


def click_save_and_wait(qtbot: Any, dialog: SettingsDialog, saved: list[Config]) -> Config:
    count = len(saved)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(saved) > count)
    return saved[-1]


# --------------------------------------------------------------------------- validation


def test_bad_url_is_explained_next_to_its_field_and_save_is_refused(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], paths: Paths
) -> None:
    dialog = make_dialog()
    status_page = field(dialog, "provider", "status_page")
    type_into(qtbot, status_page.edit, "ftp://status.example.com")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert status_page.error.isVisible()
    assert "is not an http or https URL (ftp:)" in status_page.error.text()
    # next to the field: in the same row container, right under the line edit
    assert status_page.error.parent() is status_page.edit.parent()
    assert status_page.error.geometry().top() >= status_page.edit.geometry().bottom()
    assert dialog.tabs.currentIndex() == 1  # the Provider tab, brought forward
    assert status_page.edit.hasFocus()
    assert "need fixing" in dialog.message.text()
    assert status_page.edit.accessibleDescription() == status_page.error.text()
    qtbot.wait(50)  # a refused save must not reach the worker
    assert saved == []
    assert not paths.config_file.exists()

    # fixing it clears the message as the user types
    type_into(qtbot, status_page.edit, "https://status.example.com")
    assert not status_page.error.isVisible()


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("interval", "0", "must be at least 1 (got 0)"),
        ("interval", "soon", "must be a number, not 'soon'"),
        ("retries", "1.5", "must be a whole number, not '1.5'"),
        ("retries", "11", "must be at most 10 (got 11)"),
        ("timeout", "-3", "must be greater than 0 (got -3)"),
        ("remind_every", "nan", "must be a finite number"),
        ("canaries", "https://ok.example.com gopher://x", "is not an http or https URL"),
    ],
)
def test_monitor_numbers_are_checked_like_the_loader(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], key: str, text: str, message: str
) -> None:
    dialog = make_dialog()
    f = field(dialog, "monitor", key)
    type_into(qtbot, f.edit, text)
    assert dialog.collect() is None
    assert message.lower() in f.error.text().lower()
    assert dialog.tabs.currentIndex() == 2


def test_url_with_credentials_is_refused(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog]
) -> None:
    dialog = make_dialog()
    f = field(dialog, "provider", "ticket_api")
    type_into(qtbot, f.edit, "https://user:hunter2@tickets.example.com/")
    assert dialog.collect() is None
    assert "Must not contain a user name or password" in f.error.text()
    assert "hunter2" not in f.error.text()


# --------------------------------------------------------------------------- sites


def open_editor(qtbot: Any, dialog: SettingsDialog, button: QAbstractButton) -> SiteEditor:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    editor = dialog.sites.editor
    assert editor is not None and editor.isVisible()
    return editor


def sites_in_table(dialog: SettingsDialog) -> list[tuple[str, str, str]]:
    table = dialog.sites.table
    return [
        (table.item(r, 0).text(), table.item(r, 1).text(), table.item(r, 2).text())
        for r in range(table.rowCount())
    ]


def test_add_a_site_validating_each_field_and_refusing_a_duplicate_name(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog]
) -> None:
    dialog = make_dialog()
    editor = open_editor(qtbot, dialog, dialog.sites.add_button)
    qtbot.waitUntil(editor.fields["name"].edit.hasFocus, timeout=2000)
    qtbot.keyClicks(editor.fields["name"].edit, "SHOP")  # names are unique regardless of case
    qtbot.keyClicks(editor.fields["url"].edit, "live-docs.pantheonsite.io")
    qtbot.keyClick(editor.fields["url"].edit, Qt.Key.Key_Return)  # Enter = OK, refused
    assert editor.isVisible()
    assert "already exists" in editor.fields["name"].error.text()
    assert "is not an http or https URL (no scheme)" in editor.fields["url"].error.text()
    assert editor.fields["name"].edit.hasFocus()

    type_into(qtbot, editor.fields["name"].edit, "docs")
    type_into(qtbot, editor.fields["url"].edit, "https://live-docs.pantheonsite.io/")
    type_into(qtbot, editor.fields["environment"].edit, "")  # empty means live
    qtbot.keyClick(editor.fields["url"].edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert sites_in_table(dialog)[-1] == ("docs", "https://live-docs.pantheonsite.io/", "live")
    assert dialog.collect() is not None
    assert [s.name for s in dialog.collect().sites] == ["shop", "blog", "docs"]  # type: ignore[union-attr]


def test_edit_and_remove_a_site(qtbot: Any, make_dialog: Callable[..., SettingsDialog]) -> None:
    dialog = make_dialog()
    # A row is selected from the start (issue 20): Return edits it at once.
    assert dialog.sites.edit_button.isEnabled() and dialog.sites.selected_site() is not None
    dialog.sites.table.selectRow(1)
    editor = open_editor(qtbot, dialog, dialog.sites.edit_button)
    assert editor.fields["name"].text() == "blog"
    assert editor.fields["environment"].text() == "test"
    type_into(qtbot, editor.fields["backend_url"].edit, "not a url")
    qtbot.mouseClick(editor.buttons.buttons()[0], Qt.MouseButton.LeftButton)
    assert editor.isVisible()
    assert "contains spaces" in editor.fields["backend_url"].error.text()
    type_into(qtbot, editor.fields["backend_url"].edit, "https://blog.example.org/wp-login.php")
    type_into(qtbot, editor.fields["name"].edit, "Blog")  # renaming itself (case only) is fine
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not editor.isVisible())
    blog = dialog.collect().sites[1]  # type: ignore[union-attr]
    assert (blog.name, blog.backend_url) == ("Blog", "https://blog.example.org/wp-login.php")

    # Enter in the table edits; Escape in the editor changes nothing
    dialog.sites.table.setFocus()
    dialog.sites.table.selectRow(0)
    qtbot.keyClick(dialog.sites.table, Qt.Key.Key_Return)
    editor = dialog.sites.editor
    assert editor is not None and editor.isVisible() and editor.fields["name"].text() == "shop"
    qtbot.keyClick(editor.fields["name"].edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not editor.isVisible())

    dialog.sites.table.selectRow(0)
    qtbot.mouseClick(dialog.sites.remove_button, Qt.MouseButton.LeftButton)
    assert [row[0] for row in sites_in_table(dialog)] == ["Blog"]
    qtbot.keyClick(dialog.sites.table, Qt.Key.Key_Delete)
    assert sites_in_table(dialog) == []
    assert dialog.sites.hint.isVisible()
    assert dialog.collect().sites == ()  # type: ignore[union-attr]


# --------------------------------------------------------------------------- saving


def test_save_writes_a_parseable_config_atomically_and_calls_on_saved(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], paths: Paths
) -> None:
    original = Config(sites=(SHOP,))
    save_config(original, paths.config_file)
    dialog = make_dialog(load_config(paths.config_file))
    type_into(qtbot, field(dialog, "monitor", "interval").edit, "30")
    type_into(qtbot, field(dialog, "monitor", "canaries").edit, "https://a.example/ https://b.example/")
    type_into(qtbot, field(dialog, "provider", "hotline").edit, "+1 555 0100")
    type_into(qtbot, field(dialog, "contact", "email").edit, "ops@example.org")
    type_into(qtbot, field(dialog, "provider", "ticket_timeout").edit, "2.5")

    new = click_save_and_wait(qtbot, dialog, saved)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    assert new.monitor.interval == 30.0
    assert new.monitor.canaries == ("https://a.example/", "https://b.example/")
    assert new.provider.hotline == "+1 555 0100"
    assert new.provider.ticket_timeout == 2.5
    assert new.contact == ContactConfig(email="ops@example.org")
    assert new.sites == (SHOP,)
    assert new.source == str(paths.config_file)
    # what is on disk is exactly what on_saved got, and nothing else is left behind
    assert load_config(paths.config_file) == new
    assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in paths.config_dir.iterdir()) == ["config.toml"]


def test_a_failed_write_keeps_the_old_file_and_everything_typed(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the config folder should be")
    dialog = make_dialog(config_path=blocker / "config.toml")
    type_into(qtbot, field(dialog, "contact", "name").edit, "Ada")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Could not save" in dialog.message.text())
    assert dialog.isVisible()
    assert dialog.save_button.isEnabled()
    assert field(dialog, "contact", "name").text() == "Ada"
    assert saved == []


def test_first_run_prefills_an_example_but_writes_nothing_until_save(
    qtbot: Any, paths: Paths, store: RecordingStore, saved: list[Config]
) -> None:
    dialog = open_first_run(paths=paths, store=store, on_saved=saved.append)
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    assert dialog.welcome.isVisible() and "Welcome" in dialog.welcome.text()
    assert sites_in_table(dialog) == [("my-site", "https://live-my-site.pantheonsite.io/", "live")]
    assert not paths.config_file.exists()
    new = click_save_and_wait(qtbot, dialog, saved)
    assert [s.name for s in new.sites] == ["my-site"]
    assert load_config(paths.config_file).sites == new.sites
    assert store.gui_thread_calls() == 0


def test_first_run_keeps_sites_imported_while_it_was_open(
    qtbot: Any, paths: Paths, store: RecordingStore, saved: list[Config]
) -> None:
    dialog = open_first_run(paths=paths, store=store, on_saved=saved.append)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.secrets.status is not None)
    save_config(Config(sites=(BLOG,)), paths.config_file)  # `lifeline import` meanwhile
    new = click_save_and_wait(qtbot, dialog, saved)
    assert [s.name for s in new.sites] == ["my-site", "blog"]
    assert load_config(paths.config_file) == new


# --------------------------------------------------------------------------- secrets


def test_secrets_are_stored_through_the_worker_never_on_the_gui_thread(
    qtbot: Any,
    make_dialog: Callable[..., SettingsDialog],
    saved: list[Config],
    memory_keyring: MemoryKeyring,
    paths: Paths,
    store: RecordingStore,
) -> None:
    dialog = make_dialog()
    qtbot.keyClicks(dialog.secrets.edits[TICKET_TOKEN], TOKEN)
    qtbot.keyClicks(dialog.secrets.edits[NEWRELIC_KEY], "NRAK-ABCDEFGHIJKLMNOP")
    assert dialog.secrets.edits[TICKET_TOKEN].echoMode() == QLineEdit.EchoMode.Password
    click_save_and_wait(qtbot, dialog, saved)
    assert memory_keyring.store[("lifeline", TICKET_TOKEN)] == TOKEN
    assert memory_keyring.store[("lifeline", NEWRELIC_KEY)] == "NRAK-ABCDEFGHIJKLMNOP"
    assert ("lifeline", PANTHEON_TOKEN) not in memory_keyring.store
    assert TOKEN not in paths.config_file.read_text()
    main = threading.main_thread().ident
    assert store.threads and all(t != main for t in store.threads)


class PromptingKeyring(MemoryKeyring):
    """A locked keyring: every read waits until the user 'answers the unlock prompt'."""

    def __init__(self) -> None:
        super().__init__()
        self.unlocked = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        assert self.unlocked.wait(20), "nobody unlocked the keyring"
        return super().get_password(service, username)


def test_a_keyring_waiting_for_its_unlock_prompt_never_freezes_the_dialog(
    qtbot: Any, paths: Paths, store: RecordingStore, saved: list[Config]
) -> None:
    backend = PromptingKeyring()
    backend.store[("lifeline", TICKET_TOKEN)] = TOKEN
    keyring.set_keyring(backend)
    # Were the store called on this thread, the constructor would hang here.
    dialog = SettingsDialog(Config(sites=(SHOP,)), paths=paths, store=store,
                            on_saved=saved.append)
    qtbot.addWidget(dialog)
    dialog.show()
    name = field(dialog, "contact", "name").edit
    qtbot.keyClicks(name, "Ada")  # the dialog takes input meanwhile
    assert name.text() == "Ada"
    assert dialog.secrets.states[TICKET_TOKEN].text() == "Checking the keyring…"
    backend.unlocked.set()
    qtbot.waitUntil(lambda: "Saved in keyring" in dialog.secrets.states[TICKET_TOKEN].text())
    assert store.gui_thread_calls() == 0


def test_a_saved_secret_is_shown_as_saved_never_revealed(
    make_dialog: Callable[..., SettingsDialog], memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.store[("lifeline", TICKET_TOKEN)] = TOKEN
    dialog = make_dialog()
    assert "Saved in keyring" in dialog.secrets.states[TICKET_TOKEN].text()
    assert dialog.secrets.states[PANTHEON_TOKEN].text() == "Not set."
    assert dialog.secrets.edits[TICKET_TOKEN].text() == ""
    assert dialog.secrets.forget[TICKET_TOKEN].isEnabled()
    assert dialog.secrets.keyring_notice.isHidden()
    shown = [w.text() for w in dialog.findChildren(QLabel) + dialog.findChildren(QLineEdit)]
    assert not any(TOKEN in text for text in shown)


def test_forget_deletes_the_secret_on_save(
    qtbot: Any,
    make_dialog: Callable[..., SettingsDialog],
    saved: list[Config],
    memory_keyring: MemoryKeyring,
) -> None:
    memory_keyring.store[("lifeline", PANTHEON_TOKEN)] = TOKEN
    dialog = make_dialog()
    qtbot.mouseClick(dialog.secrets.forget[PANTHEON_TOKEN], Qt.MouseButton.LeftButton)
    assert "forgotten when you save" in dialog.secrets.states[PANTHEON_TOKEN].text()
    click_save_and_wait(qtbot, dialog, saved)
    assert ("lifeline", PANTHEON_TOKEN) not in memory_keyring.store


def test_environment_override_is_explained(
    make_dialog: Callable[..., SettingsDialog], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", TOKEN)
    dialog = make_dialog()
    assert "LIFELINE_TICKET_TOKEN" in dialog.secrets.states[TICKET_TOKEN].text()


class LockedKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked(f"cannot store {password}")


def test_a_keyring_failure_keeps_the_typed_secret_and_says_why_without_it(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], paths: Paths
) -> None:
    keyring.set_keyring(LockedKeyring())
    dialog = make_dialog()
    qtbot.keyClicks(dialog.secrets.edits[TICKET_TOKEN], TOKEN)
    click_save_and_wait(qtbot, dialog, saved)  # the config itself is saved
    assert paths.config_file.exists()
    assert dialog.isVisible()
    assert dialog.tabs.currentIndex() == 4
    assert dialog.secrets.edits[TICKET_TOKEN].text() == TOKEN  # nothing typed is lost
    assert "could not save Ticket API token to the keyring (KeyringLocked)" in (
        dialog.secrets.states[TICKET_TOKEN].text()
    )
    assert TOKEN not in dialog.message.text()
    assert TOKEN not in dialog.secrets.states[TICKET_TOKEN].text()


def test_no_keyring_says_so_and_keeps_the_secret_for_this_session(
    qtbot: Any,
    make_dialog: Callable[..., SettingsDialog],
    saved: list[Config],
    paths: Paths,
    store: RecordingStore,
) -> None:
    keyring.set_keyring(fail.Keyring())
    dialog = make_dialog()
    assert not dialog.secrets.keyring_notice.isHidden()
    assert "No system keyring is available" in dialog.secrets.keyring_notice.text()
    assert "session only" in dialog.secrets.keyring_notice.text()
    check = dialog.secrets.plaintext_check
    assert not check.isHidden() and not check.isChecked()
    qtbot.keyClicks(dialog.secrets.edits[TICKET_TOKEN], TOKEN)
    click_save_and_wait(qtbot, dialog, saved)
    assert not paths.plaintext_secrets.exists()
    assert TOKEN not in paths.config_file.read_text()

    # the running app (same store) still has it, and a reopened dialog says where it is
    again = make_dialog(saved[-1])
    assert "Kept for this session only" in again.secrets.states[TICKET_TOKEN].text()
    result: list[str | None] = []
    worker = threading.Thread(target=lambda: result.append(store.get(TICKET_TOKEN)))
    worker.start()
    worker.join()
    assert result == [TOKEN]


def answer(qtbot: Any, dialog: QWidget, name: str, button_text: str) -> None:
    # closed boxes linger until deleteLater runs: take the one on screen
    boxes = [b for b in dialog.findChildren(QMessageBox, name) if b.isVisible()]
    assert len(boxes) == 1
    box = boxes[0]
    button = next(b for b in box.buttons() if b.text().replace("&", "") == button_text)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_plaintext_file_only_after_explicit_consent(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], paths: Paths
) -> None:
    keyring.set_keyring(fail.Keyring())
    dialog = make_dialog()
    check: QCheckBox = dialog.secrets.plaintext_check

    check.setChecked(True)  # ticking is not agreeing: a confirmation follows
    answer(qtbot, dialog, "plaintext_confirm", "Keep for this session only")
    qtbot.waitUntil(lambda: not check.isChecked())
    assert dialog.secrets.consent is False

    check.setChecked(True)
    answer(qtbot, dialog, "plaintext_confirm", "Store unencrypted")
    assert check.isChecked()
    qtbot.keyClicks(dialog.secrets.edits[PANTHEON_TOKEN], TOKEN)
    click_save_and_wait(qtbot, dialog, saved)
    secrets = paths.plaintext_secrets
    assert json.loads(secrets.read_text()) == {PANTHEON_TOKEN: TOKEN}
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert TOKEN not in paths.config_file.read_text()

    again = make_dialog(saved[-1])
    assert "unencrypted file" in again.secrets.states[PANTHEON_TOKEN].text()
    check = again.secrets.plaintext_check
    assert check.isChecked() and not check.isEnabled()


def test_consent_later_moves_session_secrets_into_the_file(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], paths: Paths
) -> None:
    keyring.set_keyring(fail.Keyring())
    dialog = make_dialog()
    qtbot.keyClicks(dialog.secrets.edits[TICKET_TOKEN], TOKEN)
    click_save_and_wait(qtbot, dialog, saved)
    assert not paths.plaintext_secrets.exists()

    again = make_dialog(saved[-1])
    again.secrets.plaintext_check.setChecked(True)
    answer(qtbot, again, "plaintext_confirm", "Store unencrypted")
    click_save_and_wait(qtbot, again, saved)  # nothing typed this time
    assert json.loads(paths.plaintext_secrets.read_text()) == {TICKET_TOKEN: TOKEN}


# --------------------------------------------------------------------------- from the schema


def test_the_form_is_the_schema(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog]
) -> None:
    """Every in_form key of the schema has its field, labelled and explained from there."""
    from app.config import SECTION, SECTIONS

    dialog = make_dialog()
    shown = {(f.section, f.key): f for f in dialog.all_fields()}
    wanted = {
        (s.key, k.name): k for s in SECTIONS if s.tab and not s.many
        for k in s.settings() if k.spec.in_form
    }
    assert set(shown) == set(wanted)
    for where, key in wanted.items():
        assert shown[where].label.text() == key.spec.label
        assert shown[where].edit.toolTip() == key.spec.help
        # The name holds the visible label (speech input says what it sees, issue 20);
        # the schema's longer phrasing is the name when it holds the label too, else
        # the description.
        name, longer = shown[where].edit.accessibleName(), key.spec.accessible
        assert key.spec.plain_label.lower() in name.lower()
        assert not longer or longer in (name, shown[where].edit.accessibleDescription())
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "Si&tes", *(s.tab for s in SECTIONS if s.tab and not s.many), "Secr&ets"
    ]
    editor = open_editor(qtbot, dialog, dialog.sites.add_button)
    assert list(editor.fields) == [k.name for k in SECTION["site"].settings() if k.spec.in_form]


# --------------------------------------------------------------------------- keyboard


def test_escape_closes_an_untouched_dialog_and_asks_before_discarding_edits(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config]
) -> None:
    dialog = make_dialog()
    qtbot.keyClick(field(dialog, "contact", "name").edit, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert dialog.result() == SettingsDialog.DialogCode.Rejected

    dialog = make_dialog()
    name = field(dialog, "contact", "name").edit
    qtbot.keyClicks(name, "Ada")
    qtbot.keyClick(name, Qt.Key.Key_Escape)
    assert dialog.isVisible()
    answer(qtbot, dialog, "discard_confirm", "Keep editing")
    assert dialog.isVisible() and name.text() == "Ada"
    qtbot.keyClick(name, Qt.Key.Key_Escape)
    answer(qtbot, dialog, "discard_confirm", "Discard")
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert saved == []


def test_enter_saves(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config]
) -> None:
    dialog = make_dialog()
    dialog.tabs.setCurrentIndex(3)
    name = field(dialog, "contact", "name").edit
    name.setFocus()
    qtbot.keyClicks(name, "Ada")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(saved) == 1)
    assert saved[0].contact.name == "Ada"


def test_tab_order_follows_the_form(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog]
) -> None:
    dialog = make_dialog()
    dialog.tabs.setCurrentIndex(1)
    order = [f.edit for f in dialog.form("provider").fields]
    order[0].setFocus()
    for current, following in zip(order, order[1:], strict=False):
        assert current.hasFocus()
        qtbot.keyClick(current, Qt.Key.Key_Tab)
        assert following.hasFocus()


def _mnemonic(text: str) -> str | None:
    match = re.search(r"&([^&])", text)
    return match.group(1).lower() if match else None


def test_mnemonics_are_unique_on_every_page(make_dialog: Callable[..., SettingsDialog]) -> None:
    dialog = make_dialog()
    tabs: QTabWidget = dialog.tabs
    top = [_mnemonic(tabs.tabText(i)) for i in range(tabs.count())]
    top += [_mnemonic(b.text()) for b in (dialog.save_button,)]
    for index in range(tabs.count()):
        page = tabs.widget(index)
        keys = [k for k in top if k]
        for widget in page.findChildren(QLabel) + page.findChildren(QAbstractButton):
            key = _mnemonic(widget.text())
            if key and not widget.isHidden():
                keys.append(key)
        duplicates = {k for k in keys if keys.count(k) > 1}
        assert not duplicates, f"page {tabs.tabText(index)!r} shares mnemonics {duplicates}"
    # and every field's label really is its buddy, so the mnemonic reaches the field
    for f in dialog.all_fields():
        assert f.label.buddy() is f.edit


def test_every_control_has_an_accessible_name(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog]
) -> None:
    dialog = make_dialog()
    editor = open_editor(qtbot, dialog, dialog.sites.add_button)
    controls = (QLineEdit, QAbstractButton, QTableWidget, QTabWidget, QCheckBox)
    for root in (dialog, editor):
        for widget in root.findChildren(QWidget):
            if isinstance(widget, controls) and widget.parent() is not None:
                if widget.objectName().startswith("qt_") or type(widget).__name__ in (
                    "QTabBar", "QToolButton"
                ):  # Qt's own internal parts (scroll arrows, the table's corner)
                    continue
                # What AT-SPI reads: the accessible interface's name, which must hold
                # the visible label (issue 20: speech-input users say what they see).
                face = QAccessible.queryAccessibleInterface(widget)
                name = face.text(QAccessible.Text.Name)
                assert name, f"{widget!r} {getattr(widget, 'text', str)()}"
                if isinstance(widget, QAbstractButton):
                    label = _mnemonic_free(widget.text())
                    assert label.lower() in name.lower(), (label, name)


# --------------------------------------------------------------------------- as the tray wires it


def test_saving_applies_to_the_running_monitor_without_a_restart(
    qtbot: Any, paths: Paths, store: RecordingStore, tmp_path: Path
) -> None:
    """Real monitor on the bridge's loop thread, checking the demo simulator ("down" phase).

    The dialog gets the bridge's workers and `bridge.update_config`, as ui/main passes
    them; removing the down site and saving must change what the monitor reports.
    """
    from app.demo import start_demo
    from app.history import History
    from app.models import OverallState
    from app.monitor import Monitor
    from ui.bridge import Bridge

    clock_now = [0.0]
    demo = start_demo(tmp_path / "demo", phase_seconds=10.0, clock=lambda: clock_now[0])
    clock_now[0] = 3 * 10.0 + 1.0  # the demo's "down" phase: shop down, blog editors_blocked
    history = History(tmp_path / "history.sqlite3")
    config = demo.config
    bridge = Bridge(Monitor(config, history=history), config)
    bridge.start()
    try:
        qtbot.waitUntil(lambda: bridge.snapshot.overall is OverallState.DOWN, timeout=15000)

        dialog = SettingsDialog(bridge.config, paths=paths, store=store,
                                on_saved=bridge.update_config, workers=bridge.workers)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.secrets.status is not None)
        dialog.sites.table.selectRow(0)
        assert dialog.sites.selected_site() is not None
        assert dialog.sites.selected_site().name == "shop"  # type: ignore[union-attr]
        qtbot.mouseClick(dialog.sites.remove_button, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(dialog.secrets.edits[TICKET_TOKEN], TOKEN)
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)

        assert [s.name for s in bridge.config.sites] == ["blog", "docs"]
        assert [s.name for s in load_config(demo.config_path).sites] == ["blog", "docs"]
        qtbot.waitUntil(lambda: bridge.snapshot.site("shop") is None, timeout=10000)
        qtbot.waitUntil(
            lambda: bridge.snapshot.overall is OverallState.EDITORS_BLOCKED, timeout=15000
        )
        assert store.gui_thread_calls() == 0
    finally:
        with qtbot.waitSignal(bridge.finished, timeout=10000):
            bridge.stop()
        bridge.join(5)
        history.close()
        demo.stop()


# --------------------------------------------------------------------------- changed elsewhere
# Issue 12, defect 12: Settings saved the config loaded at start-up, so sites added by
# `lifeline import` or by hand while the tray ran were lost at the next save.

DOCS = SiteConfig(name="docs", url="https://test-docs.pantheonsite.io/", environment="test")


def test_opening_shows_the_file_as_it_is_now_not_as_it_was_at_start_up(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], paths: Paths
) -> None:
    save_config(Config(sites=(SHOP,)), paths.config_file)
    at_start_up = load_config(paths.config_file)  # what the tray holds
    save_config(Config(sites=(SHOP, DOCS)), paths.config_file)  # `lifeline import` since
    dialog = make_dialog(at_start_up)
    qtbot.waitUntil(lambda: dialog.sites.table.rowCount() == 2)
    assert [row[0] for row in sites_in_table(dialog)] == ["shop", "docs"]
    assert "changed since Lifeline read it" in dialog.message.text()
    type_into(qtbot, field(dialog, "contact", "name").edit, "Ada")
    new = click_save_and_wait(qtbot, dialog, saved)
    assert [s.name for s in load_config(paths.config_file).sites] == ["shop", "docs"]
    assert new.contact.name == "Ada" and new.sites == (SHOP, DOCS)


def test_changes_made_to_the_file_while_the_dialog_is_open_are_merged_in(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], paths: Paths
) -> None:
    save_config(Config(sites=(SHOP, BLOG)), paths.config_file)
    dialog = make_dialog(load_config(paths.config_file))
    dialog.sites.table.selectRow(1)
    qtbot.mouseClick(dialog.sites.remove_button, Qt.MouseButton.LeftButton)  # blog goes
    type_into(qtbot, field(dialog, "monitor", "interval").edit, "30")
    # meanwhile: `lifeline import` adds a site, then the contact is filled in by hand
    save_config(Config(sites=(SHOP, BLOG, DOCS)), paths.config_file)
    by_hand = paths.config_file.read_text() + '\n[contact]\nemail = "ops@example.org"\n'
    paths.config_file.write_text(by_hand)

    new = click_save_and_wait(qtbot, dialog, saved)
    on_disk = load_config(paths.config_file)
    assert on_disk == new
    assert [s.name for s in on_disk.sites] == ["shop", "docs"]  # blog removed, docs kept
    assert on_disk.monitor.interval == 30.0 and on_disk.contact.email == "ops@example.org"


def test_a_conflicting_change_is_refused_once_then_save_again_keeps_the_dialogs(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], paths: Paths
) -> None:
    from dataclasses import replace

    save_config(Config(sites=(SHOP,)), paths.config_file)
    dialog = make_dialog(load_config(paths.config_file))
    type_into(qtbot, field(dialog, "monitor", "interval").edit, "30")
    theirs = load_config(paths.config_file)
    save_config(replace(theirs, monitor=replace(theirs.monitor, interval=45.0)),
                paths.config_file)

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Nothing was saved" in dialog.message.text())
    assert "monitor.interval" in dialog.message.text()
    assert saved == [] and dialog.isVisible() and dialog.save_button.isEnabled()
    assert load_config(paths.config_file).monitor.interval == 45.0
    assert field(dialog, "monitor", "interval").text() == "30"  # nothing typed is lost

    new = click_save_and_wait(qtbot, dialog, saved)
    assert new.monitor.interval == 30.0
    assert load_config(paths.config_file).monitor.interval == 30.0


def test_a_file_broken_meanwhile_is_not_replaced_without_asking(
    qtbot: Any, make_dialog: Callable[..., SettingsDialog], saved: list[Config], paths: Paths
) -> None:
    save_config(Config(sites=(SHOP,)), paths.config_file)
    dialog = make_dialog(load_config(paths.config_file))
    type_into(qtbot, field(dialog, "contact", "name").edit, "Ada")
    broken = paths.config_file.read_text().replace("timeout = ", "timeot = ")
    paths.config_file.write_text(broken)

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "press Save again to replace it" in dialog.message.text())
    assert "timeot" in dialog.message.text() and saved == []
    assert paths.config_file.read_text() == broken
    new = click_save_and_wait(qtbot, dialog, saved)
    assert load_config(paths.config_file) == new and new.contact.name == "Ada"


def _mnemonic_free(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def test_the_title_does_not_say_lifeline_twice(
    make_dialog: Callable[..., SettingsDialog]
) -> None:
    """Issue 20: Qt appends " — Lifeline" (the display name) to a title that does not end
    with it: "Lifeline Settings" became "Lifeline Settings — Lifeline"."""
    dialog = make_dialog()
    title = dialog.windowTitle()
    assert "Lifeline" not in title and title == "Settings"
