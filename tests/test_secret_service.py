"""The credential store against a real Secret Service: gnome-keyring-daemon on a private bus.

Runs a small script inside `dbus-run-session`, with a throwaway HOME whose login keyring
is created and unlocked with a known password, so it never meets the developer's keyring.
Skipped (with the reason) where the tools are missing; CI sets LIFELINE_REQUIRE_E2E=1,
which turns that skip into a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sstest-9c1e7f42ab3d5e60"

SCRIPT = r'''
import json, sys, time
import keyring
from keyring.backends import SecretService
import secretstorage

keyring.set_keyring(SecretService.Keyring())
from app.credentials import TICKET_TOKEN, PANTHEON_TOKEN, CredentialError, CredentialStore

secret = sys.argv[1]
out = {}
store = CredentialStore()
out["available"] = store.available()
out["backend"] = store.backend_name
out["stored_in"] = store.set(TICKET_TOKEN, secret)
out["same_store_reads"] = store.get(TICKET_TOKEN)
out["fresh_store_reads"] = CredentialStore().get(TICKET_TOKEN)

conn = secretstorage.dbus_init()
collection = secretstorage.get_default_collection(conn)
items = list(collection.search_items({"service": "lifeline", "username": TICKET_TOKEN}))
out["items"] = len(items)
out["item_secret"] = items[0].get_secret().decode() if items else None
out["item_label"] = items[0].get_label() if items else None

store.delete(TICKET_TOKEN)
out["after_delete"] = CredentialStore().get(TICKET_TOKEN)
out["items_after_delete"] = len(
    list(collection.search_items({"service": "lifeline", "username": TICKET_TOKEN}))
)
store.delete(PANTHEON_TOKEN)  # deleting what was never saved is not an error
out["delete_missing_ok"] = True

store.set(TICKET_TOKEN, secret)
collection.lock()  # a locked keyring: unlocking needs a prompt, which cannot show here
started = time.monotonic()
try:
    CredentialStore().get(TICKET_TOKEN)
    out["locked_error"] = None
except CredentialError as exc:
    out["locked_error"] = str(exc)
    out["locked_error_chained"] = exc.__cause__ is not None
out["locked_seconds"] = time.monotonic() - started
print("RESULT " + json.dumps(out))
'''


def _missing() -> str | None:
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt install dbus gnome-keyring)"
    if importlib.util.find_spec("secretstorage") is None:
        return "the secretstorage package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture
def secret_service_env(tmp_path: Path) -> dict[str, str]:
    reason = _missing()
    if reason:
        if os.environ.get("LIFELINE_REQUIRE_E2E") == "1":
            pytest.fail(f"LIFELINE_REQUIRE_E2E=1 but {reason}")
        pytest.skip(reason)
    home = tmp_path / "ss-home"
    runtime = tmp_path / "ss-run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DBUS_", "GNOME_KEYRING", "XDG_", "LIFELINE_"))
    }
    env.update(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(runtime),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PYTHONPATH=str(ROOT),
        NO_AT_BRIDGE="1",
    )
    env.pop("DISPLAY", None)  # no unlock prompt may pop up on the developer's screen
    env.pop("WAYLAND_DISPLAY", None)
    return env


def test_credential_store_against_gnome_keyring(
    secret_service_env: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "secret_service_script.py"
    script.write_text(SCRIPT)
    # --unlock reads the password from stdin and creates/unlocks the login keyring with it.
    shell = (
        'eval "$(printf %s keyring-test-pw | gnome-keyring-daemon --unlock --components=secrets)"'
        ' && export GNOME_KEYRING_CONTROL'
        ' && exec "$0" "$1" "$2"'
    )
    proc = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", shell, sys.executable, str(script), SECRET],
        env=secret_service_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    out: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))

    assert out["available"] is True
    assert out["backend"] == "keyring.backends.SecretService.Keyring"
    assert out["stored_in"] == "keyring"
    assert out["same_store_reads"] == SECRET
    assert out["fresh_store_reads"] == SECRET  # really in the daemon, not in our memory
    assert out["items"] == 1
    assert out["item_secret"] == SECRET
    assert SECRET not in (out["item_label"] or "")
    assert out["after_delete"] is None
    assert out["items_after_delete"] == 0
    assert out["delete_missing_ok"] is True

    assert out["locked_error"] is not None, "a locked keyring must raise, not hang or lie"
    assert "KeyringLocked" in out["locked_error"]
    assert SECRET not in out["locked_error"]
    assert out["locked_error_chained"] is False
    assert out["locked_seconds"] < 10

    # The daemon keeps its keyring encrypted on disk: the secret is nowhere in plain bytes.
    keyrings = Path(secret_service_env["XDG_DATA_HOME"]) / "keyrings"
    for path in keyrings.glob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
