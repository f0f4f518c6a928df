"""CredentialStore over keyring: the in-memory keyring, the fail backend, env overrides, errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from keyring.errors import KeyringLocked, PasswordDeleteError

from app.credentials import (
    NEWRELIC_KEY,
    PANTHEON_TOKEN,
    TICKET_TOKEN,
    CredentialError,
    CredentialStore,
)
from app.paths import Paths
from app.redact import redact
from tests.conftest import MemoryKeyring

SECRET = "cred-test-5b2f9e0d1c7a"


def test_keyring_round_trip(memory_keyring: MemoryKeyring) -> None:
    store = CredentialStore()
    assert store.available()
    assert store.backend_name == "tests.memory_keyring.MemoryKeyring"
    assert store.unavailable_reason is None
    assert store.get(TICKET_TOKEN) is None
    assert store.set(TICKET_TOKEN, f"  {SECRET}\n") == "keyring"  # pasted whitespace trimmed
    assert memory_keyring.store[("lifeline", TICKET_TOKEN)] == SECRET
    assert store.get(TICKET_TOKEN) == SECRET
    assert CredentialStore().get(TICKET_TOKEN) == SECRET
    store.delete(TICKET_TOKEN)
    assert store.get(TICKET_TOKEN) is None
    store.delete(TICKET_TOKEN)  # deleting again is fine (PasswordDeleteError is tolerated)


def test_setting_an_empty_value_deletes(memory_keyring: MemoryKeyring) -> None:
    store = CredentialStore()
    store.set(PANTHEON_TOKEN, SECRET)
    assert store.set(PANTHEON_TOKEN, "   ") == "deleted"
    assert ("lifeline", PANTHEON_TOKEN) not in memory_keyring.store


def test_the_backend_is_resolved_lazily_not_at_construction() -> None:
    store = CredentialStore()
    keyring.set_keyring(fail.Keyring())  # swapped after construction, before first use
    assert not store.available()


def test_a_read_secret_is_masked_in_logs(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.store[("lifeline", NEWRELIC_KEY)] = "nr-user-key-0042aa"
    assert CredentialStore().get(NEWRELIC_KEY) == "nr-user-key-0042aa"
    assert redact("sent header X-Api-Key: nr-user-key-0042aa") == "sent header X-Api-Key: ***"


# --------------------------------------------------------------------------- no keyring


def test_fail_backend_keeps_secrets_for_the_session_only(paths: Paths) -> None:
    keyring.set_keyring(fail.Keyring())
    store = CredentialStore(plaintext_path=paths.plaintext_secrets)
    assert not store.available()
    assert store.backend_name == "none"
    assert store.unavailable_reason == "no system keyring is available"
    assert store.set(TICKET_TOKEN, SECRET) == "session"
    assert store.get(TICKET_TOKEN) == SECRET
    assert not paths.plaintext_secrets.exists()  # never on disk without consent
    assert CredentialStore(plaintext_path=paths.plaintext_secrets).get(TICKET_TOKEN) is None
    store.delete(TICKET_TOKEN)
    assert store.get(TICKET_TOKEN) is None


def test_a_backend_with_no_priority_counts_as_none() -> None:
    class Useless(MemoryKeyring):
        priority = 0  # type: ignore[assignment]

    keyring.set_keyring(Useless())
    assert not CredentialStore().available()


def test_keyring_discovery_that_blows_up_is_a_reason_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> Any:
        raise RuntimeError("dbus went away")

    monkeypatch.setattr(keyring, "get_keyring", broken)
    store = CredentialStore()
    assert not store.available()
    assert store.unavailable_reason == "the keyring could not be loaded (RuntimeError)"
    assert store.set(TICKET_TOKEN, SECRET) == "session"


def test_plaintext_only_after_enable_and_mode_0600(paths: Paths) -> None:
    keyring.set_keyring(fail.Keyring())
    store = CredentialStore(plaintext_path=paths.plaintext_secrets)
    store.set(TICKET_TOKEN, SECRET)
    assert not store.plaintext_enabled
    store.enable_plaintext()  # the user agreed: session secrets move to the file
    assert store.plaintext_enabled
    file = paths.plaintext_secrets
    assert json.loads(file.read_text()) == {TICKET_TOKEN: SECRET}
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert store.set(PANTHEON_TOKEN, "other-secret") == "plaintext"
    fresh = CredentialStore(plaintext_path=file)  # the next run finds them
    assert fresh.get(TICKET_TOKEN) == SECRET
    assert fresh.get(PANTHEON_TOKEN) == "other-secret"
    fresh.delete(TICKET_TOKEN)
    assert json.loads(file.read_text()) == {PANTHEON_TOKEN: "other-secret"}
    assert stat.S_IMODE(file.stat().st_mode) == 0o600


def test_plaintext_needs_a_location() -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(CredentialError, match="no location"):
        CredentialStore().enable_plaintext()


def test_an_unreadable_plaintext_file_is_an_error_without_its_content(paths: Paths) -> None:
    keyring.set_keyring(fail.Keyring())
    paths.plaintext_secrets.parent.mkdir(parents=True, exist_ok=True)
    paths.plaintext_secrets.write_text('{"ticket_api_token": "' + SECRET)  # truncated JSON
    store = CredentialStore(plaintext_path=paths.plaintext_secrets)
    with pytest.raises(CredentialError) as info:
        store.get(TICKET_TOKEN)
    assert "is unreadable" in str(info.value)
    assert SECRET not in str(info.value)


# --------------------------------------------------------------------------- env overrides


def test_environment_overrides_the_keyring(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory_keyring.store[("lifeline", TICKET_TOKEN)] = "from-keyring"
    monkeypatch.setenv("LIFELINE_TICKET_TOKEN", "from-env-7731")
    monkeypatch.setenv("LIFELINE_PANTHEON_TOKEN", "")  # empty does not override
    memory_keyring.store[("lifeline", PANTHEON_TOKEN)] = "pantheon-from-keyring"
    store = CredentialStore()
    assert store.get(TICKET_TOKEN) == "from-env-7731"
    assert store.get(PANTHEON_TOKEN) == "pantheon-from-keyring"
    assert redact("token from-env-7731 used") == "token *** used"


def test_environment_override_works_without_any_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("LIFELINE_NEWRELIC_KEY", "nr-env-key-1")
    assert CredentialStore().get(NEWRELIC_KEY) == "nr-env-key-1"


# --------------------------------------------------------------------------- errors


class BrokenKeyring(MemoryKeyring):
    """A keyring whose every call fails, with the secret in the backend's own message."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked(f"locked while reading {username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked(f"cannot store {password!r}")

    def delete_password(self, service: str, username: str) -> None:
        raise OSError(f"dbus error deleting {username}")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.get(TICKET_TOKEN), "could not read {} from the keyring (KeyringLocked)"),
        (lambda s: s.set(TICKET_TOKEN, SECRET), "could not save {} to the keyring (KeyringLocked)"),
        (lambda s: s.delete(TICKET_TOKEN), "could not delete {} from the keyring (OSError)"),
    ],
)
def test_backend_errors_become_credential_errors_without_the_secret(
    call: Any, message: str
) -> None:
    keyring.set_keyring(BrokenKeyring())
    store = CredentialStore()
    with pytest.raises(CredentialError) as info:
        call(store)
    assert str(info.value) == message.format("Ticket API token")
    assert SECRET not in str(info.value)
    # not chained: a traceback printed from it cannot leak the backend's message either
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_a_missing_entry_on_delete_is_not_an_error() -> None:
    class Strict(MemoryKeyring):
        def delete_password(self, service: str, username: str) -> None:
            raise PasswordDeleteError("not found")

    keyring.set_keyring(Strict())
    CredentialStore().delete(TICKET_TOKEN)


def test_no_secret_in_the_plaintext_path_message(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    target = tmp_path / "secrets.json"
    target.write_bytes(b"\xff\xfe not json")
    with pytest.raises(CredentialError, match=r"secrets\.json is unreadable"):
        CredentialStore(plaintext_path=target).get(TICKET_TOKEN)
