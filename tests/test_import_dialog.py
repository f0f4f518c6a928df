"""The "Import my Pantheon sites…" dialog with pytest-qt, against the loopback Pantheon fake."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.config import Config, ProviderConfig, SiteConfig, load_config, save_config
from app.credentials import PANTHEON_TOKEN, CredentialStore
from app.paths import Paths
from tests.loopback import LoopbackServer, free_port
from tests.pantheon_fake import FakeSite, PantheonFake
from tests.recording_workers import RecordingWorkers
from ui.import_dialog import ImportDialog

TOKEN = "mt-DIALOG-PLANTED-55aa66bb77cc"
EXISTING = SiteConfig(name="Shop", url="https://shop.example.com/", newrelic_app="Shop")


@pytest.fixture
def workers() -> Iterator[RecordingWorkers]:
    made = RecordingWorkers()
    yield made
    made.shutdown()


@pytest.fixture
def account(server: LoopbackServer) -> PantheonFake:
    return PantheonFake(
        server,
        TOKEN,
        [
            FakeSite("shop", custom=("shop.example.com",)),
            FakeSite("blog", framework="wordpress", custom=("blog.example.org",)),
            FakeSite("docs", framework="drupal10"),
            FakeSite("cold", frozen=True),
        ],
    )


def make_dialog(
    qtbot: Any, config: Config, paths: Paths, workers: RecordingWorkers | None = None,
    **kwargs: Any,
) -> tuple[ImportDialog, RecordingWorkers | None]:
    store = CredentialStore(plaintext_path=paths.plaintext_secrets)
    dialog = ImportDialog(config, store=store, workers=workers, **kwargs)
    qtbot.addWidget(dialog)
    return dialog, workers


def test_shows_what_will_be_added_off_the_gui_thread(
    qtbot: Any, paths: Paths, account: PantheonFake, monkeypatch: pytest.MonkeyPatch,
    workers: RecordingWorkers,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    config = Config(provider=ProviderConfig(api=account.api), sites=(EXISTING,))
    added: list[tuple[SiteConfig, ...]] = []
    dialog, worker = make_dialog(qtbot, config, paths, workers, on_import=added.append)
    dialog.show()
    assert dialog.status.text() == "Asking Pantheon for your sites…"
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=10_000)

    assert worker and worker.threads and threading.get_ident() not in worker.threads
    assert dialog.table.rowCount() == 2
    rows = [
        tuple(dialog.table.item(r, c).text() for c in range(4))  # type: ignore[union-attr]
        for r in range(2)
    ]
    assert rows == [
        ("Blog", "Personal", "https://blog.example.org/",
         "https://blog.example.org/wp-login.php"),
        ("Docs", "Personal", "https://live-docs.pantheonsite.io/",
         "https://live-docs.pantheonsite.io/user/login"),
    ]
    notes = dialog.notes.toPlainText()
    assert "Already watched: https://shop.example.com/ (as Shop)" in notes
    assert "Not added: Cold: the site is frozen" in notes
    assert dialog.add_button.text() == "&Add 2 sites" and dialog.add_button.isEnabled()

    # Uncheck Docs: only Blog is handed over.
    dialog.table.item(1, 0).setCheckState(Qt.CheckState.Unchecked)  # type: ignore[union-attr]
    assert dialog.add_button.text() == "&Add 1 site"
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert [tuple(s.name for s in batch) for batch in added] == [("Blog",)]
    assert dialog.result() == ImportDialog.DialogCode.Accepted


def test_gui_stays_responsive_and_close_cancels_a_hanging_api(
    qtbot: Any, paths: Paths, account: PantheonFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    account.hang = True
    config = Config(provider=ProviderConfig(api=account.api))
    started = time.monotonic()
    dialog, _ = make_dialog(qtbot, config, paths, on_import=lambda sites: None)
    dialog.show()
    assert time.monotonic() - started < 0.5  # the constructor did not wait for Pantheon
    qtbot.waitUntil(lambda: bool(account.server.requests), timeout=5_000)
    assert dialog.plan is None and dialog.status.text().startswith("Asking Pantheon")
    job = dialog._job
    assert job.running
    dialog.reject()
    # The request is cancelled: the job ends well before the 120 s deadline.
    qtbot.waitUntil(lambda: not job.running, timeout=5_000)


def test_rejected_token_is_one_line(
    qtbot: Any, paths: Paths, account: PantheonFake
) -> None:
    wrong = "mt-WRONG-DIALOG-000111222333"
    CredentialStore(plaintext_path=paths.plaintext_secrets).set(PANTHEON_TOKEN, wrong)
    config = Config(provider=ProviderConfig(api=account.api))
    dialog, _ = make_dialog(qtbot, config, paths, on_import=lambda sites: None)
    qtbot.waitUntil(lambda: "rejected" in dialog.status.text(), timeout=10_000)
    assert dialog.status.text().startswith("Pantheon rejected the machine token (HTTP 401)")
    assert wrong not in dialog.status.text()
    assert not dialog.add_button.isEnabled() and dialog.table.isHidden()
    # Issue 20: the error is the status's accessible name (it hid behind "Import status"),
    # and the focused button is read by its visible label.
    assert dialog.status.accessibleName() == dialog.status.text()
    assert dialog.close_button.text().replace("&", "") in dialog.close_button.accessibleName() \
        or not dialog.close_button.accessibleName()


def test_typed_token_is_used_before_the_keyring(
    qtbot: Any, paths: Paths, account: PantheonFake
) -> None:
    config = Config(provider=ProviderConfig(api=account.api))
    dialog, _ = make_dialog(
        qtbot, config, paths, on_import=lambda sites: None, typed_token=f"  {TOKEN} "
    )
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=10_000)
    assert len(dialog.plan.added) == 3  # type: ignore[union-attr]


def test_no_token_says_where_to_put_it(qtbot: Any, paths: Paths) -> None:
    config = Config(provider=ProviderConfig(api=f"http://127.0.0.1:{free_port()}"))
    dialog, _ = make_dialog(qtbot, config, paths, on_import=lambda sites: None)
    qtbot.waitUntil(lambda: "No Pantheon machine token" in dialog.status.text(), timeout=5_000)
    assert "LIFELINE_PANTHEON_TOKEN" in dialog.status.text()


def test_unreachable_api(
    qtbot: Any, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    config = Config(provider=ProviderConfig(api=f"http://127.0.0.1:{free_port()}"))
    dialog, _ = make_dialog(qtbot, config, paths, on_import=lambda sites: None)
    qtbot.waitUntil(lambda: "reach" in dialog.status.text(), timeout=5_000)
    assert dialog.status.text() == (
        "Cannot reach the Pantheon API at 127.0.0.1 (connection refused)"
    )


def test_standalone_writes_the_config_atomically(
    qtbot: Any, tmp_path: Path, paths: Paths, account: PantheonFake,
    monkeypatch: pytest.MonkeyPatch, workers: RecordingWorkers,
) -> None:
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    path = tmp_path / "config.toml"
    save_config(Config(provider=ProviderConfig(api=account.api), sites=(EXISTING,)), path)
    config = load_config(path)
    dialog, _ = make_dialog(qtbot, config, paths, workers)
    qtbot.waitUntil(lambda: dialog.add_button.isEnabled(), timeout=10_000)
    with qtbot.waitSignal(dialog.accepted, timeout=5_000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert len(workers.threads) == 2 and threading.get_ident() not in workers.threads
    saved = load_config(path)
    assert saved.sites[0] == EXISTING
    assert [s.name for s in saved.sites] == ["Shop", "Blog", "Docs"]
    assert TOKEN not in path.read_text()


def test_settings_button_adds_sites_to_the_list_until_save(
    qtbot: Any, tmp_path: Path, paths: Paths, account: PantheonFake,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ui.settings import SettingsDialog

    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", TOKEN)
    path = tmp_path / "config.toml"
    save_config(Config(provider=ProviderConfig(api=account.api), sites=(EXISTING,)), path)
    before = path.read_text()
    saved: list[Config] = []
    settings = SettingsDialog(
        load_config(path),
        paths=paths,
        store=CredentialStore(plaintext_path=paths.plaintext_secrets),
        on_saved=saved.append,
        config_path=path,
    )
    qtbot.addWidget(settings)
    settings.show()
    qtbot.mouseClick(settings.sites.import_button, Qt.MouseButton.LeftButton)
    dialog = settings.import_dialog
    qtbot.waitUntil(lambda: dialog.add_button.isEnabled(), timeout=10_000)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    table = settings.sites.table
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert names == ["Shop", "Blog", "Docs"]
    assert "Imported 2 sites from Pantheon" in settings.message.text()
    assert path.read_text() == before  # nothing written until Save
    settings.save()
    qtbot.waitUntil(lambda: bool(saved), timeout=10_000)
    assert [s.name for s in load_config(path).sites] == ["Shop", "Blog", "Docs"]
    assert load_config(path).sites[0] == EXISTING
