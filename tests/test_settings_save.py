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


def test_a_site_imported_meanwhile_is_kept_and_a_conflict_refused_until_acknowledged(
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    import pytest

    from app.config import MonitorConfig, save_config
    from app.settings_save import SaveRefused, reload_config

    path = tmp_path / "config.toml"
    save_config(CONFIG, path)
    base = reload_config(path).config
    assert base is not None
    imported = SiteConfig(name="docs", url="https://docs.test/")
    save_config(replace(CONFIG, sites=(*CONFIG.sites, imported)), path)  # `lifeline import`
    mine = replace(base, monitor=MonitorConfig(interval=30.0))
    outcome = save_everything(mine, path, CredentialStore(), {}, False, base=base)
    assert outcome.merged == ("site 'docs'",)
    assert load_config(path).sites == (*CONFIG.sites, imported)
    assert load_config(path).monitor.interval == 30.0

    theirs = load_config(path)
    save_config(replace(theirs, monitor=MonitorConfig(interval=45.0)), path)
    again = replace(theirs, monitor=MonitorConfig(interval=20.0))
    with pytest.raises(SaveRefused) as refused:
        save_everything(again, path, CredentialStore(), {}, False, base=theirs)
    assert "monitor.interval" in str(refused.value)
    assert load_config(path).monitor.interval == 45.0
    save_everything(again, path, CredentialStore(), {}, False, base=theirs,
                    overwrite=refused.value.stamp)
    assert load_config(path).monitor.interval == 20.0


def test_a_broken_or_unreadable_file_is_reported_in_one_line(tmp_path: Path) -> None:
    from app.settings_save import reload_config

    path = tmp_path / "config.toml"
    assert reload_config(path).config is None and reload_config(path).problem == ""
    path.write_text("[monitor]\ntimeot = 3\n")
    on_disk = reload_config(path)
    assert on_disk.config is None and on_disk.stamp is not None
    assert "monitor.timeot: unknown key" in on_disk.problem
    assert "\n" not in on_disk.problem
