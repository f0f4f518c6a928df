"""A small credential store over keyring.

Lazy (the backend is resolved on first use, never at import), errors turned into our
own CredentialError, and, when no keyring backend exists (minimal Linux desktops,
servers), a session-only memory store; a plaintext file only after the user has
explicitly agreed to it. Keyring calls may block on an unlock prompt: callers in the
UI run them on the worker thread, never on the GUI thread.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.atomic import atomic_write_text
from app.redact import register_secret

SERVICE = "lifeline"

# Secret names, and the environment variables that override them for headless use.
TICKET_TOKEN = "ticket_api_token"
PANTHEON_TOKEN = "pantheon_machine_token"
NEWRELIC_KEY = "newrelic_api_key"
ENV_OVERRIDES = {
    TICKET_TOKEN: "LIFELINE_TICKET_TOKEN",
    PANTHEON_TOKEN: "LIFELINE_PANTHEON_TOKEN",
    NEWRELIC_KEY: "LIFELINE_NEWRELIC_KEY",
}
LABELS = {
    TICKET_TOKEN: "Ticket API token",
    PANTHEON_TOKEN: "Pantheon machine token",
    NEWRELIC_KEY: "New Relic user API key",
}


class CredentialError(Exception):
    """The keyring failed; the message is safe to show (it never contains the secret)."""


class NoKeyringError(CredentialError):
    """No usable keyring backend on this system."""


ROUTE_PREFIX = "route:"


def route_secret(route_name: str) -> str:
    """The keyring name of a ticket route's secret (its key, token or webhook URL)."""
    return ROUTE_PREFIX + route_name


def route_env(route_name: str) -> str:
    """LIFELINE_ROUTE_<NAME>: upper case, every character but ASCII letters and digits
    turned into `_`, so any route name gives a usable variable name."""
    tail = "".join(c if c.isascii() and c.isalnum() else "_" for c in route_name.upper())
    return "LIFELINE_ROUTE_" + tail


def env_override(name: str) -> str | None:
    """The environment variable that overrides the secret `name`, if any."""
    if name.startswith(ROUTE_PREFIX):
        return route_env(name[len(ROUTE_PREFIX) :])
    return ENV_OVERRIDES.get(name)


def label(name: str) -> str:
    """How a person knows the secret `name` (never its value)."""
    if name.startswith(ROUTE_PREFIX):
        return f'Secret of ticket route "{name[len(ROUTE_PREFIX) :]}"'
    return LABELS.get(name, name)


def clean_secret(name: str, value: str, *, origin: str = "") -> str:
    """The secret without surrounding whitespace (a pasted no-break space, a newline from
    a file), or CredentialError naming it when what is left cannot travel in an HTTP
    header or URL: only visible ASCII can. The message never contains the value."""
    value = value.strip()
    for position, char in enumerate(value, start=1):
        if not ("!" <= char <= "~"):
            kind = (
                "a space"
                if char.isspace()
                else ("a non-ASCII character" if not char.isascii() else "a control character")
            )
            where = f" ({origin})" if origin else ""
            raise CredentialError(
                f"{label(name)}{where} contains {kind} at position {position}; "
                "paste it again as plain text"
            )
    return value


# A keyring can hang: a Secret Service waiting on an unlock prompt nobody sees, a D-Bus
# peer that never answers. No caller waits longer than this for it.
KEYRING_TIMEOUT = 15.0


class CredentialStore:
    def __init__(
        self,
        *,
        plaintext_path: Path | None = None,
        service: str = SERVICE,
        keyring_timeout: float | None = None,
    ) -> None:
        self._service = service
        self._timeout = KEYRING_TIMEOUT if keyring_timeout is None else keyring_timeout
        self._plaintext_path = plaintext_path
        self._session: dict[str, str] = {}
        self._lock = threading.Lock()
        self._backend: Any = None
        self._backend_error: str | None = None
        self._resolved = False

    # -- backend ------------------------------------------------------------------

    def _keyring(self) -> Any:
        with self._lock:
            if not self._resolved:
                self._resolved = True
                try:
                    import keyring
                    from keyring.backends import fail

                    backend = keyring.get_keyring()
                    if isinstance(backend, fail.Keyring) or _priority(backend) <= 0:
                        self._backend_error = "no system keyring is available"
                    else:
                        self._backend = backend
                except Exception as exc:  # keyring's discovery can raise anything
                    self._backend_error = f"the keyring could not be loaded ({type(exc).__name__})"
            return self._backend

    @property
    def backend_name(self) -> str:
        backend = self._keyring()
        if backend is None:
            return "none"
        return f"{type(backend).__module__}.{type(backend).__name__}"

    def available(self) -> bool:
        """True when secrets are kept by a real keyring backend."""
        return self._keyring() is not None

    @property
    def unavailable_reason(self) -> str | None:
        self._keyring()
        return self._backend_error

    @property
    def plaintext_enabled(self) -> bool:
        return self._plaintext_path is not None and self._plaintext_path.exists()

    # -- reading and writing --------------------------------------------------------

    def get(self, name: str) -> str | None:
        """The secret, from the environment override, keyring, session or plaintext file."""
        env = env_override(name)
        if env and os.environ.get(env, "").strip():
            raw = os.environ[env]
            register_secret(raw.strip())
            return clean_secret(name, raw, origin=env)
        stored = self._get_stored(name)
        if stored is None:
            return None
        register_secret(stored.strip())
        return clean_secret(name, stored) or None

    def _get_stored(self, name: str) -> str | None:
        backend = self._keyring()
        if backend is not None:
            try:
                value = self._within_timeout(backend.get_password, self._service, name)
            except CredentialError:
                raise
            except Exception as exc:
                raise CredentialError(
                    f"could not read {label(name)} from the keyring ({type(exc).__name__})"
                ) from None
            if value:
                return str(value)
        if name in self._session:
            return self._session[name]
        return self._read_plaintext().get(name)

    def set(self, name: str, value: str) -> str:
        """Store a secret. Returns where it went: 'keyring', 'session' or 'plaintext'."""
        value = clean_secret(name, value)
        if not value:
            self.delete(name)
            return "deleted"
        register_secret(value)
        backend = self._keyring()
        if backend is not None:
            try:
                self._within_timeout(backend.set_password, self._service, name, value)
            except CredentialError:
                raise
            except Exception as exc:
                raise CredentialError(
                    f"could not save {label(name)} to the keyring ({type(exc).__name__})"
                ) from None
            return "keyring"
        if self.plaintext_enabled:
            data = self._read_plaintext()
            data[name] = value
            self._write_plaintext(data)
            return "plaintext"
        self._session[name] = value
        return "session"

    def delete(self, name: str) -> None:
        self._session.pop(name, None)
        backend = self._keyring()
        if backend is not None:
            try:
                self._within_timeout(backend.delete_password, self._service, name)
            except CredentialError:
                raise
            except Exception as exc:
                if type(exc).__name__ != "PasswordDeleteError":
                    raise CredentialError(
                        f"could not delete {label(name)} from the keyring ({type(exc).__name__})"
                    ) from None
        if self.plaintext_enabled:
            data = self._read_plaintext()
            if data.pop(name, None) is not None:
                self._write_plaintext(data)

    def enable_plaintext(self) -> None:
        """Only call after the user explicitly agreed. Moves session secrets to the file."""
        if self._plaintext_path is None:
            raise CredentialError("no location for a plaintext secrets file")
        data = self._read_plaintext()
        data.update(self._session)
        self._write_plaintext(data)
        self._session.clear()

    def _within_timeout(self, call: Callable[..., Any], *args: Any) -> Any:
        """`call(*args)` on a daemon thread, given up after the keyring timeout: a hung
        keyring costs the caller (a ticket on its way to the hotline) that much, never
        more. The thread is left to finish or hang on its own."""
        outcome: list[Any] = []
        done = threading.Event()

        def run() -> None:
            try:
                outcome.append((True, call(*args)))
            except BaseException as exc:  # handed to the caller below
                outcome.append((False, exc))
            finally:
                done.set()

        threading.Thread(target=run, name="keyring-call", daemon=True).start()
        if not done.wait(self._timeout):
            raise CredentialError(
                f"the keyring did not answer within {self._timeout:g} s (locked, or waiting "
                "for an unlock prompt?)"
            )
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    # -- plaintext fallback ------------------------------------------------------------

    def _read_plaintext(self) -> dict[str, str]:
        if not self.plaintext_enabled or self._plaintext_path is None:
            return {}
        try:
            data = json.loads(self._plaintext_path.read_text("utf-8"))
        except (OSError, ValueError):
            raise CredentialError(
                f"the plaintext secrets file {self._plaintext_path} is unreadable"
            ) from None
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write_plaintext(self, data: dict[str, str]) -> None:
        assert self._plaintext_path is not None
        atomic_write_text(self._plaintext_path, json.dumps(data, indent=2), mode=0o600)


def _priority(backend: Any) -> float:
    try:
        return float(backend.priority)
    except Exception:
        return 1.0
