"""The Settings dialog's worker jobs (app.settings_save), without Qt."""

from __future__ import annotations

from pathlib import Path

import keyring
from keyring.errors import KeyringLocked

from app.config import Config, SiteConfig, load_config
from app.credentials import NEWRELIC_KEY, PANTHEON_TOKEN, TICKET_TOKEN, CredentialStore
from app.settings_save import read_secrets_status, save_everything
from tests.memory_keyring import MemoryKeyring

SECRET = "save-test-8c1d2e3f4a5b"
CONFIG = Config(sites=(SiteConfig(name="shop", url="https://shop.test/"),))


def test_saves_the_config_and_each_secret(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    path = tmp_path / "lifeline" / "config.toml"
    store = CredentialStore()
    store.set(PANTHEON_TOKEN, "old-token")
    outcome = save_everything(
        CONFIG, path, store, {TICKET_TOKEN: SECRET, PANTHEON_TOKEN: None}, False
    )
    assert load_config(path).sites == CONFIG.sites
    assert SECRET not in path.read_text()  # secrets never reach the file
    assert outcome.stored == {TICKET_TOKEN: "keyring", PANTHEON_TOKEN: "deleted"}
    assert outcome.errors == {}
    assert outcome.status.saved == {TICKET_TOKEN: True, PANTHEON_TOKEN: False, NEWRELIC_KEY: False}
    assert store.get(TICKET_TOKEN) == SECRET


def test_one_failing_secret_does_not_stop_the_others(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    class LockedForOne(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            if username == NEWRELIC_KEY:
                raise KeyringLocked("locked")
            super().set_password(service, username, password)

    keyring.set_keyring(LockedForOne())  # the autouse fixture restores the previous one
    store = CredentialStore()
    outcome = save_everything(
        CONFIG, tmp_path / "config.toml", store, {NEWRELIC_KEY: "nr", TICKET_TOKEN: SECRET}, False
    )
    assert outcome.stored == {TICKET_TOKEN: "keyring"}
    assert set(outcome.errors) == {NEWRELIC_KEY}
    assert "nr" not in outcome.errors[NEWRELIC_KEY].split()
    assert read_secrets_status(store).saved[TICKET_TOKEN] is True
