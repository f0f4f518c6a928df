"""The Settings dialog's two jobs, run off the GUI thread: read where the secrets live
(never their values), and save the config and the changed secrets.

Qt-free, so the dialog only paints and wires: it hands these to its worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.config import Config, save_config
from app.credentials import (
    NEWRELIC_KEY,
    PANTHEON_TOKEN,
    TICKET_TOKEN,
    CredentialError,
    CredentialStore,
)

SECRET_NAMES = (TICKET_TOKEN, PANTHEON_TOKEN, NEWRELIC_KEY)


@dataclass(frozen=True)
class SecretsStatus:
    available: bool
    reason: str
    backend: str
    plaintext: bool
    saved: dict[str, bool]
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SaveOutcome:
    config: Config
    stored: dict[str, str]  # secret name -> 'keyring' | 'session' | 'plaintext' | 'deleted'
    errors: dict[str, str]
    status: SecretsStatus


def read_secrets_status(store: CredentialStore) -> SecretsStatus:
    """Runs on the worker: where secrets live, and which are set (never their values)."""
    available = store.available()
    saved: dict[str, bool] = {}
    errors: dict[str, str] = {}
    for name in SECRET_NAMES:
        try:
            saved[name] = store.get(name) is not None
        except CredentialError as exc:
            saved[name] = False
            errors[name] = str(exc)
    return SecretsStatus(
        available=available,
        reason=store.unavailable_reason or "",
        backend=store.backend_name,
        plaintext=store.plaintext_enabled,
        saved=saved,
        errors=errors,
    )


def save_everything(
    config: Config,
    path: Path,
    store: CredentialStore,
    changes: dict[str, str | None],
    plaintext_consent: bool,
) -> SaveOutcome:
    """Runs on the worker: the config first (atomically), then each secret on its own."""
    save_config(config, path)
    stored: dict[str, str] = {}
    errors: dict[str, str] = {}
    if plaintext_consent and not store.available() and not store.plaintext_enabled:
        # Also moves what was kept for this session so far into the file.
        try:
            store.enable_plaintext()
        except CredentialError as exc:
            errors["plaintext"] = str(exc)
    for name, value in changes.items():
        try:
            if value is None:
                store.delete(name)
                stored[name] = "deleted"
            else:
                stored[name] = store.set(name, value)
        except CredentialError as exc:
            errors[name] = str(exc)
    return SaveOutcome(config, stored, errors, read_secrets_status(store))
