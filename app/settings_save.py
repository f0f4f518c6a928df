"""The Settings dialog's background work, Qt-free: it blocks (disk, keyring), so the
dialog hands each function to its worker and only paints and wires.

- `reload_config`: the file as it is now, when the dialog opens (the tray's copy may be
  older: `lifeline import` or an editor may have changed it since start-up).
- `read_secrets_status`: where secrets live and which are set (never their values).
- `save_everything`: the config, merged with changes made to the file while the dialog
  was open (never overwriting them unasked), then each secret on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.config import (
    Config,
    ConfigError,
    ConfigMissing,
    fingerprint,
    parse_config,
    read_config_text,
    save_config,
)
from app.config_merge import MergeConflict, merge
from app.credentials import (
    NEWRELIC_KEY,
    PANTHEON_TOKEN,
    TICKET_TOKEN,
    CredentialError,
    CredentialStore,
    route_secret,
)

SECRET_NAMES = (TICKET_TOKEN, PANTHEON_TOKEN, NEWRELIC_KEY)


def secret_names(config: Config) -> tuple[str, ...]:
    """Every secret the config uses: the fixed ones, then one per ticket route that has
    one (every kind but the dashboard), in config order."""
    routes = tuple(route_secret(r.name) for r in config.routes if r.kind != "dashboard")
    return SECRET_NAMES + routes


@dataclass(frozen=True)
class SecretsStatus:
    available: bool
    reason: str
    backend: str
    plaintext: bool
    saved: dict[str, bool]
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OnDisk:
    """The file when the dialog opened: its config (None: absent or broken) and why not."""

    config: Config | None
    problem: str  # one line when the file cannot be read or parsed; "" otherwise
    stamp: str | None  # fingerprint(); None when there is no file


@dataclass(frozen=True)
class SaveOutcome:
    config: Config
    stored: dict[str, str]  # secret name -> 'keyring' | 'session' | 'plaintext' | 'deleted'
    errors: dict[str, str]
    status: SecretsStatus
    merged: tuple[str, ...] = ()  # what was kept from changes made to the file meanwhile


class SaveRefused(Exception):
    """The file changed meanwhile in a way that needs the person to decide.

    `stamp` is the file's fingerprint now: saving again with `overwrite=stamp` replaces
    it (nothing else changed it since)."""

    def __init__(self, message: str, stamp: str | None) -> None:
        super().__init__(message)
        self.stamp = stamp


def reload_config(path: Path) -> OnDisk:
    try:
        stamp = fingerprint(path)
    except OSError as exc:
        return OnDisk(None, f"{path}: cannot read the file ({exc.strerror})", None)
    try:
        return OnDisk(parse_config(read_config_text(path), source=str(path)), "", stamp)
    except ConfigMissing:
        return OnDisk(None, "", None)
    except ConfigError as exc:
        return OnDisk(None, exc.one_line(), stamp)


def read_secrets_status(
    store: CredentialStore, names: tuple[str, ...] = SECRET_NAMES
) -> SecretsStatus:
    available = store.available()
    saved: dict[str, bool] = {}
    errors: dict[str, str] = {}
    for name in names:
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


def merge_with_file(base: Config, mine: Config, path: Path, *, overwrite: str | None) -> tuple[
    Config, tuple[str, ...]
]:
    """`mine`, plus what changed in the file since it read `base`. Raises SaveRefused."""
    stamp = fingerprint(path)
    if stamp is None or (overwrite is not None and stamp == overwrite):
        return mine, ()
    try:
        theirs = parse_config(read_config_text(path), source=str(path))
    except ConfigMissing:
        return mine, ()
    except ConfigError as exc:
        raise SaveRefused(
            f"{path} was changed and now has a problem ({exc.one_line()}). Nothing was "
            "saved; press Save again to replace it with these settings.",
            stamp,
        ) from None
    try:
        merged, taken = merge(base, mine, theirs)
    except MergeConflict as exc:
        raise SaveRefused(
            f"{path} was changed while Settings was open, and so were these here: "
            f"{', '.join(exc.keys)}. Nothing was saved; press Save again to keep the "
            "values shown here, or Cancel and reopen Settings to see the file's.",
            stamp,
        ) from None
    return merged, tuple(taken)


def save_everything(
    config: Config,
    path: Path,
    store: CredentialStore,
    changes: dict[str, str | None],
    plaintext_consent: bool,
    *,
    base: Config | None = None,
    overwrite: str | None = None,
) -> SaveOutcome:
    """The config first (merged with the file, atomically), then each secret on its own.

    `base`: the config the dialog started from; None saves `config` as it is."""
    merged: tuple[str, ...] = ()
    if base is not None:
        config, merged = merge_with_file(base, config, path, overwrite=overwrite)
    written = save_config(config, path)
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
    status = read_secrets_status(store, secret_names(written))
    return SaveOutcome(written, stored, errors, status, merged)
